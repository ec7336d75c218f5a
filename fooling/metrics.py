"""How far high confidence reaches: the first essay's argument as numbers.

A classifier over a 2D plane (the iris petal plane, an MLP's 2-unit hidden plane) is
*fooled* at a point when it gives its top class a probability of at least
``threshold`` there although nothing like its training data lies there. With a linear
head the confident region is unbounded: its share of a disc around the data tends to
one as the disc grows. With an RBF head, or behind a density check, it stays near the
data.

* :func:`fooling_rate` — share of the **area** of a disc of ``R`` data radii around the
  training points' centroid where the top class probability is ``>= threshold``.
* :func:`fooling_rates` — the same for several ``R`` (``{"R1": ..., "R2": ..., ...}``).
* :func:`confidence_vs_distance` — median and 90th percentile of the top probability
  against the distance to the *nearest* training point.

The *data radius* is the largest distance of a training point from their centroid
(:func:`fooling.probes.data_radius`).

Areas are estimated with the midpoint rule: a regular grid of ``resolution x
resolution`` cell centres over the disc's bounding square, keeping the centres inside
the disc. The error shrinks roughly like ``1 / resolution``.

Bounded planes (the tanh net): every hidden unit lies in ``(-1, 1)``, so points of the
disc outside the codomain square can never be reached by any input. Pass
``bounds=(-1, 1, -1, 1)``: the disc is intersected with the square and the share is of
that reachable part of the disc. The square is an *outer* bound of what inputs reach;
``region=`` narrows it further (e.g. to :func:`fooling.reachable.estimate_reachable`'s
polygon through :func:`fooling.reachable.contains`).
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from scipy.spatial import cKDTree

from .grids import Bounds, ProbaFn, disc_grid, top_proba
from .probes import data_radius

__all__ = ["confidence_vs_distance", "density_flags", "flagged_share", "fooling_rate", "fooling_rates",
           "fooling_summary"]


def density_flags(density, points: np.ndarray, confident: np.ndarray) -> np.ndarray:
    """True at the confident points that a density check calls out of distribution.

    Parameters
    ----------
    density : object with ``in_distribution(points) -> bool array``
        E.g. a fitted :class:`fooling.density.DensityCheck` on the same plane.
    points : ndarray of shape (n, 2)
    confident : ndarray of shape (n,), bool
        Where the model's top class probability reaches the threshold; only these
        points are judged.

    Returns
    -------
    ndarray of shape (n,), bool
    """
    confident = np.asarray(confident, dtype=bool)
    flags = np.zeros(len(confident), dtype=bool)
    if confident.any():
        flags[confident] = ~np.asarray(density.in_distribution(np.asarray(points)[confident]), dtype=bool)
    return flags


def flagged_share(flags: np.ndarray, confident: np.ndarray) -> float | None:
    """The share of the confident points that are flagged (the one definition of "flagged").

    Parameters
    ----------
    flags : ndarray of shape (n,), bool
        From :func:`density_flags`.
    confident : ndarray of shape (n,), bool

    Returns
    -------
    float or None
        In [0, 1]; None when no point is confident: there is nothing to flag.
    """
    confident = np.asarray(confident, dtype=bool)
    if not confident.any():
        return None
    return float(np.mean(np.asarray(flags, dtype=bool)[confident]))


def fooling_rate(proba_fn: ProbaFn, centroid: np.ndarray, radius: float, R: float, *,
                 threshold: float = 0.99, resolution: int = 401, bounds: Bounds | None = None,
                 region: Callable[[np.ndarray], np.ndarray] | None = None) -> float:
    """Share of the disc of ``R * radius`` around ``centroid`` where the model is confident.

    Parameters
    ----------
    proba_fn : callable
        Maps points of shape (n, 2) to class probabilities of shape (n, n_classes).
    centroid : ndarray of shape (2,)
    radius : float
        The data radius.
    R : float
        Disc radius in data radii.
    threshold : float, default=0.99
        A point counts when its top class probability is ``>= threshold``.
    resolution : int, default=401
        Grid cells along each side of the disc's bounding square.
    bounds : tuple of 4 floats, optional
        ``(x0, x1, y0, y1)``: intersect the disc with this open box (the tanh net's
        codomain square ``(-1, 1, -1, 1)``); the share is of the intersection.
    region : callable, optional
        Boolean mask of points of shape (n, 2); intersect the disc with it too.

    Returns
    -------
    float
        In [0, 1].

    Raises
    ------
    ValueError
        No grid point of the disc survives ``bounds``/``region``.
    """
    pts = disc_grid(centroid, R * radius, resolution, bounds=bounds, region=region)
    if not len(pts):
        raise ValueError("the disc does not meet bounds/region at this resolution")
    return float(np.mean(top_proba(proba_fn, pts) >= threshold))


def fooling_rates(proba_fn: ProbaFn, train_points: np.ndarray,
                  Rs: tuple[float, ...] = (1, 2, 5, 10), **kw) -> dict[str, float]:
    """:func:`fooling_rate` at several disc sizes around the training points.

    Parameters
    ----------
    proba_fn : callable
    train_points : ndarray of shape (n_train, 2)
        Define the centroid and the data radius.
    Rs : tuple of float, default=(1, 2, 5, 10)
    **kw
        Passed to :func:`fooling_rate` (``threshold``, ``resolution``, ``bounds``, ``region``).

    Returns
    -------
    dict of str to float
        ``{"R1": ..., "R2": ..., "R5": ..., "R10": ...}``.
    """
    centroid, radius = data_radius(train_points)
    return {f"R{R:g}": fooling_rate(proba_fn, centroid, radius, R, **kw) for R in Rs}


def confidence_vs_distance(proba_fn: ProbaFn, train_points: np.ndarray, *, R: float = 10,
                           resolution: int = 401, n_bins: int = 30,
                           bounds: Bounds | None = None) -> dict:
    """Top class probability against the distance to the nearest training point.

    Every grid point of the disc of ``R`` data radii (see :func:`disc_grid`) is binned by
    its distance to the nearest training point (equal-width bins from 0 to the largest
    distance seen).

    Parameters
    ----------
    proba_fn : callable
    train_points : ndarray of shape (n_train, 2)
    R : float, default=10
    resolution : int, default=401
    n_bins : int, default=30
    bounds : tuple of 4 floats, optional
        As in :func:`fooling_rate`.

    Returns
    -------
    dict
        ``edges`` ndarray of shape (n_bins + 1,); ``centres``, ``median``, ``p90``
        ndarray of shape (n_bins,) (NaN in empty bins); ``count`` ndarray of shape
        (n_bins,), int; ``radius`` float, the data radius (to express distances in radii).
    """
    X = np.asarray(train_points, dtype=float)
    centroid, radius = data_radius(X)
    pts = disc_grid(centroid, R * radius, resolution, bounds=bounds)
    top = top_proba(proba_fn, pts)
    dist, _ = cKDTree(X).query(pts)
    edges = np.linspace(0.0, float(dist.max()) if len(dist) else 1.0, int(n_bins) + 1)
    which = np.clip(np.searchsorted(edges, dist, side="right") - 1, 0, n_bins - 1)
    count = np.bincount(which, minlength=n_bins)
    median = np.full(n_bins, np.nan)
    p90 = np.full(n_bins, np.nan)
    for k in np.flatnonzero(count):
        median[k], p90[k] = np.percentile(top[which == k], [50, 90])
    return {"edges": edges, "centres": 0.5 * (edges[:-1] + edges[1:]), "median": median,
            "p90": p90, "count": count, "radius": radius}


def fooling_summary(proba_fn: ProbaFn, train_points: np.ndarray, density=None, *,
                    Rs: tuple[float, ...] = (1, 2, 5, 10), threshold: float = 0.99,
                    resolution: int = 401, bounds: Bounds | None = None,
                    region: Callable[[np.ndarray], np.ndarray] | None = None,
                    flag_R: float = 10) -> dict:
    """Fooling rates, the highest confidence, and the density check's verdict, for one model.

    Parameters
    ----------
    proba_fn : callable
    train_points : ndarray of shape (n_train, 2)
    density : object with ``in_distribution(points) -> bool array``, optional
        E.g. a fitted :class:`fooling.density.DensityCheck` on ``train_points``.
    Rs, threshold, resolution, bounds, region
        As in :func:`fooling_rates`.
    flag_R : float, default=10
        Disc (in data radii) for ``max_confidence`` and ``flagged_by_density``.

    Returns
    -------
    dict
        ``"R1" ... "R10"``: fooling rates; ``max_confidence``: the highest top
        probability on the ``flag_R`` disc's grid; ``flagged_by_density`` (with
        ``density``): share of that disc's confident grid points the check calls out of
        distribution, None when no point is confident.
    """
    out: dict = fooling_rates(proba_fn, train_points, Rs, threshold=threshold,
                              resolution=resolution, bounds=bounds, region=region)
    centroid, radius = data_radius(train_points)
    pts = disc_grid(centroid, flag_R * radius, resolution, bounds=bounds, region=region)
    top = top_proba(proba_fn, pts)
    out["max_confidence"] = float(top.max())
    if density is not None:
        confident = top >= threshold
        out["flagged_by_density"] = flagged_share(density_flags(density, pts, confident), confident)
    return out
