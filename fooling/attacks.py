"""The overlay attack (second essay).

Take an image the network classifies correctly and add ``strength`` times a neuron's
effective-weight pattern (the output neuron of the target digit, by default), scaled
so its largest absolute value is one pixel unit. As the strength grows the network
reads the blend as the target digit, long before a person would.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .network import Network, forward

__all__ = ["OverlaySweep", "normalized_pattern", "overlay", "overlay_sweep"]


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
