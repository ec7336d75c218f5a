"""Tests for fooling.regions: grids of class probabilities and marching-squares contours."""
from __future__ import annotations

import numpy as np
import pytest

from fooling.network import softmax
from fooling.regions import RegionGrid, contour_segments, evaluate_grid, segments_to_path

W = np.array([[2.0, -1.0, 0.0], [0.5, 1.5, -2.0]])
B = np.array([0.1, -0.3, 0.2])


def linear_softmax(P):
    return softmax(np.asarray(P) @ W + B)


@pytest.mark.parametrize("resolution, chunk", [(50, 65536), ((37, 23), 100), ((2, 3), 1)])
def test_evaluate_grid_matches_direct_evaluation(resolution, chunk):
    bounds = (-3.0, 4.0, -2.0, 1.0)
    g = evaluate_grid(linear_softmax, bounds, resolution, chunk=chunk)
    nx, ny = (resolution, resolution) if np.isscalar(resolution) else resolution
    assert g.xs.shape == (nx,) and g.ys.shape == (ny,)
    assert g.proba.shape == (ny, nx, 3) and g.proba.dtype == np.float32
    assert g.bounds == bounds
    gx, gy = np.meshgrid(g.xs, g.ys)
    direct = linear_softmax(np.column_stack([gx.ravel(), gy.ravel()])).reshape(ny, nx, 3)
    np.testing.assert_allclose(g.proba, direct, rtol=1e-6, atol=1e-7)
    # proba[i, j] is at (xs[j], ys[i])
    i, j = ny - 1, 0
    np.testing.assert_allclose(g.proba[i, j], linear_softmax([[g.xs[j], g.ys[i]]])[0], rtol=1e-6)
    np.testing.assert_array_equal(g.predicted, direct.astype(np.float32).argmax(-1))
    top2 = np.sort(direct, axis=-1)[..., -2:]
    clear = top2[..., 1] - top2[..., 0] > 1e-5  # away from float32 ties the float64 argmax agrees
    np.testing.assert_array_equal(g.predicted[clear], direct.argmax(-1)[clear])
    assert g.predicted.dtype == np.uint8
    np.testing.assert_allclose(g.max_proba, direct.max(-1), rtol=1e-6)


def test_evaluate_grid_calls_in_chunks():
    sizes = []

    def fn(P):
        sizes.append(len(P))
        return linear_softmax(P)

    evaluate_grid(fn, (0, 1, 0, 1), (10, 7), chunk=16)
    assert sum(sizes) == 70 and max(sizes) <= 16


@pytest.mark.parametrize("bounds", [(1, 0, 0, 1), (0, 1, 1, 1), (0, np.nan, 0, 1), (0, 1, -np.inf, 1),
                                    (0, 1, 0, np.inf)])
def test_evaluate_grid_rejects_bad_bounds(bounds):
    with pytest.raises(ValueError, match="bounds"):
        evaluate_grid(linear_softmax, bounds, 10)


@pytest.mark.parametrize("resolution", [1, 0, (1, 5), (5, 1)])
def test_evaluate_grid_rejects_bad_resolution(resolution):
    with pytest.raises(ValueError, match="resolution"):
        evaluate_grid(linear_softmax, (0, 1, 0, 1), resolution)


def field(fn, n, lo=-2.0, hi=2.0):
    xs, ys = np.linspace(lo, hi, n), np.linspace(lo, hi * 0.9, n + 3)  # non-square on purpose
    gx, gy = np.meshgrid(xs, ys)
    return fn(gx, gy), xs, ys


def endpoints(segs):
    return segs.reshape(-1, 2)


def test_contour_of_linear_field_lies_on_line():
    values, xs, ys = field(lambda x, y: 0.7 * x - 1.3 * y + 0.2, 40)
    segs = contour_segments(values, xs, ys, 0.0)
    assert segs.ndim == 3 and segs.shape[1:] == (2, 2) and len(segs) > 20
    P = endpoints(segs)
    np.testing.assert_allclose(0.7 * P[:, 0] - 1.3 * P[:, 1] + 0.2, 0.0, atol=1e-12)
    # the segments cover the whole visible part of the line, edge to edge of the box
    assert P[:, 0].min() == pytest.approx(-2.0) and P[:, 0].max() == pytest.approx(2.0)
    # and are joined end to end: every interior endpoint is shared by two segments
    _, counts = np.unique(np.round(P, 9), axis=0, return_counts=True)
    assert (counts == 2).sum() == len(segs) - 1 and (counts == 1).sum() == 2


def test_contour_of_linear_field_at_other_level():
    values, xs, ys = field(lambda x, y: x + y, 25)
    segs = contour_segments(values, xs, ys, 1.5)
    np.testing.assert_allclose(endpoints(segs).sum(axis=1), 1.5, atol=1e-12)


