"""Attacks on inputs: the overlay attack (second essay) and the fast gradient sign method.

Overlay: take an image the network classifies correctly and add ``strength`` times a
neuron's effective-weight pattern (the output neuron of the target digit, by default),
scaled so its largest absolute value is one pixel unit. As the strength grows the
network reads the blend as the target digit, long before a person would.

FGSM (Goodfellow, Shlens, Szegedy, ICLR 2015): ``x + eps * sign(grad_x loss(x, y))``,
pixels clipped to [0, 1], with the exact input gradient of the cross-entropy loss
(:mod:`fooling.gradients`). :func:`fgsm_table` reports, per ``eps``, the error rate on the
perturbed held-out images and the mean top probability on the mistakes, the two numbers
the paper gives; :data:`GOODFELLOW_2015` keeps the paper's own at eps = 0.25.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from .network import Network, forward

__all__ = ["FGSM_EPS", "GOODFELLOW_2015", "OverlaySweep", "fgsm", "fgsm_table", "normalized_pattern",
           "overlay", "overlay_sweep"]

FGSM_EPS = (0.05, 0.1, 0.25)
"""Perturbation sizes of :func:`fgsm_table` (pixels in [0, 1])."""

GOODFELLOW_2015 = {
    "source": "Goodfellow, Shlens, Szegedy, 'Explaining and harnessing adversarial examples', ICLR 2015",
    "data": "their MNIST test set and their own models (not ours)",
    "eps": 0.25,
    "models": {
        "shallow_softmax": {"error": 0.999, "mean_confidence_on_mistakes": 0.793},
        "maxout": {"error": 0.894, "mean_confidence_on_mistakes": 0.976},
        "shallow_rbf": {"error": 0.554, "mean_confidence_on_mistakes": 0.012},
    },
}
"""The paper's published FGSM numbers at eps = 0.25, as theirs, on their data."""


def normalized_pattern(pattern: np.ndarray) -> np.ndarray:
    """``pattern`` divided by its largest absolute value (ndarray of shape (n_inputs,))."""
    p = np.asarray(pattern, dtype=float)
    peak = np.abs(p).max()
    if not np.isfinite(peak) or peak == 0:
        raise ValueError("the pattern must be finite and not all zero")
    return p / peak


def overlay(image: np.ndarray, pattern: np.ndarray, strengths, *,
            clip: tuple[float, float] | None = (0.0, 1.0)) -> np.ndarray:
    """Blend ``image + s * pattern`` for each strength ``s``.

    Parameters
    ----------
    image : ndarray of shape (n_inputs,)
    pattern : ndarray of shape (n_inputs,)
        Used as given (see :func:`normalized_pattern`).
    strengths : float or array-like of shape (n_strengths,)
    clip : (low, high) or None
        Clip the blends to a valid pixel range; None keeps raw sums.

    Returns
    -------
    ndarray of shape (n_strengths, n_inputs)
    """
    s = np.atleast_1d(np.asarray(strengths, dtype=float))
    if not np.all(np.isfinite(s)):
        raise ValueError("strengths must be finite")
    blends = np.asarray(image, dtype=float)[None, :] + s[:, None] * np.asarray(pattern, dtype=float)[None, :]
    return np.clip(blends, *clip) if clip is not None else blends


@dataclass(frozen=True)
class OverlaySweep:
    """Predictions along a strength sweep.

    Attributes
    ----------
    strengths : ndarray of shape (n,)
    predicted : ndarray of shape (n,)
        Predicted label at each strength.
    confidence : ndarray of shape (n,)
        Probability of the predicted label.
    target_proba : ndarray of shape (n,)
        Probability of the target label.
    target : int
    flip_strength : float or None
        Smallest strength at which the prediction is the target with probability at
        least ``min_probability``; None if none in the sweep.
    flip_probability : float or None
        The target's probability there.
    first_flip_strength : float or None
        Smallest strength at which the target is the most probable class at all.
    """

    strengths: np.ndarray
    predicted: np.ndarray
    confidence: np.ndarray
    target_proba: np.ndarray
    target: int
    flip_strength: float | None
    flip_probability: float | None
    first_flip_strength: float | None


