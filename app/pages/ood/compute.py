"""Per-process state of /ood: the field's measurements (cached on disk) and what the page draws.

Everything comes from :class:`fooling.analysis.WorkspaceAnalysis` (``ood_report``,
``ood_examples``, ``alpha_ray``, ``fgsm``); the one thing measured here is which held-out
digits a network maps to the origin of its 2-unit layer along the whole alpha-ray (the
ReLU theorem's exception), a forward pass of those digits at each alpha of the ray.
"""

from __future__ import annotations

import numpy as np

from fooling.attacks import GOODFELLOW_2015
from fooling.lazy import cached
from fooling.network import forward, predict_proba_from
from fooling.ood import METRICS, SCORES
from fooling.oodsets import FAR_SETS, NEAR_SETS

from .figures import make_alpha_ray_figure, make_examples_figure
from .formats import pct, pixel_span

__all__ = ["CONFIDENT", "DEFAULT_METRIC", "DEFAULT_NETWORK", "DEFAULT_RAY_VALUE", "FGSM_LABELS",
           "METRIC_LABELS", "MODEL_COLORS", "NETWORK_LABELS", "PUBLISHED_LABELS", "RAY_LABELS", "RAY_LEGEND",
           "RAY_VALUES", "SCORE_LABELS", "SET_LABELS", "State", "TILE_LABELS", "display_pixels", "tile_range"]

NETWORK_LABELS = {"identity": "identity", "tanh": "tanh", "relu": "ReLU"}
"""The 0-3 networks measured (:data:`fooling.measures.OOD_NETWORKS`), as the page names them."""
SCORE_LABELS = {"msp": "max probability", "energy": "energy", "mahalanobis": "Mahalanobis",
                "hidden_density": "hidden density", "image_density": "image density", "rbf_head": "RBF head"}
TILE_LABELS = {"uniform_noise": "uniform<br>noise", "gaussian_noise": "Gaussian<br>noise",
               "permuted": "permuted<br>pixels", "fooling_images": "fooling<br>images"}
"""Column titles of the examples figure where :data:`SET_LABELS` is too wide for a tile."""
SET_LABELS = {"near_digits_4_9": "digits 4-9", "uniform_noise": "uniform noise", "gaussian_noise": "Gaussian noise",
              "permuted": "permuted pixels", "alpha_2": "×2", "alpha_5": "×5", "alpha_10": "×10",
              "alpha_100": "×100", "fooling_images": "fooling images"}
METRIC_LABELS = {"auroc": "AUROC", "fpr95": "FPR@95", "aupr_in": "AUPR-In", "aupr_out": "AUPR-Out"}
RAY_LABELS = {"identity": "identity net", "identity_rbf_head": "identity net, RBF head",
              "tanh": "tanh net", "tanh_rbf_head": "tanh net, RBF head",
              "relu": "ReLU net", "relu_rbf_head": "ReLU net, RBF head"}
RAY_LEGEND = {"identity": "identity", "identity_rbf_head": "identity RBF", "tanh": "tanh", "tanh_rbf_head": "tanh RBF",
              "relu": "ReLU", "relu_rbf_head": "ReLU RBF"}
"""The alpha-ray chart's legend (short: it has to fit a phone)."""
FGSM_LABELS = {**RAY_LABELS, "neurons": "784-64-64-10 (digits 0-9)"}
PUBLISHED_LABELS = {"shallow_softmax": "shallow softmax", "maxout": "maxout network",
                    "shallow_rbf": "shallow RBF network"}
MODEL_COLORS = {"identity": "#8c564b", "tanh": "#9467bd", "relu": "#2ca02c", "neurons": "#1f77b4"}
"""Line colour of each network (its RBF head: the same colour, dashed)."""
RAY_VALUES = {"mean": "mean top probability", "share": "share of digits at ≥ 99%"}
CONFIDENT = 0.99
"""The alpha-ray's 'confident' threshold (:func:`fooling.rays.alpha_ray`'s default)."""
DEFAULT_METRIC, DEFAULT_NETWORK, DEFAULT_RAY_VALUE = "auroc", "identity", "mean"
assert set(METRIC_LABELS) == set(METRICS) and set(SCORE_LABELS) == set(SCORES)
assert set(SET_LABELS) == set(NEAR_SETS + FAR_SETS)


