"""The field's measurements of the 0-3 networks, computed once and cached on disk.

:class:`FieldMeasures` is a part of :class:`fooling.analysis.WorkspaceAnalysis` (its base
class): the out-of-distribution tables of :mod:`fooling.ood` on the sets of
:mod:`fooling.oodsets` (with example images for a page to show), Hein's alpha-ray
(:mod:`fooling.rays`) and the FGSM table (:mod:`fooling.attacks`), each stored as an
``.npz`` under the workspace's key (data fingerprint, every model's key, version) and the
computation's own parameters. It relies on the analysis's ``ws``, ``plane``,
``image_density`` and ``_file``.
"""

from __future__ import annotations

import numpy as np

from . import oodsets, store
from .attacks import FGSM_EPS, fgsm_table
from .gradients import head_gradient, network_gradient
from .lazy import cached
from .network import forward, predict_proba_from
from .ood import METRICS, SCORES, Scorer, TiedGaussian
from .rays import ALPHAS, alpha_ray, top_probability_bound

__all__ = ["FieldMeasures", "N_EXAMPLES", "OOD_NETWORKS"]

OOD_NETWORKS = ("identity", "tanh", "relu")
"""The 0-3 networks whose out-of-distribution scores, alpha-rays and FGSM tables are measured."""

N_EXAMPLES = 4
"""Example images kept per out-of-distribution set (per network for ``fooling_images``)."""

_json = store.jsonable


def _cached_npz(path, build, check=None) -> tuple[dict, dict]:
    arrays, meta, _ = store.load_or_build(path, build, check)
    return arrays, meta