def overlay_sweep(net: Network, image: np.ndarray, pattern: np.ndarray, target: int,
                  strengths, *, clip: tuple[float, float] | None = (0.0, 1.0),
                  min_probability: float = 0.9) -> OverlaySweep:
    """Classify ``overlay(image, pattern, s)`` for each strength.

    Parameters
    ----------
    net : Network
    image : ndarray of shape (n_inputs,)
    pattern : ndarray of shape (n_inputs,)
    target : int
        Label the attack aims for.
    strengths : array-like of shape (n,)
        Increasing.
    clip : (low, high) or None
    min_probability : float, default=0.9
        Confidence the flip must reach to count.

    Returns
    -------
    OverlaySweep
    """
    s = np.asarray(strengths, dtype=float)
    if s.ndim != 1 or not len(s) or np.any(np.diff(s) < 0):
        raise ValueError("strengths must be a non-empty increasing 1-D sequence")
    k = np.flatnonzero(net.classes == target)
    if not len(k):
        raise ValueError(f"target {target!r} is not one of the network's classes")
    proba = forward(net, overlay(image, pattern, s, clip=clip))
    top = np.argmax(proba, axis=1)
    predicted = net.classes[top]
    tp = proba[:, k[0]]
    flips = np.flatnonzero((predicted == target) & (tp >= min_probability))
    first = np.flatnonzero(predicted == target)
    return OverlaySweep(
        strengths=s, predicted=predicted, confidence=proba[np.arange(len(s)), top],
        target_proba=tp, target=int(target),
        flip_strength=float(s[flips[0]]) if len(flips) else None,
        flip_probability=float(tp[flips[0]]) if len(flips) else None,
        first_flip_strength=float(s[first[0]]) if len(first) else None)


def fgsm(X: np.ndarray, grad: np.ndarray, eps: float,
         clip: tuple[float, float] | None = (0.0, 1.0)) -> np.ndarray:
    """``X + eps * sign(grad)``, clipped to ``clip``.

    Parameters
    ----------
    X : ndarray of shape (n, n_inputs)
    grad : ndarray of shape (n, n_inputs)
        Gradient of the loss with respect to ``X``.
    eps : float
    clip : (low, high) or None

    Returns
    -------
    ndarray of shape (n, n_inputs)
    """
    out = np.asarray(X, dtype=float) + float(eps) * np.sign(grad)
    return np.clip(out, *clip) if clip is not None else out


def fgsm_table(proba_fn: Callable[[np.ndarray], np.ndarray],
               grad_fn: Callable[[np.ndarray, np.ndarray], np.ndarray], classes: np.ndarray,
               X: np.ndarray, y: np.ndarray, eps: Sequence[float] = FGSM_EPS) -> dict:
    """FGSM error rate and mean confidence on the mistakes, per ``eps``.

    Parameters
    ----------
    proba_fn : callable
        Images of shape (n, n_inputs) to class probabilities of shape (n, n_classes).
    grad_fn : callable
        ``(X, y)`` to the loss gradient with respect to ``X``, shape (n, n_inputs).
    classes : ndarray of shape (n_classes,)
        Label of each probability column.
    X : ndarray of shape (n, n_inputs)
        Held-out images, pixels in [0, 1].
    y : ndarray of shape (n,)
    eps : sequence of float

    Returns
    -------
    dict
        ``{str(eps): {"error": float, "mean_confidence_on_mistakes": float or None}}``
        (None when nothing is misclassified); the error counts every held-out image,
        also the ones the model got wrong unperturbed.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y)
    classes = np.asarray(classes)
    G = grad_fn(X, y)
    out = {}
    for e in eps:
        P = proba_fn(fgsm(X, G, e))
        wrong = classes[np.argmax(P, axis=1)] != y
        top = P.max(axis=1)
        out[str(float(e))] = {"error": float(wrong.mean()),
                              "mean_confidence_on_mistakes": float(top[wrong].mean()) if wrong.any() else None}
    return out
