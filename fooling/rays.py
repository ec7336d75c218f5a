"""Hein's alpha-ray: how confident a model grows along ``alpha * x`` as ``alpha`` grows.

Theorem (Hein, Andriushchenko, Bitterwolf, CVPR 2019, "Why ReLU networks yield
high-confidence predictions far away from the training data and how to mitigate the
problem"): a ReLU network is affine on each of finitely many polytopes, so along almost
every ray ``alpha * x`` its top softmax probability tends to 1 as ``alpha`` grows.

What the theorem needs and our models do not all have: piecewise-affine layers that
stay affine without bound. A tanh layer saturates, so its logits are bounded and the top
probability tends to whatever value the saturated corner of the plane gives, never 1
(:func:`top_probability_bound` gives the cap). An RBF head forgets far inputs: every
kernel value tends to 0 and the probabilities settle on one constant vector. The ReLU
theorem also has its exceptions: a ray along which the last hidden layer is 0 (a digit
the net puts at the origin, when the ray stays in the region where every unit is off)
keeps the same logits for every ``alpha``. :func:`alpha_ray` reports, beside the mean top
probability, the share of digits at least 0.99 sure, so each case shows in the numbers.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

__all__ = ["ALPHAS", "alpha_ray", "top_probability_bound"]

ALPHAS = np.logspace(0.0, 3.0, 31)
"""alpha from 1 to 1,000, log-spaced (ten steps a decade)."""


def alpha_ray(proba_fn: Callable[[np.ndarray], np.ndarray], X: np.ndarray,
              alphas: np.ndarray = ALPHAS, *, confident: float = 0.99) -> dict:
    """Mean top probability of ``alpha * X`` for each ``alpha``.

    Parameters
    ----------
    proba_fn : callable
        Inputs of shape (n, n_inputs) to probabilities of shape (n, n_classes).
    X : ndarray of shape (n, n_inputs)
        E.g. held-out digits, pixels in [0, 1].
    alphas : ndarray of shape (m,)
    confident : float, default=0.99

    Returns
    -------
    dict
        ``alpha`` (m floats), ``mean_top_probability`` (m floats) and
        ``share_confident`` (m floats: share of rows whose top probability is at least
        ``confident``).
    """
    X = np.asarray(X, dtype=float)
    a = np.asarray(alphas, dtype=float).reshape(-1)
    if not len(a) or not np.all(np.isfinite(a)):
        raise ValueError("alphas must be finite and not empty")
    mean, share = [], []
    for alpha in a:
        top = np.asarray(proba_fn(alpha * X)).max(axis=1)
        mean.append(float(top.mean()))
        share.append(float((top >= confident).mean()))
    return {"alpha": a.tolist(), "mean_top_probability": mean, "share_confident": share}


def top_probability_bound(proba_fn: Callable[[np.ndarray], np.ndarray],
                          box: tuple[float, float, float, float], resolution: int = 201) -> float:
    """Largest top probability a bounded 2D plane's head gives anywhere in ``box`` (a grid search).

    For a tanh net, ``box`` is its codomain square [-1, 1]^2: no input, however far or
    however scaled, gets a more confident answer.
    """
    x0, x1, y0, y1 = box
    gx, gy = np.meshgrid(np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution))
    return float(np.asarray(proba_fn(np.column_stack([gx.ravel(), gy.ravel()]))).max())