class FieldMeasures:
    """Mixin of :class:`fooling.analysis.WorkspaceAnalysis`: OOD tables, alpha-ray, FGSM."""

    def _ood_networks(self) -> list[str]:
        return [n for n in OOD_NETWORKS if n in self.ws.mnist]

    def scorer(self, name: str) -> Scorer:
        """Every out-of-distribution score of network ``name`` (:class:`fooling.ood.Scorer`)."""
        m, a = self.ws.mnist[name], self.plane(name)
        tied = TiedGaussian().fit(m.train_hidden, m.split.y_train)
        return Scorer(m.net, m.hidden_layer, tied, a.density, self.image_density(name), a.head)

    def _ood_build(self) -> tuple[dict, dict]:
        names = self._ood_networks()
        m0 = self.ws.mnist[names[0]]
        X_in = np.asarray(m0.split.X_test, dtype=float)
        sets = oodsets.far_sets(X_in, m0.split.X_train)
        if "neurons" in self.ws.mnist:
            sets["near_digits_4_9"] = np.asarray(oodsets.near_digits(self.ws), dtype=float)
        own = {n: {"fooling_images": oodsets.fooling_images(self.ws.mnist[n], len(X_in))[0]} for n in names}
        scorers = {n: self.scorer(n) for n in names}
        report = oodsets.evaluate(scorers, X_in, sets, own)
        images, entries = [], []
        for set_name in oodsets.SETS:
            sources = [(n, own[n][set_name]) for n in names] if set_name in own[names[0]] else \
                [(None, sets[set_name])] if set_name in sets else []
            for source, X in sources:
                for i in range(min(N_EXAMPLES, len(X))):
                    images.append(X[i])
                    entries.append({"set": set_name, "source": source, "index": i,
                                    "answers": {n: _answer(scorers[n], X[i]) for n in names}})
        arrays = {"images": np.array(images, dtype=np.float32).reshape(-1, m0.net.sizes[0])}
        return arrays, _json({"report": report, "examples": entries})

    @cached
    def _ood_stored(self) -> tuple[dict, dict]:
        params = (self._ood_networks(), list(oodsets.SETS), oodsets.SEEDS, list(oodsets.FOOLING_RADII),
                  oodsets.TANH_EDGE, N_EXAMPLES)
        return _cached_npz(self._file("ood", *params), self._ood_build,
                           lambda a, m: (a["images"], m["report"]["metrics"]))

    def ood_report(self) -> dict:
        """The out-of-distribution measurements, cached: ``metrics`` (:meth:`ood`),
        ``mean_max_probability`` and ``n`` (``{network: {"in" or set: value}}``)."""
        r = self._ood_stored[1]["report"]
        order = [*OOD_NETWORKS, *SCORES, "in", *oodsets.SETS, *METRICS]
        return {**r, **{k: _in_order(r[k], order) for k in ("metrics", "mean_max_probability", "n")}}

    def ood(self) -> dict:
        """``{network: {score: {set: {"auroc", "fpr95", "aupr_in", "aupr_out"}}}}`` for the
        networks of :data:`OOD_NETWORKS`, the scores of :data:`fooling.ood.SCORES` and the
        sets of :data:`fooling.oodsets.SETS` (cached on disk)."""
        return self.ood_report()["metrics"]

    def ood_examples(self) -> dict:
        """A few images of each out-of-distribution set and every network's answer (cached).

        Returns
        -------
        dict
            ``images``: ndarray of shape (m, 784), float32, pixels as made (the alpha sets
            and fooling images leave [0, 1]); ``entries``: list of m dicts, one per image,
            ``{"set": str, "source": network or None (the network whose fooling image it
            is), "index": int, "answers": {network: {"predicted": int, "probability":
            float, "hidden": [x, y], "scores": {score: float or None}}}}``; a score is
            None where it is not finite (the image density of a pixel outside [0, 1]).
        """
        arrays, meta = self._ood_stored
        return {"images": arrays["images"], "entries": meta["examples"]}

    def alpha_ray(self, alphas: np.ndarray = ALPHAS) -> dict:
        """Hein's alpha-ray (:func:`fooling.rays.alpha_ray`) over the held-out 0-3 digits, cached.

        Returns
        -------
        dict
            ``{name: {"alpha", "mean_top_probability", "share_confident",
            "top_probability_bound"}}`` for each network of :data:`OOD_NETWORKS` and its
            RBF head (``<network>_rbf_head``). ``top_probability_bound`` is the largest
            top probability the tanh net gives anywhere in its plane (None elsewhere).
        """
        def build():
            out = {}
            for n in self._ood_networks():
                m, head = self.ws.mnist[n], self.plane(n).head
                X = np.asarray(m.split.X_test, dtype=float)
                out[n] = alpha_ray(lambda Z, m=m: forward(m.net, Z), X, alphas)
                lo, hi = m.inverter.codomain
                bound = None
                if np.isfinite(lo) and np.isfinite(hi):
                    bound = top_probability_bound(lambda H, m=m: predict_proba_from(m.net, H, m.hidden_layer),
                                                  (lo, hi, lo, hi))
                out[n]["top_probability_bound"] = bound
                out[f"{n}_rbf_head"] = {**alpha_ray(head.predict_proba_images, X, alphas),
                                        "top_probability_bound": None}
            return {}, {"rays": _json(out)}

        _, meta = _cached_npz(self._file("alpha-ray", self._ood_networks(), np.asarray(alphas).tolist()),
                              build, lambda a, m: m["rays"])
        return _in_order(meta["rays"], [k for n in OOD_NETWORKS for k in (n, f"{n}_rbf_head")])

    def fgsm(self, eps: tuple[float, ...] = FGSM_EPS) -> dict:
        """FGSM on the held-out digits (:func:`fooling.attacks.fgsm_table`), cached.

        Returns
        -------
        dict
            ``{name: {str(eps): {"error", "mean_confidence_on_mistakes"}}}`` for the
            networks of :data:`OOD_NETWORKS`, their RBF heads (``<network>_rbf_head``, the
            gradient through the network into the head) and the 784-64-64-10 net
            (``neurons``, all ten digits).
        """
        def build():
            out = {}
            for n in self._ood_networks() + (["neurons"] if "neurons" in self.ws.mnist else []):
                m = self.ws.mnist[n]
                X, y = np.asarray(m.split.X_test, dtype=float), m.split.y_test
                out[n] = fgsm_table(lambda Z, m=m: forward(m.net, Z),
                                    lambda Z, t, m=m: network_gradient(m.net, Z, t)[1], m.net.classes, X, y, eps)
                if n == "neurons":
                    continue
                head = self.plane(n).head
                out[f"{n}_rbf_head"] = fgsm_table(
                    head.predict_proba_images,
                    lambda Z, t, m=m, head=head: head_gradient(head, m.net, m.hidden_layer, Z, t)[1],
                    head.classes_, X, y, eps)
            return {}, {"fgsm": _json(out)}

        _, meta = _cached_npz(self._file("fgsm", self._ood_networks(), list(eps)), build,
                              lambda a, m: m["fgsm"])
        order = [k for n in OOD_NETWORKS for k in (n, f"{n}_rbf_head")] + ["neurons"] + [str(float(e)) for e in eps]
        return _in_order(meta["fgsm"], order)


def _in_order(d, order: list[str]):
    """``d`` with the keys of its nested dicts in ``order`` (the cache's JSON sorts them)."""
    if not isinstance(d, dict):
        return d
    rank = {k: i for i, k in enumerate(order)}
    keys = sorted(d, key=lambda k: (rank.get(k, len(rank)), k))
    return {k: _in_order(d[k], order) for k in keys}


def _answer(scorer: Scorer, x: np.ndarray) -> dict:
    """One network's answer to one image: prediction, probability, encoding and scores."""
    p = scorer.proba(x[None])[0]
    k = int(np.argmax(p))
    scores = scorer.scores(x[None])
    return {"predicted": int(scorer.net.classes[k]), "probability": float(p[k]),
            "hidden": forward(scorer.net, x, scorer.layer).tolist(),
            "scores": {s: (float(scores[s][0]) if np.isfinite(scores[s][0]) else None) for s in SCORES}}
