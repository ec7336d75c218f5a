"""Class regions over a 2D plane.

A :class:`RegionGrid` holds a model's class probabilities on a regular grid: the iris
models over the (petal length, petal width) plane, an MLP's output layer over its
2-unit hidden plane. From it come the predicted class, the top probability, and
contour lines of any class probability (``P = 1/2``: two-class boundaries; ``P = 1/3``:
where three classes are equally likely) as line segments from marching squares.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

__all__ = ["RegionGrid", "contour_segments", "evaluate_grid", "pack_segments", "segments_to_path",
           "unpack_segments"]


@dataclass(frozen=True)
class RegionGrid:
    """Class probabilities on a regular grid.

    Attributes
    ----------
    xs : ndarray of shape (nx,)
    ys : ndarray of shape (ny,)
    proba : ndarray of shape (ny, nx, n_classes), float32
        ``proba[i, j]`` is at ``(xs[j], ys[i])`` (image row order, as heatmaps expect).
    """

    xs: np.ndarray
    ys: np.ndarray
    proba: np.ndarray

    @property
    def predicted(self) -> np.ndarray:
        """Index of the most probable class, ndarray of shape (ny, nx), uint8."""
        return np.argmax(self.proba, axis=-1).astype(np.uint8)

    @property
    def max_proba(self) -> np.ndarray:
        """Top class probability, ndarray of shape (ny, nx), float32."""
        return self.proba.max(axis=-1)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(x_min, x_max, y_min, y_max)``."""
        return float(self.xs[0]), float(self.xs[-1]), float(self.ys[0]), float(self.ys[-1])

    def contours(self, level: float) -> list[np.ndarray]:
        """Contour segments of every class probability at ``level``.

        Returns
        -------
        list of ndarray of shape (n_segments, 2, 2), one per class
        """
        return [contour_segments(self.proba[..., k], self.xs, self.ys, level)
                for k in range(self.proba.shape[-1])]


def evaluate_grid(proba_fn: Callable[[np.ndarray], np.ndarray],
                  bounds: tuple[float, float, float, float],
                  resolution: int | tuple[int, int] = 200, *, chunk: int = 65536) -> RegionGrid:
    """Evaluate ``proba_fn`` on a regular grid.

    Parameters
    ----------
    proba_fn : callable
        Maps points of shape (n, 2) to probabilities of shape (n, n_classes).
    bounds : tuple of 4 floats
        ``(x_min, x_max, y_min, y_max)``, each pair increasing.
    resolution : int or (nx, ny), default=200
        Points along each axis (at least 2).
    chunk : int
        Points per call of ``proba_fn`` (bounds memory).

    Returns
    -------
    RegionGrid
    """
    x0, x1, y0, y1 = (float(b) for b in bounds)
    if not (np.isfinite([x0, x1, y0, y1]).all() and x0 < x1 and y0 < y1):
        raise ValueError(f"bounds must be finite and increasing, got {bounds}")
    nx, ny = (resolution, resolution) if np.isscalar(resolution) else resolution
    if min(nx, ny) < 2:
        raise ValueError("resolution must be at least 2 along each axis")
    xs, ys = np.linspace(x0, x1, nx), np.linspace(y0, y1, ny)
    gx, gy = np.meshgrid(xs, ys)
    pts = np.column_stack([gx.ravel(), gy.ravel()])
    proba = np.concatenate([np.asarray(proba_fn(pts[i:i + chunk]), dtype=np.float32)
                            for i in range(0, len(pts), chunk)])
    return RegionGrid(xs, ys, proba.reshape(ny, nx, -1))


