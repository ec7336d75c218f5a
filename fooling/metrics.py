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

from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy.spatial import cKDTree

from .probes import data_radius

__all__ = ["Plane", "confidence_vs_distance", "disc_grid", "fooling_rate", "fooling_rates",
           "fooling_summary", "model_planes", "top_proba", "workspace_fooling_rates"]

ProbaFn = Callable[[np.ndarray], np.ndarray]
Bounds = tuple[float, float, float, float]


def disc_grid(centroid: np.ndarray, rho: float, resolution: int = 401, *,
              bounds: Bounds | None = None,
              region: Callable[[np.ndarray], np.ndarray] | None = None) -> np.ndarray:
    """Cell centres of a regular grid over a disc's bounding square, inside the disc.

    Parameters
    ----------
    centroid : ndarray of shape (2,)
    rho : float
        Disc radius, > 0.
    resolution : int, default=401
        Cells along each side of the bounding square.
    bounds : tuple of 4 floats, optional
        ``(x0, x1, y0, y1)``: keep only points strictly inside this box.
    region : callable, optional
        Maps points of shape (n, 2) to a boolean mask of shape (n,); keep only where true.

    Returns
    -------
    ndarray of shape (n_points, 2)
        Every kept point stands for the same area, ``(2 * rho / resolution) ** 2``.
    """
    c = np.asarray(centroid, dtype=float).reshape(2)
    if not (np.isfinite(rho) and rho > 0 and np.all(np.isfinite(c))):
        raise ValueError(f"need a finite centroid and a positive radius, got {c}, {rho}")
    if int(resolution) < 1:
        raise ValueError("resolution must be at least 1")
    n = int(resolution)
    u = (np.arange(n) + 0.5) / n * 2.0 - 1.0  # cell centres in (-1, 1)
    gx, gy = np.meshgrid(u, u)
    keep = gx**2 + gy**2 <= 1.0
    pts = c + rho * np.column_stack([gx[keep], gy[keep]])
    if bounds is not None:
        x0, x1, y0, y1 = (float(b) for b in bounds)
        pts = pts[(pts[:, 0] > x0) & (pts[:, 0] < x1) & (pts[:, 1] > y0) & (pts[:, 1] < y1)]
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
        confident = pts[top >= threshold]
        out["flagged_by_density"] = (float(np.mean(~np.asarray(density.in_distribution(confident))))
                                     if len(confident) else None)
    return out


@dataclass(frozen=True)
class Plane:
    """A model over its 2D plane: what fooling rates are measured on.

    Attributes
    ----------
    name : str
    proba_fn : callable
        Points of shape (n, 2) to probabilities of shape (n, n_classes).
    points : ndarray of shape (n_train, 2)
        Training points (iris petals, or a net's training encodings).
    density : fooling.density.DensityCheck
        Fitted on ``points``.
    bounds : tuple of 4 floats or None
        The codomain square of a bounded (tanh) plane.
    n_classes : int
    """

    name: str
    proba_fn: ProbaFn
    points: np.ndarray
    density: object
    bounds: Bounds | None
    n_classes: int


def model_planes(ws) -> dict[str, Plane]:
    """Every model of a workspace over its plane, with a density check on its data.

    Models: the iris ``logistic``, ``svm_linear``, ``svm_rbf`` on the petal plane (data: the
    150 petals); ``mlp_identity``, ``mlp_tanh`` on their hidden plane (data: the training
    encodings; tanh's codomain square as ``bounds``); ``mlp_identity_rbf_head``, the
    identity net's encoder with its :class:`~fooling.heads.RBFHead`. Each plane's
    :class:`~fooling.density.DensityCheck` is fitted on its data. Nets missing from
    ``ws.mnist`` are skipped.
    """
    # imported here, not at the top: fooling.density imports this module
    from .density import DensityCheck
    from .network import predict_proba_from

    out: dict[str, Plane] = {}
    iris_density = DensityCheck().fit(ws.iris.X)
    for name in ("logistic", "svm_linear", "svm_rbf"):
        out[name] = Plane(name, ws.iris.models[name].predict_proba, ws.iris.X, iris_density, None,
                          len(ws.iris.names))
    for net in ("identity", "tanh"):
        if net not in ws.mnist:
            continue
        m = ws.mnist[net]
        lo, hi = m.inverter.codomain
        bounds = (lo, hi, lo, hi) if np.isfinite([lo, hi]).all() else None
        density = DensityCheck().fit(m.train_hidden)
        k = len(m.net.classes)
        out[f"mlp_{net}"] = Plane(f"mlp_{net}", lambda H, m=m: predict_proba_from(m.net, H, m.hidden_layer),
                                  m.train_hidden, density, bounds, k)
        if net == "identity":
            out["mlp_identity_rbf_head"] = Plane("mlp_identity_rbf_head", m.rbf_head.predict_proba,
                                                 m.train_hidden, density, None, k)
    return out


def workspace_fooling_rates(ws, *, Rs: tuple[float, ...] = (1, 2, 5, 10), threshold: float = 0.99,
                            resolution: int = 201, planes: dict[str, Plane] | None = None) -> dict:
    """:func:`fooling_summary` for every model of a workspace, and the RBF head's accuracy.

    Parameters
    ----------
    ws : fooling.workspace.Workspace
    resolution : int, default=201
        Grid cells per side; 201 is within ~1e-3 of 801 on the identity net (see
        ``tests/benchmarks/bench_fooling_rate.py``).
    planes : dict, optional
        :func:`model_planes` of ``ws``, when the caller has them already.

    Returns
    -------
    dict
        ``{"models": {name: summary}, "rbf_head_test_accuracy": float or None,
        "resolution": int, "threshold": float}``.
    """
    planes = model_planes(ws) if planes is None else planes
    models = {name: fooling_summary(p.proba_fn, p.points, p.density, bounds=p.bounds, Rs=Rs,
                                    threshold=threshold, resolution=resolution)
              for name, p in planes.items()}
    accuracy = None
    if "mlp_identity_rbf_head" in planes:
        m = ws.mnist["identity"]
        accuracy = m.rbf_head.score_images(m.split.X_test, m.split.y_test)
    return {"models": models, "rbf_head_test_accuracy": accuracy, "resolution": resolution,
            "threshold": threshold}
