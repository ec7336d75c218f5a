"""Tests for fooling.reachable: the valid-image zonotope, projection, estimates, null space."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.spatial import ConvexHull

from fooling.network import forward
from fooling.reachable import (contains, estimate_reachable, move_in_null_space, nearest_reachable,
                               null_direction, null_space_basis, reachable_polygon, support_corner)


def signed_distance(polygon, points):
    """Largest signed distance of each point past an edge (<= 0 inside)."""
    V = np.asarray(polygon)
    E = np.roll(V, -1, axis=0) - V
    N = np.column_stack([E[:, 1], -E[:, 0]]) / np.hypot(*E.T)[:, None]
    return (np.atleast_2d(points) @ N.T - np.einsum("ij,ij->i", N, V)).max(axis=1)


def is_ccw_convex(V):
    e_in = V - np.roll(V, 1, axis=0)
    e_out = np.roll(V, -1, axis=0) - V
    return np.all(e_in[:, 0] * e_out[:, 1] - e_in[:, 1] * e_out[:, 0] > 0)


def sample_inside(polygon, n, rng):
    lo, hi = polygon.min(0), polygon.max(0)
    out = np.empty((0, 2))
    while len(out) < n:
        P = lo + rng.random((4 * n, 2)) * (hi - lo)
        out = np.vstack([out, P[contains(polygon, P)]])
    return out[:n]


@pytest.fixture(scope="module")
def identity(workspace):
    return workspace.mnist["identity"]


@pytest.fixture(scope="module")
def polygon(identity):
    inv = identity.inverter
    return reachable_polygon(inv.A_, inv.c_, *inv.pixel_range)


# ------------------------------------------------------------------ small exact cases
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_polygon_equals_hull_of_all_box_corners(seed):
    rng = np.random.default_rng(seed)
    A, c = rng.normal(size=(8, 2)), rng.normal(size=2)
    lo, hi = -0.5, 2.0
    corners = np.array(list(itertools.product([lo, hi], repeat=8)))
    H = corners @ A + c
    hull = H[ConvexHull(H).vertices]
    P = reachable_polygon(A, c, lo, hi)
    assert is_ccw_convex(P)
    assert len(P) == len(hull) == 16  # 2n vertices for generators in general position
    for v in hull:
        assert np.min(np.linalg.norm(P - v, axis=1)) < 1e-12


def test_polygon_with_parallel_zero_and_opposite_generators():
    A = np.array([[1.0, 0.0], [2.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
    P = reachable_polygon(A, np.zeros(2))  # x in [-1, 3], y in [0, 1]: a rectangle
    assert len(P) == 4 and is_ccw_convex(P)
    np.testing.assert_allclose(sorted(map(tuple, P)), [(-1, 0), (-1, 1), (3, 0), (3, 1)])


def test_contains_and_nearest_on_a_square():
    sq = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    pts = np.array([[0.5, 0.5], [1.0, 0.5], [1.5, 0.5], [-1.0, -1.0], [0.5, 2.0]])
    np.testing.assert_array_equal(contains(sq, pts), [True, True, False, False, False])
    assert contains(sq, [0.2, 0.3]) is True
    near = nearest_reachable(sq, pts)
    np.testing.assert_allclose(near, [[0.5, 0.5], [1.0, 0.5], [1.0, 0.5], [0.0, 0.0], [0.5, 1.0]])
    np.testing.assert_allclose(nearest_reachable(sq, np.array([3.0, 3.0])), [1.0, 1.0])
    with pytest.raises(ValueError):
        contains(sq[:2], pts)


# ------------------------------------------------------------- the trained identity net
def test_polygon_of_the_trained_net(identity, polygon):
    inv = identity.inverter
    assert is_ccw_convex(polygon)
    assert 3 <= len(polygon) <= 2 * inv.A_.shape[0]
    rng = np.random.default_rng(0)
    corners = (rng.random((2000, inv.A_.shape[0])) < 0.5).astype(float)
    uniform = rng.random((500, inv.A_.shape[0]))
    for X in (corners, uniform, identity.split.X_train):
        H = forward(identity.net, X, identity.hidden_layer)
        assert contains(polygon, H).all()  # brute force never leaves the polygon
    assert contains(polygon, H[ConvexHull(H).vertices]).all()


def test_contains_agrees_with_brute_force_near_the_boundary(identity, polygon):
    rng = np.random.default_rng(5)
    centre = polygon.mean(axis=0)
    scale = np.abs(polygon - centre).max()
    P = np.vstack([centre + rng.uniform(-1.2, 1.2, size=(4000, 2)) * scale,
                   polygon + rng.normal(scale=1e-6 * scale, size=polygon.shape),
                   polygon, 0.5 * (polygon + np.roll(polygon, -1, axis=0))])
    np.testing.assert_array_equal(contains(polygon, P), signed_distance(polygon, P) <= 1e-9 * scale)


def test_each_vertex_is_attained_by_its_support_corner(identity, polygon):
    inv = identity.inverter
    V = polygon
    e_in, e_out = V - np.roll(V, 1, axis=0), np.roll(V, -1, axis=0) - V
    n_in = np.column_stack([e_in[:, 1], -e_in[:, 0]]) / np.hypot(*e_in.T)[:, None]
    n_out = np.column_stack([e_out[:, 1], -e_out[:, 0]]) / np.hypot(*e_out.T)[:, None]
    scale = np.abs(V).max()
    for v, u in zip(V, n_in + n_out):
        x = support_corner(inv.A_, u)
        assert set(np.unique(x)) <= {0.0, 1.0}
        h = forward(identity.net, x, identity.hidden_layer)
        assert np.linalg.norm(h - v) <= 1e-9 * scale


def test_points_inside_invert_to_valid_images(identity, polygon):
    inv = identity.inverter
    rng = np.random.default_rng(1)
    for h in sample_inside(polygon, 200, rng):
        r = inv.invert(h, valid=True)
        assert r.in_range and r.pixel_min >= 0.0 and r.pixel_max <= 1.0
        assert r.residual <= 1e-6


def test_a_point_outside_is_not_reached_and_projects_to_the_boundary(identity, polygon):
    inv = identity.inverter
    centre = polygon.mean(axis=0)
    h = centre + 1.5 * (polygon[0] - centre)
    assert not contains(polygon, h)
    assert inv.invert(h, valid=True).residual > 1e-6
    p = nearest_reachable(polygon, h)
    scale = np.abs(polygon).max()
    assert abs(signed_distance(polygon, p)[0]) <= 1e-9 * scale  # on the boundary
    assert np.linalg.norm(h - p) <= np.linalg.norm(h - polygon, axis=1).min() + 1e-12
    # the boundary point itself is reachable by a valid image
    assert inv.invert(p + 1e-9 * (centre - p), valid=True).residual <= 1e-6


def test_estimate_for_the_identity_net_approaches_the_exact_polygon(identity, polygon):
    est, images = estimate_reachable(identity.inverter, n_directions=64, n_iter=2, return_images=True)
    assert is_ccw_convex(est)
    assert contains(polygon, est).all()
    assert ConvexHull(est).volume / ConvexHull(polygon).volume > 0.98
    np.testing.assert_allclose(forward(identity.net, images, identity.hidden_layer), est, atol=1e-9)


def test_estimate_for_the_tanh_net(workspace):
    m = workspace.mnist["tanh"]
    est, images = estimate_reachable(m.inverter, n_directions=64, n_iter=10, return_images=True)
    assert is_ccw_convex(est)
    assert np.all(np.abs(est) < 1.0)
    assert images.min() >= 0.0 and images.max() <= 1.0  # every vertex from a valid image
    np.testing.assert_allclose(forward(m.net, images, m.hidden_layer), est, atol=1e-12)
    train = m.train_hidden
    assert contains(est, train).mean() > 0.95  # it covers the training encodings


def test_estimate_for_the_relu_net(workspace):
    m = workspace.mnist["relu"]
    est, images = estimate_reachable(m.inverter, n_directions=64, n_iter=10, return_images=True)
    assert is_ccw_convex(est)
    assert np.all(est >= 0.0)  # a ReLU plane is the closed positive quadrant
    assert (est == 0.0).all(axis=1).any()  # the origin (both units off) is a vertex valid images reach
    assert images.min() >= 0.0 and images.max() <= 1.0
    np.testing.assert_allclose(forward(m.net, images, m.hidden_layer), est, atol=1e-9)
    assert contains(est, m.train_hidden).mean() > 0.95
    # every vertex is reached exactly by the ReLU inverter with valid pixels too
    for v in est[::8]:
        r = m.inverter.invert(v, valid=True)
        assert r.in_range and r.residual <= 1e-9


# --------------------------------------------------------------------------- null space
def test_null_space_basis(identity):
    A = identity.inverter.A_
    B = null_space_basis(A)
    assert B.shape == (A.shape[0], A.shape[0] - 2)
    np.testing.assert_allclose(B.T @ B, np.eye(B.shape[1]), atol=1e-10)
    assert np.abs(A.T @ B).max() <= 1e-12 * np.abs(A).max() * A.shape[0]
    x = identity.split.X_test[0]
    y = move_in_null_space(x, B[:, :5], np.ones(5))
    np.testing.assert_allclose(y, x + B[:, :5].sum(1))


def test_moving_along_a_null_direction_keeps_hidden_point_and_prediction(identity):
    inv, net, layer = identity.inverter, identity.net, identity.hidden_layer
    d = null_direction(inv.A_, seed=3)
    assert np.linalg.norm(d) == pytest.approx(1.0)
    assert np.abs(d @ inv.A_).max() <= 1e-13 * np.abs(inv.A_).max() * np.sqrt(len(d))
    assert not np.allclose(d, null_direction(inv.A_, seed=4))
    x = identity.split.X_test[0].astype(float)
    h = forward(net, x, layer)
    label = net.classes[np.argmax(forward(net, x))]
    for s in (-10.0, 0.5, 3.0, 100.0):
        y = x + s * d
        assert np.linalg.norm(y - x) == pytest.approx(abs(s))  # the image changes ...
        assert np.abs(forward(net, y, layer) - h).max() <= 1e-8  # ... its hidden point does not
        assert net.classes[np.argmax(forward(net, y))] == label