def test_contour_of_radial_field_converges_to_circle():
    errors = []
    for n in (10, 20, 40, 80, 160):
        values, xs, ys = field(lambda x, y: np.hypot(x, y), n)
        segs = contour_segments(values, xs, ys, 1.0)
        P = endpoints(segs)
        r = np.hypot(P[:, 0], P[:, 1])
        errors.append(np.abs(r - 1).max())
        # the contour is one closed loop: every endpoint is shared by exactly two segments
        _, counts = np.unique(np.round(P, 9), axis=0, return_counts=True)
        assert np.all(counts == 2) and len(counts) == len(segs)
    assert all(a > b for a, b in zip(errors, errors[1:])), errors
    assert errors[-1] < 1e-4 and errors[0] > 10 * errors[-1]


def test_contour_of_constant_or_untouched_field_is_empty():
    values, xs, ys = field(lambda x, y: x * 0 + 0.3, 10)
    assert contour_segments(values, xs, ys, 0.5).shape == (0, 2, 2)
    assert contour_segments(values, xs, ys, 0.1).shape == (0, 2, 2)


@pytest.mark.parametrize("offset", [0.2, -0.2])
def test_saddle_cell_pairs_crossings_by_centre(offset):
    # one cell on [-1, 1]^2 of f = x y + offset: bilinear, so the contour is the hyperbola
    # x y = -offset; the centre value (offset) decides which two branches the cell holds
    xs = ys = np.array([-1.0, 1.0])
    gx, gy = np.meshgrid(xs, ys)
    segs = contour_segments(gx * gy + offset, xs, ys, 0.0)
    assert segs.shape == (2, 2, 2)
    P = endpoints(segs)
    np.testing.assert_allclose(P[:, 0] * P[:, 1], -offset, atol=1e-12)
    for seg in segs:  # each segment joins two points of one branch (same quadrant sign pattern)
        assert np.sign(seg[0, 0]) == np.sign(seg[1, 0]) and np.sign(seg[0, 1]) == np.sign(seg[1, 1])
    quadrants = {(np.sign(s[0, 0]), np.sign(s[0, 1])) for s in segs}
    expected = {(1, -1), (-1, 1)} if offset > 0 else {(1, 1), (-1, -1)}
    assert quadrants == expected


def test_contour_endpoints_are_edge_interpolations_of_random_field():
    rng = np.random.default_rng(0)
    xs, ys = np.sort(rng.uniform(0, 5, 9)), np.sort(rng.uniform(-1, 1, 7))
    values = rng.normal(size=(7, 9))
    segs = contour_segments(values, xs, ys, 0.1)
    assert len(segs) > 0
    for x, y in endpoints(segs):
        on_col = np.isclose(xs, x, atol=1e-12)
        on_row = np.isclose(ys, y, atol=1e-12)
        if on_col.any():  # on a vertical edge: interpolate along y
            j = np.flatnonzero(on_col)[0]
            v = np.interp(y, ys, values[:, j])
        else:
            assert on_row.any(), (x, y)
            i = np.flatnonzero(on_row)[0]
            v = np.interp(x, xs, values[i, :])
        assert v == pytest.approx(0.1, abs=1e-9)


def test_region_grid_contours_one_per_class():
    g = evaluate_grid(linear_softmax, (-3, 3, -3, 3), 60)
    per_class = g.contours(0.5)
    assert len(per_class) == 3
    for k, segs in enumerate(per_class):
        P = endpoints(segs)
        if len(P):
            np.testing.assert_allclose(linear_softmax(P)[:, k], 0.5, atol=2e-3)


def test_region_grid_bounds_and_properties():
    g = RegionGrid(np.array([0.0, 1.0]), np.array([2.0, 3.0, 4.0]),
                   np.array([[[0.2, 0.8], [0.6, 0.4]]] * 3, dtype=np.float32))
    assert g.bounds == (0.0, 1.0, 2.0, 4.0)
    np.testing.assert_array_equal(g.predicted, [[1, 0]] * 3)
    np.testing.assert_allclose(g.max_proba, [[0.8, 0.6]] * 3)


def test_segments_to_path_nan_separators():
    segs = np.array([[[0, 1], [2, 3]], [[4, 5], [6, 7]], [[8, 9], [10, 11]]], dtype=float)
    x, y = segments_to_path(segs)
    assert x.shape == y.shape == (9,)
    np.testing.assert_array_equal(x[[0, 1, 3, 4, 6, 7]], [0, 2, 4, 6, 8, 10])
    np.testing.assert_array_equal(y[[0, 1, 3, 4, 6, 7]], [1, 3, 5, 7, 9, 11])
    assert np.isnan(x[2::3]).all() and np.isnan(y[2::3]).all()
    assert (~np.isnan(x)).sum() == 6
    ex, ey = segments_to_path(np.empty((0, 2, 2)))
    assert ex.shape == ey.shape == (0,)
