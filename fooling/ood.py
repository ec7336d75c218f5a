"""Out-of-distribution detection measured as the field does: OpenOOD's four metrics.

In-distribution inputs are the positive class and every score is oriented so that
**higher means more in-distribution**. For in-distribution scores ``s_in`` and
out-of-distribution scores ``s_out``:

* ``auroc`` — area under the ROC curve: the probability that a random in-distribution
  input scores above a random OOD one (ties count one half);
* ``fpr95`` — false positive rate at 95% true positive rate: the share of OOD inputs
  accepted by the threshold that accepts 95% of the in-distribution inputs (the first
  ROC point whose TPR reaches 0.95);
* ``aupr_in`` — area under the precision-recall curve with in-distribution positive;
* ``aupr_out`` — the same with OOD positive and the score negated.

The curves come from ``sklearn.metrics.roc_curve`` and ``precision_recall_curve`` (all
thresholds kept) and the areas from ``sklearn.metrics.auc`` (trapezoids), as OpenOOD
(``openood/evaluators/metrics.py``) computes them. Infinite scores are allowed (an image
density is ``-inf`` outside the pixel range): they are ranked below (or above) every
finite score before the curves are drawn.

The scores of a network with a 2-unit hidden layer (:data:`SCORES`, all from
:class:`Scorer`):

* ``msp`` — maximum softmax probability;
* ``energy`` — ``logsumexp`` of the logits (Liu et al., NeurIPS 2020: minus the energy);
* ``mahalanobis`` — minus the smallest Mahalanobis distance of the encoding to a class
  mean, with one covariance shared by the classes (:class:`TiedGaussian`; Lee et al.,
  NeurIPS 2018, on the 2-unit layer; their squared distance ranks the same);
* ``hidden_density`` — log-density of the encoding under the Gaussian mixture on the
  training encodings (:class:`fooling.density.DensityCheck`);
* ``image_density`` — log-density of the image (:class:`fooling.density.ImageDensityCheck`,
  ``-inf`` for a pixel outside [0, 1]);
* ``rbf_head`` — the top probability of the RBF head on the encoding
  (:class:`fooling.heads.RBFHead`).

The evaluation sets are made by :mod:`fooling.oodsets`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np

from .network import Network, forward, logits_from

__all__ = ["METRICS", "SCORES", "Scorer", "TiedGaussian", "aupr_in", "aupr_out", "auroc",
           "format_scores", "fpr_at_tpr", "ood_metrics", "score_report"]

METRICS = ("auroc", "fpr95", "aupr_in", "aupr_out")
"""The metrics of :func:`ood_metrics`, in order."""

SCORES = ("msp", "energy", "mahalanobis", "hidden_density", "image_density", "rbf_head")
"""The scores of :meth:`Scorer.scores`, in order."""


def _labelled(score_in, score_out) -> tuple[np.ndarray, np.ndarray]:
    """Labels (1 = in-distribution) and finite scores with the ranking of the given ones."""
    a = np.asarray(score_in, dtype=float).reshape(-1)
    b = np.asarray(score_out, dtype=float).reshape(-1)
    if not len(a) or not len(b):
        raise ValueError("need at least one in-distribution and one out-of-distribution score")
    s = np.concatenate([a, b])
    if np.isnan(s).any():
        raise ValueError("scores must not be NaN")
    finite = s[np.isfinite(s)]
    lo, hi = (finite.min(), finite.max()) if len(finite) else (0.0, 0.0)
    step = max(1.0, hi - lo)
    s = np.where(s == -np.inf, lo - step, np.where(s == np.inf, hi + step, s))
    return np.concatenate([np.ones(len(a)), np.zeros(len(b))]), s


def auroc(score_in, score_out) -> float:
    """Area under the ROC curve, in-distribution positive (0.5: no better than chance)."""
    from sklearn.metrics import auc, roc_curve

    y, s = _labelled(score_in, score_out)
    fpr, tpr, _ = roc_curve(y, s, drop_intermediate=False)
    return float(auc(fpr, tpr))


def fpr_at_tpr(score_in, score_out, tpr: float = 0.95) -> float:
    """Share of OOD inputs accepted at the first threshold accepting ``tpr`` of the in-distribution ones."""
    from sklearn.metrics import roc_curve

    y, s = _labelled(score_in, score_out)
    fpr, tp, _ = roc_curve(y, s, drop_intermediate=False)
    return float(fpr[int(np.argmax(tp >= tpr))])


def aupr_in(score_in, score_out) -> float:
    """Area under the precision-recall curve, in-distribution positive."""
    from sklearn.metrics import auc, precision_recall_curve

    y, s = _labelled(score_in, score_out)
    precision, recall, _ = precision_recall_curve(y, s)
    return float(auc(recall, precision))


def aupr_out(score_in, score_out) -> float:
    """Area under the precision-recall curve, OOD positive (scores negated)."""
    from sklearn.metrics import auc, precision_recall_curve

    y, s = _labelled(score_in, score_out)
    precision, recall, _ = precision_recall_curve(1 - y, -s)
    return float(auc(recall, precision))


def ood_metrics(score_in, score_out) -> dict[str, float]:
    """All of :data:`METRICS`: ``{"auroc", "fpr95", "aupr_in", "aupr_out"}``.

    Parameters
    ----------
    score_in : array-like of shape (n_in,)
        Scores of in-distribution inputs (higher = more in-distribution).
    score_out : array-like of shape (n_out,)
    """
    return {"auroc": auroc(score_in, score_out), "fpr95": fpr_at_tpr(score_in, score_out),
            "aupr_in": aupr_in(score_in, score_out), "aupr_out": aupr_out(score_in, score_out)}


class TiedGaussian:
    """Class Gaussians with one shared covariance (Lee et al., NeurIPS 2018).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    means_ : ndarray of shape (n_classes, d)
    covariance_ : ndarray of shape (d, d)
        ``sum_c sum_{i in c} (h_i - mu_c)(h_i - mu_c)^T / n``, plus ``1e-9`` times its
        mean diagonal (a ReLU layer puts whole classes on a point or an axis).
    precision_ : ndarray of shape (d, d)
    """

    def fit(self, H: np.ndarray, y: np.ndarray) -> "TiedGaussian":
        """Fit on encodings ``H`` of shape (n, d) with labels ``y`` of shape (n,). Returns ``self``."""
        H = np.asarray(H, dtype=float)
        y = np.asarray(y)
        self.classes_ = np.unique(y)
        self.means_ = np.array([H[y == c].mean(axis=0) for c in self.classes_])
        R = H - self.means_[np.searchsorted(self.classes_, y)]
        cov = R.T @ R / len(H)
        cov += 1e-9 * max(float(np.trace(cov)) / len(cov), 1e-12) * np.eye(len(cov))
        self.covariance_ = cov
        self.precision_ = np.linalg.inv(cov)
        return self

    def distances(self, H: np.ndarray) -> np.ndarray:
        """Mahalanobis distance to each class mean, ndarray of shape (n, n_classes)."""
        D = np.atleast_2d(np.asarray(H, dtype=float))[:, None, :] - self.means_[None]
        return np.sqrt(np.maximum(np.einsum("nkd,de,nke->nk", D, self.precision_, D), 0.0))

    def score(self, H: np.ndarray) -> np.ndarray:
        """Minus the smallest distance, ndarray of shape (n,) (higher = more in-distribution)."""
        return -self.distances(H).min(axis=1)

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {"classes": self.classes_, "means": self.means_, "covariance": self.covariance_}

    @classmethod
    def from_arrays(cls, a: Mapping[str, np.ndarray]) -> "TiedGaussian":
        self = cls()
        self.classes_, self.means_ = np.asarray(a["classes"]), np.asarray(a["means"], dtype=float)
        self.covariance_ = np.asarray(a["covariance"], dtype=float)
        self.precision_ = np.linalg.inv(self.covariance_)
        return self


@dataclass(frozen=True)
class Scorer:
    """Every score of :data:`SCORES` for one network, from its fitted parts.

    Attributes
    ----------
    net : Network
    layer : int
        The 2-unit hidden layer.
    tied : TiedGaussian
        On the training encodings.
    density : fooling.density.DensityCheck
        On the training encodings.
    image_density : fooling.density.ImageDensityCheck
        On the training images.
    head : fooling.heads.RBFHead
        On the training encodings.
    """

    net: Network
    layer: int
    tied: TiedGaussian
    density: object
    image_density: object
    head: object

    def proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities of images of shape (n, n_inputs), ndarray of shape (n, n_classes)."""
        return forward(self.net, np.atleast_2d(X))

    def scores(self, X: np.ndarray) -> dict[str, np.ndarray]:
        """Each score of :data:`SCORES` for images ``X`` of shape (n, n_inputs), each of shape (n,)."""
        X = np.atleast_2d(np.asarray(X, dtype=float))
        H = forward(self.net, X, self.layer)
        z = logits_from(self.net, H, self.layer)
        top = z.max(axis=1, keepdims=True)
        with np.errstate(over="ignore", invalid="ignore"):
            energy = (top + np.log(np.exp(z - top).sum(axis=1, keepdims=True)))[:, 0]
            msp = forward(self.net, H, start=self.layer).max(axis=1)
            return {"msp": msp, "energy": energy, "mahalanobis": self.tied.score(H),
                    "hidden_density": self.density.log_density(H),
                    "image_density": self.image_density.log_density(X),
                    "rbf_head": self.head.predict_proba(H).max(axis=1)}


