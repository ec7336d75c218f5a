"""Tests for fooling.metrics_maps: the confidence / density map over a disc."""
from __future__ import annotations

import numpy as np

from fooling.density import DensityCheck
from fooling.grids import disc_grid, top_proba
from fooling.metrics import fooling_rate, fooling_summary
from fooling.metrics_maps import confidence_density_map, log_density_level
from fooling.probes import data_radius
from fooling.regions import contour_segments


def blobs(n=300, seed=0):
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0, 0.0], [4.0, 1.0], [1.0, 5.0]])
    return np.vstack([c + rng.normal(scale=0.6, size=(n // 3, 2)) for c in centres])


def linear_proba(P):
    """Two classes split by x = 2, growing sharper with distance (a linear head)."""
    z = 3.0 * (np.asarray(P)[:, 0] - 2.0)
    p1 = 1.0 / (1.0 + np.exp(-z))
    return np.column_stack([1.0 - p1, p1])


def test_log_density_level_splits_training_points_at_the_percentile():
    d = DensityCheck(n_components=3).fit(blobs())
    ref = d.train_log_density_
    assert log_density_level(d, 50) == ref[int(np.ceil(0.5 * len(ref))) - 1]
    assert log_density_level(d) == ref[int(np.ceil(d.threshold_percentile / 100 * len(ref))) - 1]
    assert log_density_level(d, 0) == -np.inf


def test_unbounded_map_matches_disc_grid_and_the_core_shares():
    X = blobs()
    d = DensityCheck(n_components=3).fit(X)
    centroid, radius = data_radius(X)
    rho, n = 5 * radius, 41
    m = confidence_density_map(linear_proba, d, centroid, rho, threshold=0.99, resolution=n,
                               contour_resolution=31)
    assert m["top"].shape == m["flagged"].shape == (n, n)
    assert m["xs"].shape == m["ys"].shape == (n,)
    inside = ~np.isnan(m["top"])
    gx, gy = np.meshgrid(m["xs"], m["ys"])
    pts = np.column_stack([gx[inside], gy[inside]])
    np.testing.assert_array_equal(pts, disc_grid(centroid, rho, n))
    np.testing.assert_array_equal(m["top"][inside], top_proba(linear_proba, pts))
    assert m["n_cells"] == len(pts) and m["n_confident"] == int((m["top"][inside] >= 0.99).sum())
    assert np.isclose(m["share"], fooling_rate(linear_proba, centroid, radius, 5, threshold=0.99, resolution=n))
    summary = fooling_summary(linear_proba, X, d, Rs=(5,), threshold=0.99, resolution=n, flag_R=5)
    assert np.isclose(m["flagged_share"], summary["flagged_by_density"])
    assert not m["flagged"][~inside].any()
    assert not m["flagged"][inside & (np.nan_to_num(m["top"]) < 0.99)].any()
    assert m["max_confidence"] == np.nanmax(m["top"])
    (p0, seg0), (p1, seg1) = m["contours"]
    assert (p0, p1) == (d.threshold_percentile, 50.0)
    x0, x1, y0, y1 = m["box"]
    cx, cy = np.linspace(x0, x1, 31), np.linspace(y0, y1, 31)
    hx, hy = np.meshgrid(cx, cy)
    logd = d.log_density(np.column_stack([hx.ravel(), hy.ravel()])).reshape(hx.shape)
    np.testing.assert_allclose(seg0, contour_segments(logd, cx, cy, log_density_level(d)))
    assert seg1.ndim == 3 and seg1.shape[1:] == (2, 2)


def test_bounded_map_stays_in_the_box_and_nothing_confident_gives_none():
    X = blobs()
    d = DensityCheck(n_components=3).fit(X)
    centroid, radius = data_radius(X)
    bounds = (-1.0, 3.0, 0.0, 2.0)
    flat = lambda P: np.full((len(P), 2), 0.5)  # noqa: E731
    m = confidence_density_map(flat, d, centroid, 10 * radius, resolution=21, contour_resolution=11,
                               bounds=bounds)
    assert m["box"] == bounds
    assert m["xs"].min() > bounds[0] and m["xs"].max() < bounds[1]
    assert m["ys"].min() > bounds[2] and m["ys"].max() < bounds[3]
    assert not np.isnan(m["top"]).any()  # the disc holds all of the box
    assert m["n_confident"] == 0 and m["flagged_share"] is None and m["share"] == 0.0
    assert m["max_confidence"] == 0.5 and not m["flagged"].any()