def contour_segments(values: np.ndarray, xs: np.ndarray, ys: np.ndarray, level: float) -> np.ndarray:
    """Line segments where ``values`` crosses ``level`` (marching squares).

    Crossings are linearly interpolated along cell edges; in the ambiguous (saddle)
    cells the cell-centre average decides how the four crossings are paired.

    Parameters
    ----------
    values : ndarray of shape (ny, nx)
        ``values[i, j]`` at ``(xs[j], ys[i])``.
    xs : ndarray of shape (nx,)
    ys : ndarray of shape (ny,)
    level : float

    Returns
    -------
    ndarray of shape (n_segments, 2, 2)
        ``[[x_a, y_a], [x_b, y_b]]`` per segment.
    """
    v = np.asarray(values, dtype=float) - level
    xs, ys = np.asarray(xs, float), np.asarray(ys, float)
    above = v > 0
    a, b, c, d = v[:-1, :-1], v[:-1, 1:], v[1:, 1:], v[1:, :-1]  # corners counter-clockwise
    X0, X1 = xs[:-1][None, :], xs[1:][None, :]
    Y0, Y1 = ys[:-1][:, None], ys[1:][:, None]

    def cross(p, q):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.clip(p / (p - q), 0.0, 1.0)

    shape = a.shape
    # crossing point on each edge: bottom (a-b), right (b-c), top (d-c), left (a-d)
    edges = [
        (np.broadcast_to(X0 + cross(a, b) * (X1 - X0), shape), np.broadcast_to(Y0, shape)),
        (np.broadcast_to(X1, shape), np.broadcast_to(Y0 + cross(b, c) * (Y1 - Y0), shape)),
        (np.broadcast_to(X0 + cross(d, c) * (X1 - X0), shape), np.broadcast_to(Y1, shape)),
        (np.broadcast_to(X0, shape), np.broadcast_to(Y0 + cross(a, d) * (Y1 - Y0), shape)),
    ]
    A, B, C, D = above[:-1, :-1], above[:-1, 1:], above[1:, 1:], above[1:, :-1]
    hit = np.stack([A != B, B != C, D != C, A != D])  # (4, ny-1, nx-1)
    count = hit.sum(axis=0)
    pts = np.stack([np.stack(e, axis=-1) for e in edges])  # (4, ny-1, nx-1, 2)
    segs = []
    two = count == 2
    if two.any():
        idx = np.argsort(~hit[:, two], axis=0, kind="stable")[:2]  # the two crossed edges
        p = pts[:, two]
        cols = np.arange(p.shape[1])
        segs.append(np.stack([p[idx[0], cols], p[idx[1], cols]], axis=1))
    four = count == 4
    if four.any():
        p = pts[:, four]
        centre_above = (a + b + c + d)[four] > 0
        # centre on A's side: A and C join, so B and D are cut off alone:
        # (bottom, right) and (top, left); otherwise A and C are: (right, top), (left, bottom)
        join_ac = (centre_above == A[four])[:, None]
        first, second = np.where(join_ac, p[0], p[1]), np.where(join_ac, p[1], p[2])
        third, fourth = np.where(join_ac, p[2], p[3]), np.where(join_ac, p[3], p[0])
        segs.append(np.stack([first, second], axis=1))
        segs.append(np.stack([third, fourth], axis=1))
    return np.concatenate(segs) if segs else np.empty((0, 2, 2))


def segments_to_path(segments: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Flatten segments into x and y arrays with NaN gaps (one plot trace).

    Parameters
    ----------
    segments : ndarray of shape (n_segments, 2, 2)

    Returns
    -------
    x, y : ndarray of shape (3 * n_segments,)
    """
    seg = np.asarray(segments, dtype=float).reshape(-1, 2, 2)
    gap = np.full((len(seg), 1, 2), np.nan)
    flat = np.concatenate([seg, gap], axis=1).reshape(-1, 2)
    return flat[:, 0], flat[:, 1]


def pack_segments(segments: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Several segment arrays (e.g. one per class) as one array and the counts, for storing.

    Returns
    -------
    flat : ndarray of shape (n_total, 2, 2)
    counts : ndarray of shape (len(segments),), int64
    """
    flat = (np.concatenate([np.asarray(s, dtype=float).reshape(-1, 2, 2) for s in segments])
            if segments else np.empty((0, 2, 2)))
    return flat, np.array([len(s) for s in segments], dtype=np.int64)


def unpack_segments(flat: np.ndarray, counts: np.ndarray) -> list[np.ndarray]:
    """Inverse of :func:`pack_segments`."""
    counts = np.asarray(counts, dtype=np.int64)
    if counts.sum() != len(flat):
        raise ValueError(f"{len(flat)} segments but counts add up to {counts.sum()}")
    return list(np.split(np.asarray(flat), np.cumsum(counts)[:-1])) if len(counts) else []