def _number(v: float) -> float | None:
    return float(v) if np.isfinite(v) else None


def score_report(scorer: Scorer, X: np.ndarray, network: str) -> dict:
    """Every score, the prediction and the probabilities of each image, ready for JSON.

    Parameters
    ----------
    scorer : Scorer
    X : ndarray of shape (n, n_inputs)
    network : str
        Its name, copied into the answer.

    Returns
    -------
    dict
        ``{"network": str, "scores": {score: [n values]}, "predicted": [n labels],
        "probabilities": [[n_classes values] * n]}``, one entry per image in order;
        higher is more in-distribution for every score. JSON has no infinities: a value
        that is not finite is written as ``null``. That is the ``image_density`` of an
        image with a pixel outside [0, 1] (``-inf``, so ``null`` ranks below every
        number), and any score of an input so large that floating point overflows.
    """
    X = np.atleast_2d(np.asarray(X, dtype=float))
    with np.errstate(all="ignore"):  # huge inputs overflow: their values become null
        raw = scorer.scores(X)
        P = scorer.proba(X)
    ok = np.all(np.isfinite(P), axis=1)
    predicted = [int(scorer.net.classes[int(np.argmax(p))]) if good else None for p, good in zip(P, ok)]
    return {"network": network,
            "scores": {k: [_number(v) for v in raw[k]] for k in SCORES},
            "predicted": predicted,
            "probabilities": [[_number(v) for v in row] for row in P]}


def format_scores(report: dict) -> str:
    """:func:`score_report` as an aligned table, one row per image (``-`` for null)."""
    n = len(report["predicted"])
    head = ["image", "predicted", "probability", *SCORES]
    rows = []
    for i in range(n):
        probs = [v for v in report["probabilities"][i] if v is not None]
        cells = [str(i), "-" if report["predicted"][i] is None else str(report["predicted"][i]),
                 f"{max(probs):.4f}" if probs else "-"]
        cells += ["-" if report["scores"][k][i] is None else f"{report['scores'][k][i]:.4g}" for k in SCORES]
        rows.append(cells)
    widths = [max(len(h), *(len(r[j]) for r in rows)) for j, h in enumerate(head)]
    lines = [f"network: {report['network']} (higher = more in-distribution for every score; "
             "- : not a finite number, e.g. image_density of pixels outside [0, 1])",
             "  ".join(h.rjust(w) for h, w in zip(head, widths))]
    lines += ["  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in rows]
    return "\n".join(lines)
