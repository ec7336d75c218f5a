"""Maps over a disc: where a classifier is confident, and what a density check says there.

* :func:`confidence_density_map` — on a grid of cell centres over a disc (optionally
  intersected with a bounding box): the top class probability, which confident cells a
  density check flags out of distribution, and log-density contour lines.
* :func:`log_density_level` — the log-density separating a given percentile of the
  training points from the rest.

On an unbounded plane the cell centres are exactly those of
:func:`fooling.metrics.disc_grid` at the same ``resolution`` (same floats, same order), so
shares computed here equal :func:`fooling.metrics.fooling_rate`'s and
:func:`fooling.density.flagged_share`'s.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from .grids import disc_cells, top_proba
from .metrics import density_flags, flagged_share
from .regions import contour_segments

__all__ = ["confidence_density_map", "log_density_level"]


def log_density_level(density, percentile: float | None = None) -> float:
    """The log-density whose contour separates training points above ``percentile`` from the rest.

    Parameters
    ----------
    density : fitted density check
        Needs ``train_log_density_`` (sorted, shape (n_train,)) and ``threshold_percentile``
        (e.g. :class:`fooling.density.DensityCheck`).
    percentile : float, optional
        In [0, 100]; default the check's own ``threshold_percentile`` (its in/out boundary).

    Returns
    -------
    float
        ``-inf`` when ``percentile`` selects no training point.
    """
    pct = density.threshold_percentile if percentile is None else percentile
    ref = density.train_log_density_
    k = int(np.ceil(pct / 100.0 * len(ref)))
    return float(ref[k - 1]) if k >= 1 else -np.inf


def confidence_density_map(proba_fn: Callable[[np.ndarray], np.ndarray], density, centroid: np.ndarray,
                           rho: float, *, threshold: float = 0.99, resolution: int = 201,
                           contour_resolution: int = 401, bounds: tuple | None = None,
                           percentiles: Sequence[float | None] = (None, 50.0)) -> dict:
    """Top probability, density flags and log-density contours over a disc.

    Parameters
    ----------
    proba_fn : callable
        Maps points of shape (n, 2) to probabilities of shape (n, n_classes).
    density : fitted density check
        With ``in_distribution(P)`` and ``log_density(P)`` for P of shape (n, 2), plus
        what :func:`log_density_level` needs.
    centroid : ndarray of shape (2,)
        Centre of the disc.
    rho : float
        Radius of the disc, > 0.
    threshold : float, default=0.99
        A cell is confident when its top probability is at least this.
    resolution : int, default=201
        Cells per side: of the disc's bounding square (unbounded), or of the square
        clipped to ``bounds``.
    contour_resolution : int, default=401
        Points per side of the regular log-density grid (``linspace`` over the same box).
    bounds : tuple of 4 floats (x0, x1, y0, y1), optional
        Reachable box; the disc is intersected with it.
    percentiles : sequence of float or None, default=(None, 50.0)
        One contour per entry, at :func:`log_density_level` of that percentile (None: the
        check's threshold percentile).

    Returns
    -------
    dict
        ``xs`` ndarray of shape (nx,), ``ys`` of shape (ny,) — cell centres (nx = ny =
        ``resolution``); ``top`` ndarray of shape (ny, nx), NaN outside the disc (and
        box); ``flagged`` bool ndarray of shape (ny, nx), True on confident cells the
        check calls out of distribution; ``box`` (x0, x1, y0, y1) the gridded square;
        ``share`` confident share of the measured cells; ``flagged_share`` flagged share
        of the confident cells (None when none is confident); ``n_cells``,
        ``n_confident``; ``max_confidence``; ``contours`` list of (percentile, segments)
        pairs in ``percentiles`` order, the percentile resolved to a number and segments
        of shape (n_segments, 2, 2) as :func:`fooling.regions.contour_segments`.
    """
    cells = disc_cells(centroid, rho, resolution, bounds=bounds, fit_bounds=True)
    xs, ys, inside, box = cells
    pts = cells.points()
    t = top_proba(proba_fn, pts)
    confident = t >= threshold
    out_flag = density_flags(density, pts, confident)
    top = np.full(inside.shape, np.nan)
    top[inside] = t
    flagged = np.zeros(inside.shape, dtype=bool)
    flagged[inside] = out_flag
    # log-density contours on a finer regular grid over the same box
    cx = np.linspace(box[0], box[1], contour_resolution)
    cy = np.linspace(box[2], box[3], contour_resolution)
    hx, hy = np.meshgrid(cx, cy)
    logd = density.log_density(np.column_stack([hx.ravel(), hy.ravel()])).reshape(hx.shape)
    contours = [(density.threshold_percentile if pct is None else pct,
                 contour_segments(logd, cx, cy, log_density_level(density, pct))) for pct in percentiles]
    n_conf = int(confident.sum())
    return {"xs": xs, "ys": ys, "top": top, "flagged": flagged, "box": box,
            "share": float(confident.mean()),
            "flagged_share": flagged_share(out_flag, confident),
            "n_cells": int(len(pts)), "n_confident": n_conf, "max_confidence": float(t.max()),
            "contours": contours}
