"""Which hidden points can a *valid* image reach, and how many images reach each?

A valid image has every pixel in the data's range ``[lo, hi]`` (``[0, 1]`` here).

Identity networks: the input-to-hidden map is affine, ``h = x @ A + c`` with ``A`` of
shape (784, 2), so the image of the pixel box is a *zonotope*: ``c`` plus the sum of the
784 segments ``[lo * a_i, hi * a_i]`` (``a_i`` the i-th row of ``A``). It is a convex
polygon with up to ``2 * 784`` vertices, found exactly in O(n log n) by
:func:`reachable_polygon`: sort the generators by angle and walk around. Every vertex
is attained by a box corner (each pixel at ``lo`` or ``hi``): :func:`support_corner`.

Bounded networks (tanh): the map is not affine and its image need not be convex.
:func:`estimate_reachable` returns an *estimate*: the convex hull of hidden points of
valid images pushed as far as possible in many directions.

Not unique: ``A`` has a 782-dimensional null space. Adding any image direction ``d``
with ``d @ A == 0`` (:func:`null_direction`, :func:`null_space_basis`) changes the
image but not its hidden point, so every reachable hidden point is reached by a whole
782-dimensional slice of images.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import null_space
from scipy.spatial import ConvexHull

from .network import ACTIVATIONS, DERIVATIVES, forward

__all__ = ["contains", "estimate_reachable", "move_in_null_space", "nearest_reachable",
           "null_direction", "null_space_basis", "reachable_polygon", "support_corner"]


def reachable_polygon(A: np.ndarray, c: np.ndarray, lo: float = 0.0, hi: float = 1.0,
                      *, rtol: float = 1e-12) -> np.ndarray:
    """The exact image of the pixel box ``lo <= x <= hi`` under ``h = x @ A + c``.

    Parameters
    ----------
    A : ndarray of shape (n_inputs, 2)
    c : ndarray of shape (2,)
    lo, hi : float
        Pixel range, ``lo < hi``.
    rtol : float
        Generators shorter than ``rtol`` times the longest, and vertices whose turn is
        below ``rtol`` (collinear; from parallel generators), are dropped.

    Returns
    -------
    ndarray of shape (m, 2)
        Vertices in counter-clockwise order, starting at the lowest (then leftmost).
    """
    A = np.asarray(A, dtype=float)
    if A.ndim != 2 or A.shape[1] != 2 or not lo < hi:
        raise ValueError(f"need A of shape (n, 2) and lo < hi, got {A.shape}, {lo}, {hi}")
    base = np.asarray(c, dtype=float).reshape(2) + lo * A.sum(axis=0)
    G = (hi - lo) * A
    norm = np.hypot(G[:, 0], G[:, 1])
    G = G[norm > rtol * norm.max(initial=0.0)]
    if not len(G):
        return base[None, :]
    # point every generator into the upper half-plane, angle in [0, pi): [0, g] = g + [0, -g]
    ang = np.arctan2(G[:, 1], G[:, 0])
    flip = (ang < 0) | (ang >= np.pi)
    base = base + G[flip].sum(axis=0)
    G[flip] *= -1
    G = G[np.argsort(np.arctan2(G[:, 1], G[:, 0]), kind="stable")]
    up = base + np.cumsum(G, axis=0)  # lowest vertex -> top, turning left
    down = up[-1] - np.cumsum(G, axis=0)[:-1]  # back down the other side
    V = np.vstack([base, up, down])
    e_in = V - np.roll(V, 1, axis=0)
    e_out = np.roll(V, -1, axis=0) - V
    turn = e_in[:, 0] * e_out[:, 1] - e_in[:, 1] * e_out[:, 0]
    size = np.hypot(*e_in.T) * np.hypot(*e_out.T)
    keep = turn > rtol * size
    return V[keep] if keep.sum() >= 3 else V[[0, len(G)]]


def support_corner(A: np.ndarray, direction: np.ndarray, lo: float = 0.0, hi: float = 1.0) -> np.ndarray:
    """The box corner (image) that pushes ``x @ A`` furthest along ``direction``.

    Parameters
    ----------
    A : ndarray of shape (n_inputs, 2)
    direction : ndarray of shape (2,)

    Returns
    -------
    ndarray of shape (n_inputs,)
        ``hi`` where ``A @ direction > 0``, else ``lo``.
    """
    return np.where(np.asarray(A) @ np.asarray(direction, dtype=float) > 0, hi, lo).astype(float)


def _edges(polygon: np.ndarray):
    V = np.asarray(polygon, dtype=float)
    if V.ndim != 2 or V.shape[1] != 2 or len(V) < 3:
        raise ValueError("need a convex polygon of at least 3 counter-clockwise vertices")
    E = np.roll(V, -1, axis=0) - V
    N = np.column_stack([E[:, 1], -E[:, 0]])  # outward for counter-clockwise order
    N /= np.hypot(N[:, 0], N[:, 1])[:, None]
    return V, E, N


def _scale(V: np.ndarray) -> float:
    return float(np.abs(V - V.mean(axis=0)).max()) or 1.0


def contains(polygon: np.ndarray, points: np.ndarray, *, rtol: float = 1e-9,
             chunk: int = 4096) -> np.ndarray:
    """Whether points lie in a convex polygon (boundary included, up to ``rtol``).

    Parameters
    ----------
    polygon : ndarray of shape (m, 2)
        Counter-clockwise vertices (as from :func:`reachable_polygon`).
    points : ndarray of shape (n, 2) or (2,)
    rtol : float
        Points at most ``rtol`` times the polygon's size outside count as inside.

    Returns
    -------
    ndarray of shape (n,), bool (or a bool for one point)
    """
    V, _, N = _edges(polygon)
    P = np.asarray(points, dtype=float)
    single = P.ndim == 1
    P = np.atleast_2d(P)
    tol = rtol * _scale(V)

    def excess(P, V, N):  # largest signed distance past an edge; <= 0 inside
        off = np.einsum("ij,ij->i", N, V)
        return np.concatenate([(P[i:i + chunk] @ N.T - off).max(axis=1)
                               for i in range(0, len(P), chunk)]) if len(P) else np.zeros(0)

    step = len(V) // 48
    if step < 2:
        out = excess(P, V, N) <= tol
    else:
        # every step-th edge bounds an outer polygon, every step-th vertex spans an inner
        # one: only points between the two need all m edges
        out = np.zeros(len(P), dtype=bool)
        maybe = excess(P, V[::step], N[::step]) <= tol
        inner = V[::step]
        sure = excess(P[maybe], inner, _edges(inner)[2]) <= 0.0
        idx = np.flatnonzero(maybe)
        out[idx[sure]] = True
        rest = idx[~sure]
        out[rest] = excess(P[rest], V, N) <= tol
    return bool(out[0]) if single else out


def nearest_reachable(polygon: np.ndarray, points: np.ndarray, *, chunk: int = 1024) -> np.ndarray:
    """Projection onto a convex polygon: the nearest point of it (the point itself if inside).

    Parameters
    ----------
    polygon : ndarray of shape (m, 2)
        Counter-clockwise vertices.
    points : ndarray of shape (n, 2) or (2,)

    Returns
    -------
    ndarray of the shape of ``points``
    """
    V, E, _ = _edges(polygon)
    P = np.asarray(points, dtype=float)
    single = P.ndim == 1
    P = np.atleast_2d(P)
    out = P.copy()
    inside = contains(V, P, rtol=0.0)
    L2 = np.einsum("ij,ij->i", E, E)
    for i in range(0, len(P), chunk):
        Q = P[i:i + chunk][:, None, :]  # (k, 1, 2)
        t = np.clip(np.einsum("kmj,mj->km", Q - V, E) / L2, 0.0, 1.0)
        proj = V + t[..., None] * E  # (k, m, 2)
        best = np.argmin(((Q - proj) ** 2).sum(axis=-1), axis=1)
        near = proj[np.arange(len(best)), best]
        mask = ~inside[i:i + chunk]
        out[i:i + chunk][mask] = near[mask]
    return out[0] if single else out


def estimate_reachable(inverter, n_directions: int = 256, n_iter: int = 30, *,
                       return_images: bool = False):
    """An **estimate** of the hidden points valid images reach, as a convex polygon.

    For each of ``n_directions`` unit directions ``u`` a Frank-Wolfe ascent over the pixel
    box maximises ``u . h(x)``: at each step the box corner that maximises the
    linearisation, then a step ``2 / (t + 2)`` towards it. Every image visited is valid,
    so every vertex of the returned convex hull is attained by a valid image. It is an
    estimate, not the reachable set: the ascent may stop short of the true extreme (an
    inner estimate of the hull), and for a nonlinear (tanh) map the reachable set need
    not be convex, so points inside the hull may be unreachable. For an affine
    (identity) network the first step is already exact: the estimate's vertices lie on
    :func:`reachable_polygon`.

    Parameters
    ----------
    inverter : fooling.inversion.Inverter
        Fitted; supplies the network, the hidden layer and ``pixel_range``.
    n_directions : int, default=256
    n_iter : int, default=30
    return_images : bool, default=False
        Also return an image attaining each vertex.

    Returns
    -------
    polygon : ndarray of shape (m, 2)
        Counter-clockwise hull vertices.
    images : ndarray of shape (m, n_inputs)
        Only with ``return_images``.
    """
    net, layer = inverter.net_, inverter.layer_
    lo, hi = (float(v) for v in inverter.pixel_range)
    layers = net.layers[:layer]
    t = np.linspace(0.0, 2 * np.pi, int(n_directions), endpoint=False)
    U = np.column_stack([np.cos(t), np.sin(t)])
    X = np.full((len(U), net.sizes[0]), 0.5 * (lo + hi))
    seen_x, seen_h = [], []
    for it in range(int(n_iter)):
        acts = [X]
        for lay in layers:
            acts.append(ACTIVATIONS[lay.activation](acts[-1] @ lay.W + lay.b))
        G = U
        for lay, a in zip(reversed(layers), reversed(acts[1:])):
            G = (G * DERIVATIVES[lay.activation](a)) @ lay.W.T
        S = np.where(G > 0, hi, lo)
        seen_x += [X, S]
        seen_h += [acts[-1], forward(net, S, layer)]
        X = X + 2.0 / (it + 2.0) * (S - X)
    Xs, Hs = np.vstack(seen_x), np.vstack(seen_h)
    hull = ConvexHull(Hs)
    idx = hull.vertices  # counter-clockwise in 2D
    return (Hs[idx], Xs[idx]) if return_images else Hs[idx]


def null_space_basis(A: np.ndarray) -> np.ndarray:
    """Orthonormal basis of the image directions ``d`` with ``d @ A == 0``.

    Parameters
    ----------
    A : ndarray of shape (n_inputs, n_hidden)

    Returns
    -------
    ndarray of shape (n_inputs, n_inputs - rank(A))
        (784, 782) for the essay's identity nets.
    """
    return null_space(np.asarray(A, dtype=float).T)


def move_in_null_space(x: np.ndarray, basis: np.ndarray, coords: np.ndarray) -> np.ndarray:
    """``x + basis @ coords``: another image with the same hidden point.

    Parameters
    ----------
    x : ndarray of shape (n_inputs,)
    basis : ndarray of shape (n_inputs, k)
    coords : ndarray of shape (k,)

    Returns
    -------
    ndarray of shape (n_inputs,)
    """
    return np.asarray(x, dtype=float) + np.asarray(basis) @ np.asarray(coords, dtype=float)


def null_direction(A: np.ndarray, seed: int = 0) -> np.ndarray:
    """A random unit image direction ``d`` with ``d @ A == 0`` (to rounding).

    ``x + s * d`` lands on the same hidden point as ``x`` for every ``s``: the inverse
    image of a hidden point is not unique.

    Parameters
    ----------
    A : ndarray of shape (n_inputs, n_hidden)
    seed : int, default=0

    Returns
    -------
    ndarray of shape (n_inputs,)
    """
    A = np.asarray(A, dtype=float)
    Q, _ = np.linalg.qr(A)
    d = np.random.default_rng(seed).normal(size=A.shape[0])
    for _ in range(2):  # twice: reorthogonalise away the rounding of the first pass
        d = d - Q @ (Q.T @ d)
    return d / np.linalg.norm(d)
