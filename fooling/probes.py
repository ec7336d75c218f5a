"""Points worth probing in a 2D plane: far inside a class region, or its most confident spot.

The rules behind the essay's hand-picked points, made explicit so they hold for any
trained network:

* :func:`far_point` — for an unbounded plane (identity network, iris input plane): from
  the centroid of the training points, walk ``ratio`` data radii in the direction in
  which the class's logit margin over every other class grows fastest. With a linear
  head that direction exists for every class whose region is unbounded, and the
  confidence tends to one along it.
* :func:`most_confident_point` — for a bounded plane (tanh network): the grid point of
  a box where the class's probability is highest.
* :func:`fooling_points` — one such point per class of a trained network, inverted
  into an image, with how it is classified and how exactly it lands.

A ReLU network's plane is the closed positive quadrant: a class whose region runs
without end inside it gets a far point along the quadrant's best direction, at least
:data:`FAR_RATIO` data radii out and as far as it takes for probability
:data:`RELU_CONFIDENCE`; a class whose region is bounded there (the digit such a net
often puts at the origin, both units 0) gets its most confident point of the quadrant.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from .inversion import InversionError
from .network import predict_proba_from

__all__ = ["FAR_RATIO", "RELU_CONFIDENCE", "RELU_EXTENT", "TANH_BOX", "data_radius", "far_direction",
           "far_point", "fooling_points", "most_confident_point"]

FAR_RATIO = 3.0
"""Identity net: fooling points sit this many data radii from the encodings' centroid."""

TANH_BOX = 0.95
"""Tanh net: fooling points are the most confident grid points of [-0.95, 0.95]^2."""

RELU_CONFIDENCE = 0.99
"""ReLU net: a far point walks out (from :data:`FAR_RATIO` data radii, by factors of 1.5, to at
most 100) until its class has at least this probability."""

RELU_EXTENT = 4.0
"""ReLU net: a bounded region's most confident point is searched over ``[0, c + 4 R]^2``
(``c`` the encodings' centroid, ``R`` the data radius)."""

QUADRANT = (0.0, np.pi / 2)
"""Directions (angles) that stay inside the closed positive quadrant."""


def data_radius(points: np.ndarray) -> tuple[np.ndarray, float]:
    """Centroid of ``points`` and the largest distance of a point from it.

    Parameters
    ----------
    points : ndarray of shape (n, 2)

    Returns
    -------
    centroid : ndarray of shape (2,)
    radius : float
    """
    P = np.asarray(points, dtype=float)
    c = P.mean(axis=0)
    return c, float(np.linalg.norm(P - c, axis=1).max())


def far_direction(W: np.ndarray, k: int, n_angles: int = 3600,
                  arc: tuple[float, float] | None = None) -> tuple[np.ndarray, float]:
    """Unit direction in which class ``k``'s logit gains fastest on its closest rival.

    Parameters
    ----------
    W : ndarray of shape (2, n_classes)
        Output weights of a linear head (logits ``h @ W + b``).
    k : int
        Class index.
    n_angles : int, default=3600
    arc : (float, float), optional
        Only directions with angles in this closed range (e.g. :data:`QUADRANT`);
        default every direction.

    Returns
    -------
    direction : ndarray of shape (2,)
    rate : float
        Margin gained per unit distance; <= 0 means the region is bounded.
    """
    t = (np.linspace(0, 2 * np.pi, n_angles, endpoint=False) if arc is None
         else np.linspace(arc[0], arc[1], n_angles))
    U = np.column_stack([np.cos(t), np.sin(t)])
    gain = U @ (W[:, [k]] - np.delete(W, k, axis=1))  # (n_angles, n_classes - 1)
    worst = gain.min(axis=1)
    i = int(np.argmax(worst))
    return U[i], float(worst[i])


def far_point(W: np.ndarray, k: int, centroid: np.ndarray, radius: float,
              ratio: float = 3.0) -> np.ndarray:
    """The point ``ratio`` data radii from ``centroid`` along :func:`far_direction`.

    Returns
    -------
    ndarray of shape (2,)
    """
    u, _ = far_direction(W, k)
    return np.asarray(centroid, dtype=float) + ratio * radius * u


