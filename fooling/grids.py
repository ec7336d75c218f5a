"""Grids over a plane: the one place where sample points of a disc or box are made.

* :func:`disc_cells` — cell centres of a regular grid over a disc's bounding square
  (or that square clipped to a box), with the mask of the cells inside the disc.
* :func:`disc_grid` — the points of :func:`disc_cells` inside the disc, as rows;
  every one stands for the same area. Fooling rates are shares of these points.
* :func:`top_proba` — a model's top class probability at many points, in chunks.

The fooling rate (:mod:`fooling.metrics`) and the confidence/density maps
(:mod:`fooling.metrics_maps`) use the same cells, so shares counted on either agree.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

__all__ = ["Bounds", "Cells", "ProbaFn", "cell_centres", "disc_cells", "disc_grid", "top_proba"]

ProbaFn = Callable[[np.ndarray], np.ndarray]
Bounds = tuple[float, float, float, float]


def cell_centres(lo: float, hi: float, n: int) -> np.ndarray:
    """Centres of ``n`` equal cells covering ``[lo, hi]``, ndarray of shape (n,)."""
    return lo + (np.arange(int(n)) + 0.5) / int(n) * (hi - lo)


class Cells(NamedTuple):
    """A grid of cell centres over a square and the cells that count (see :func:`disc_cells`)."""

    xs: np.ndarray
    ys: np.ndarray
    inside: np.ndarray
    box: Bounds

    def points(self) -> np.ndarray:
        """Centres of the cells that count, ndarray of shape (n, 2), row by row."""
        gx, gy = np.meshgrid(self.xs, self.ys)
        return np.column_stack([gx[self.inside], gy[self.inside]])


def disc_cells(centroid: np.ndarray, rho: float, resolution: int = 401, *,
               bounds: Bounds | None = None, fit_bounds: bool = False) -> Cells:
    """Cell centres over a disc's bounding square and which of them count.

    Parameters
    ----------
    centroid : ndarray of shape (2,)
    rho : float
        Disc radius, > 0.
    resolution : int, default=401
        Cells along each side of the gridded square.
    bounds : (x0, x1, y0, y1), optional
        An open box the disc is intersected with (a bounded plane's codomain).
    fit_bounds : bool, default=False
        False: grid the disc's own bounding square and keep the cells inside the box
        (every cell has the area ``(2 * rho / resolution) ** 2``, as for an unbounded
        plane). True: grid the bounding square clipped to the box with
        ``resolution`` cells per side, for a map as fine as an unbounded one.

    Returns
    -------
    Cells
        ``xs`` ndarray of shape (nx,) and ``ys`` of shape (ny,), the cell centres along
        each axis; ``inside`` ndarray of shape (ny, nx), bool, the cells inside the disc
        (and strictly inside ``bounds``); ``box`` the gridded square (x0, x1, y0, y1).
    """
    c = np.asarray(centroid, dtype=float).reshape(2)
    if not (np.isfinite(rho) and rho > 0 and np.all(np.isfinite(c))):
        raise ValueError(f"need a finite centroid and a positive radius, got {c}, {rho}")
    n = int(resolution)
    if n < 1:
        raise ValueError("resolution must be at least 1")
    box = (c[0] - rho, c[0] + rho, c[1] - rho, c[1] + rho)
    if bounds is not None and fit_bounds:
        box = (max(box[0], bounds[0]), min(box[1], bounds[1]),
               max(box[2], bounds[2]), min(box[3], bounds[3]))
        if not (box[0] < box[1] and box[2] < box[3]):
            raise ValueError("the disc does not meet the bounds")
        xs, ys = cell_centres(box[0], box[1], n), cell_centres(box[2], box[3], n)
    else:
        u = (np.arange(n) + 0.5) / n * 2.0 - 1.0  # cell centres in (-1, 1)
        xs, ys = c[0] + rho * u, c[1] + rho * u
    gx, gy = np.meshgrid(xs - c[0], ys - c[1])
    if bounds is not None and fit_bounds:
        inside = gx**2 + gy**2 <= rho**2
    else:
        u = (np.arange(n) + 0.5) / n * 2.0 - 1.0
        gu, gv = np.meshgrid(u, u)
        inside = gu**2 + gv**2 <= 1.0  # in unit coordinates: the same cells at any rho
    if bounds is not None:
        x0, x1, y0, y1 = (float(b) for b in bounds)
        X, Y = np.meshgrid(xs, ys)
        inside &= (X > x0) & (X < x1) & (Y > y0) & (Y < y1)
    return Cells(xs, ys, inside, tuple(float(b) for b in box))


def disc_grid(centroid: np.ndarray, rho: float, resolution: int = 401, *,
              bounds: Bounds | None = None,
              region: Callable[[np.ndarray], np.ndarray] | None = None) -> np.ndarray:
    """The cells of :func:`disc_cells` inside the disc, as points.

    Parameters
    ----------
    centroid, rho, resolution, bounds
        As in :func:`disc_cells` (with ``fit_bounds=False``).
    region : callable, optional
        Maps points of shape (n, 2) to a boolean mask of shape (n,); keep only where true.

    Returns
    -------
    ndarray of shape (n_points, 2)
        Row by row (y outer, x inner); every point stands for the same area,
        ``(2 * rho / resolution) ** 2``.
    """
    pts = disc_cells(centroid, rho, resolution, bounds=bounds).points()
    if region is not None and len(pts):
        pts = pts[np.asarray(region(pts), dtype=bool)]
    return pts


def top_proba(proba_fn: ProbaFn, points: np.ndarray, *, chunk: int = 65536) -> np.ndarray:
    """Top class probability at each point, evaluated in chunks.

    Parameters
    ----------
    proba_fn : callable
        Maps points of shape (n, 2) to probabilities of shape (n, n_classes).
    points : ndarray of shape (n, 2)

    Returns
    -------
    ndarray of shape (n,)
    """
    P = np.asarray(points, dtype=float)
    if not len(P):
        return np.empty(0)
    return np.concatenate([np.asarray(proba_fn(P[i:i + chunk]), dtype=float).max(axis=1)
                           for i in range(0, len(P), chunk)])