def tile_range(image: np.ndarray) -> tuple[float, float]:
    """The grey range a tile is drawn on: [0, 1], stretched to the image's own pixels when they leave it."""
    img = np.asarray(image, dtype=float)
    return min(0.0, float(img.min())), max(1.0, float(img.max()))


def display_pixels(image: np.ndarray) -> np.ndarray:
    """``image`` mapped from its :func:`tile_range` onto [0, 1] (black to white), float32."""
    lo, hi = tile_range(image)
    return ((np.asarray(image, dtype=float) - lo) / (hi - lo)).astype(np.float32)


class State:
    """Everything /ood shows, read once from the workspace's cached measurements."""

    def __init__(self, res):
        self.res = res
        self.analysis = res.analysis

    # ---- the measurements -------------------------------------------------------------------

    @cached
    def report(self) -> dict:
        """:meth:`fooling.analysis.WorkspaceAnalysis.ood_report` (metrics, mean max probability, n)."""
        return self.analysis.ood_report()

    @cached
    def rays(self) -> dict:
        """:meth:`fooling.analysis.WorkspaceAnalysis.alpha_ray`, in :data:`RAY_LABELS` order."""
        r = self.analysis.alpha_ray()
        return {k: r[k] for k in RAY_LABELS if k in r}

    @cached
    def fgsm(self) -> dict:
        """:meth:`fooling.analysis.WorkspaceAnalysis.fgsm`, in :data:`FGSM_LABELS` order."""
        f = self.analysis.fgsm()
        return {k: f[k] for k in FGSM_LABELS if k in f}

    @cached
    def examples(self) -> dict:
        """:meth:`fooling.analysis.WorkspaceAnalysis.ood_examples`."""
        return self.analysis.ood_examples()

    @property
    def published(self) -> dict:
        """Goodfellow, Shlens & Szegedy's FGSM numbers (:data:`fooling.attacks.GOODFELLOW_2015`)."""
        return GOODFELLOW_2015

    @cached
    def source(self) -> str:
        """Where the MNIST digits come from (the workspace's description)."""
        return str(self.res.workspace.source)

    @cached
    def networks(self) -> tuple[str, ...]:
        return tuple(n for n in NETWORK_LABELS if n in self.report["metrics"])

    @cached
    def near_sets(self) -> tuple[str, ...]:
        first = self.report["metrics"][self.networks[0]]["msp"]
        return tuple(s for s in NEAR_SETS if s in first)

    @cached
    def far_sets(self) -> tuple[str, ...]:
        first = self.report["metrics"][self.networks[0]]["msp"]
        return tuple(s for s in FAR_SETS if s in first)

    @cached
    def n_test(self) -> dict[str, int]:
        """Held-out digits each FGSM model is attacked on."""
        return {n: int(len(self.res.workspace.mnist[n.removesuffix("_rbf_head")].split.y_test)) for n in self.fgsm}

    @cached
    def origin(self) -> dict[str, dict]:
        """Per network of :attr:`rays`: the held-out digits its 2-unit layer maps to exactly 0
        at every alpha of the ray.

        Each dict: ``n`` (digits on the ray), ``count`` (at the origin throughout), ``labels``
        (their true labels, sorted, distinct), ``predicted`` and ``probability`` (the net's
        answer at the origin, the same for every alpha), ``share_others`` (of the other digits,
        the share at least :data:`CONFIDENT` sure at the largest alpha; None if there are none).
        """
        out = {}
        for n in self.networks:
            if n not in self.rays:
                continue
            m = self.res.workspace.mnist[n]
            X, y = np.asarray(m.split.X_test, dtype=float), np.asarray(m.split.y_test)
            alphas = self.rays[n]["alpha"]
            stuck = np.ones(len(X), dtype=bool)
            for a in alphas:
                stuck &= np.all(forward(m.net, a * X, m.hidden_layer) == 0, axis=1)
            p0 = predict_proba_from(m.net, np.zeros((1, m.net.sizes[m.hidden_layer])), m.hidden_layer)[0]
            top = forward(m.net, alphas[-1] * X[~stuck]).max(axis=1) if (~stuck).any() else np.array([])
            out[n] = {"n": int(len(X)), "count": int(stuck.sum()),
                      "labels": sorted({int(v) for v in y[stuck]}),
                      "predicted": int(m.net.classes[int(np.argmax(p0))]), "probability": float(p0.max()),
                      "share_others": float(np.mean(top >= CONFIDENT)) if len(top) else None}
        return out

    @cached
    def far_answers(self) -> dict[str, dict]:
        """Per RBF head of :attr:`rays` on an unbounded plane: its answer far from every training
        encoding (``predicted``, ``probability``), read at the centroid plus 10^3 data radii along
        the diagonal (every kernel value is 0 in float64 there; the answer is the same in every
        direction). Bounded planes (tanh) have no far away and are left out."""
        out = {}
        for k in self.rays:
            net = k.removesuffix("_rbf_head")
            if net == k:
                continue
            p = self.analysis.plane(net)
            lo, hi = self.res.workspace.mnist[net].inverter.codomain
            if np.isfinite(lo) and np.isfinite(hi):
                continue
            h = np.asarray(p.centroid, dtype=float) + 1e3 * float(p.radius) * np.ones(2) / np.sqrt(2)
            proba = p.head.predict_proba(h[None])[0]
            out[k] = {"predicted": int(p.head.classes_[int(np.argmax(proba))]), "probability": float(proba.max())}
        return out

    # ---- what the page draws ----------------------------------------------------------------

    @cached
    def ray_figures(self) -> dict:
        """The alpha-ray chart for each of :data:`RAY_VALUES`."""
        bound = self.rays.get("tanh", {}).get("top_probability_bound")
        out = {}
        for value, title in RAY_VALUES.items():
            key = "mean_top_probability" if value == "mean" else "share_confident"
            curves = {k: {"alpha": r["alpha"], "y": r[key]} for k, r in self.rays.items()}
            low = min(min(c["y"]) for c in curves.values())
            y_range = (max(0.0, np.floor(10 * low - 0.5) / 10), 1.01) if value == "mean" else (-0.02, 1.02)
            out[value] = make_alpha_ray_figure(
                curves, labels=RAY_LEGEND, colors={k: MODEL_COLORS[k.removesuffix("_rbf_head")] for k in curves},
                dashed={k for k in curves if k.endswith("_rbf_head")}, y_title=title, y_range=y_range,
                bound=(bound, "tanh bound") if value == "mean" and bound is not None else None,
                uirevision=f"ood-rays-{value}")
        return out

    @cached
    def example_columns(self) -> dict[str, list[dict]]:
        """Per network: the tiles of the examples figure, one list per set (near, then far).

        Every tile is ``{"pixels": float32 (784,) in [0, 1], "range": (lo, hi), "predicted",
        "probability"}``; a network's ``fooling_images`` column holds its own fooling images.
        """
        ex = self.examples
        images = ex["images"]
        out = {}
        for net in self.networks:
            cols = []
            for s in self.near_sets + self.far_sets:
                tiles = []
                for i, e in enumerate(ex["entries"]):
                    if e["set"] != s or (e["source"] is not None and e["source"] != net):
                        continue
                    a = e["answers"][net]
                    tiles.append({"pixels": display_pixels(images[i]), "range": tile_range(images[i]),
                                  "predicted": int(a["predicted"]), "probability": float(a["probability"])})
                cols.append({"set": s, "tiles": tiles})
            out[net] = cols
        return out

    @cached
    def example_figures(self) -> dict:
        """The examples figure for each network."""
        out = {}
        for net, cols in self.example_columns.items():
            rows = max(len(c["tiles"]) for c in cols)
            n_pix = len(self.examples["images"][0])
            images = np.full((rows, len(cols), n_pix), np.nan, dtype=np.float32)
            captions = [["" for _ in cols] for _ in range(rows)]
            confident = np.zeros((rows, len(cols)), dtype=bool)
            for j, c in enumerate(cols):
                for i, t in enumerate(c["tiles"]):
                    images[i, j] = t["pixels"]
                    captions[i][j] = f"{t['predicted']} · {pct(t['probability'])}"
                    confident[i, j] = t["probability"] >= CONFIDENT
            titles = [f"{TILE_LABELS.get(c['set'], SET_LABELS[c['set']])}<br>"
                      f"{pixel_span([t['range'] for t in c['tiles']])}" for c in cols]
            out[net] = make_examples_figure(images, titles, captions, confident, uirevision=f"ood-examples-{net}")
        return out

    def warm(self) -> "State":
        _ = (self.source, self.n_test, self.report, self.rays, self.fgsm, self.examples, self.origin, self.far_answers, self.ray_figures,
             self.example_figures)
        return self