def most_confident_point(proba_fn: Callable[[np.ndarray], np.ndarray], k: int,
                         bounds: tuple[float, float, float, float],
                         resolution: int = 201) -> tuple[np.ndarray, float]:
    """Grid point of ``bounds`` where class ``k`` is most probable.

    Returns
    -------
    point : ndarray of shape (2,)
    probability : float
    """
    x0, x1, y0, y1 = bounds
    gx, gy = np.meshgrid(np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution))
    pts = np.column_stack([gx.ravel(), gy.ravel()])
    p = np.asarray(proba_fn(pts))[:, k]
    i = int(np.argmax(p))
    return pts[i], float(p[i])


def fooling_points(m) -> list[dict]:
    """One fooling image per class: where it is, how it is classified, how exact.

    Parameters
    ----------
    m : fooling.workspace.MnistModel
        Supplies ``net``, ``hidden_layer``, ``train_hidden`` and ``inverter``.

    Identity net: :func:`far_point` at :data:`FAR_RATIO` data radii.
    Tanh net: the most confident grid point of ``[-TANH_BOX, TANH_BOX]^2``; each entry
    also gives ``max_confidence``, the highest probability the class reaches anywhere
    in the closed square ``[-1, 1]^2`` (tanh bounds the plane and so the logits).
    ReLU net (the closed positive quadrant): ``"bounded": false`` entries lie along the
    quadrant's best :func:`far_direction` from the centroid, at least :data:`FAR_RATIO`
    data radii out, walked further until the class has :data:`RELU_CONFIDENCE`;
    ``"bounded": true`` entries are the most confident grid point of
    ``[0, c + RELU_EXTENT R]^2`` (the quadrant's corner included).
    """
    net, layer = m.net, m.hidden_layer
    centroid, radius = data_radius(m.train_hidden)
    lo, hi = m.inverter.codomain
    bounded = bool(np.isfinite(lo) and np.isfinite(hi))
    quadrant = bool(getattr(m.inverter, "relu_", False))

    def proba(H):
        return predict_proba_from(net, H, layer)

    out = []
    for k, label in enumerate(net.classes):
        entry = {"label": int(label)}
        if bounded:
            point, _ = most_confident_point(proba, k, (-TANH_BOX, TANH_BOX) * 2)
            entry["max_confidence"] = most_confident_point(proba, k, (-1.0, 1.0) * 2)[1]
        elif quadrant:
            point, entry["bounded"] = _quadrant_point(proba, net.layers[-1].W, k, centroid, radius)
        else:
            point = far_point(net.layers[-1].W, k, centroid, radius, FAR_RATIO)
        try:
            r = m.inverter.invert(point)
        except InversionError as exc:
            entry.update(hidden=point.tolist(), error=str(exc))
            out.append(entry)
            continue
        entry.update(
            hidden=[float(v) for v in point], predicted=r.predicted,
            probability=float(r.proba[k]), residual=r.residual,
            pixel_min=r.pixel_min, pixel_max=r.pixel_max,
            data_radius_ratio=float(np.linalg.norm(point - centroid) / radius))
        out.append(entry)
    return out


def _quadrant_point(proba, W: np.ndarray, k: int, centroid: np.ndarray,
                    radius: float) -> tuple[np.ndarray, bool]:
    """A ReLU plane's fooling point for class ``k`` and whether its region is bounded there."""
    u, rate = far_direction(W, k, arc=QUADRANT)
    if rate > 0:
        ratio = FAR_RATIO
        point = centroid + ratio * radius * u
        while proba(point[None])[0, k] < RELU_CONFIDENCE and ratio * 1.5 <= 100.0:
            ratio *= 1.5
            point = centroid + ratio * radius * u
        return np.maximum(point, 0.0), False
    top = centroid + RELU_EXTENT * radius
    point, _ = most_confident_point(proba, k, (0.0, float(top[0]), 0.0, float(top[1])))
    return point, True
