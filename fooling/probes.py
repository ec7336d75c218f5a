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
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from .inversion import InversionError
from .network import predict_proba_from

__all__ = ["FAR_RATIO", "TANH_BOX", "data_radius", "far_direction", "far_point", "fooling_points",
           "most_confident_point"]

FAR_RATIO = 3.0
"""Identity net: fooling points sit this many data radii from the encodings' centroid."""

TANH_BOX = 0.95
"""Tanh net: fooling points are the most confident grid points of [-0.95, 0.95]^2."""


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


def far_direction(W: np.ndarray, k: int, n_angles: int = 3600) -> tuple[np.ndarray, float]:
    """Unit direction in which class ``k``'s logit gains fastest on its closest rival.

    Parameters
    ----------
    W : ndarray of shape (2, n_classes)
        Output weights of a linear head (logits ``h @ W + b``).
    k : int
        Class index.

    Returns
    -------
    direction : ndarray of shape (2,)
    rate : float
        Margin gained per unit distance; <= 0 means the region is bounded.
    """
    t = np.linspace(0, 2 * np.pi, n_angles, endpoint=False)
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
    """
    net, layer = m.net, m.hidden_layer
    centroid, radius = data_radius(m.train_hidden)
    bounded = m.inverter.codomain[0] > -np.inf

    def proba(H):
        return predict_proba_from(net, H, layer)

    out = []
    for k, label in enumerate(net.classes):
        entry = {"label": int(label)}
        if bounded:
            point, _ = most_confident_point(proba, k, (-TANH_BOX, TANH_BOX) * 2)
            entry["max_confidence"] = most_confident_point(proba, k, (-1.0, 1.0) * 2)[1]
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
