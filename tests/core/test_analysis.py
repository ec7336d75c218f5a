"""The workspace's analyses: computed once, cached on disk, identical when read back."""
from __future__ import annotations

import numpy as np
import pytest

from fooling.analysis import PlaneAnalysis, WorkspaceAnalysis, map_bounds
from fooling.density import DensityCheck
from fooling.heads import fit_rbf_head
from fooling.metrics_maps import log_density_level
from fooling.network import forward, predict_proba_from
from fooling.probes import fooling_points
from fooling.reachable import contains
from fooling.regions import contour_segments


@pytest.fixture(scope="module")
def built(workspace, tmp_path_factory):
    cache = tmp_path_factory.mktemp("analysis")
    return cache, PlaneAnalysis(workspace.mnist["identity"], resolution=60, cache_dir=cache).warm()


def test_plane_analysis_matches_a_fresh_computation(workspace, built):
    _, a = built
    m = workspace.mnist["identity"]
    np.testing.assert_allclose(a.grid.proba, predict_proba_from(m.net, np.column_stack(
        [g.ravel() for g in np.meshgrid(a.grid.xs, a.grid.ys)]), m.hidden_layer).reshape(60, 60, 4),
        atol=1e-6)  # float32 grid
    head = fit_rbf_head(m)
    H = m.test_hidden[:50]
    np.testing.assert_allclose(a.head.predict_proba(H), head.predict_proba(H), atol=1e-12)
    assert a.head_accuracy == head.score_images(m.split.X_test, m.split.y_test)
    d = DensityCheck().fit(m.train_hidden)
    np.testing.assert_allclose(a.density.log_density(H), d.log_density(H), atol=1e-9)
    fresh = fooling_points(m)
    assert [f["label"] for f in a.far_points] == [f["label"] for f in fresh]
    for got, want in zip(a.far_points, fresh):
        assert got["hidden"] == pytest.approx(want["hidden"]) and got["predicted"] == want["predicted"]
        assert got["probability"] == pytest.approx(want["probability"])
    assert a.exact and contains(a.polygon, m.test_hidden).all()
    # the typical line is the density check's own boundary, not an interpolated quantile
    gx, gy = np.meshgrid(a.grid.xs, a.grid.ys)
    logd = a.density.log_density(np.column_stack([gx.ravel(), gy.ravel()])).reshape(gx.shape)
    level = log_density_level(a.density)
    np.testing.assert_allclose(a.typical, contour_segments(logd, a.grid.xs, a.grid.ys, level))
    ref = a.density.train_log_density_
    assert a.density.in_distribution(np.array([[0.0, 0.0]]))[0] == (a.density.log_density([[0.0, 0.0]])[0] > level)
    assert level != np.quantile(ref, 0.01) and (ref > level).mean() >= 0.99
    # directions the network cannot see: moving along them leaves the hidden point put
    x = m.split.X_test[0]
    for d in a.directions:
        assert np.abs(d).max() == pytest.approx(1.0)
        np.testing.assert_allclose(forward(m.net, x + d, m.hidden_layer), forward(m.net, x, m.hidden_layer),
                                   atol=1e-9)
    assert a.null_dim == 782


def test_a_second_analysis_reads_the_cache_and_a_corrupt_file_is_rebuilt(workspace, built, monkeypatch):
    cache, a = built
    b = PlaneAnalysis(workspace.mnist["identity"], resolution=60, cache_dir=cache)
    monkeypatch.setattr(b, "build", lambda: pytest.fail("a cached analysis was computed again"))
    np.testing.assert_array_equal(b.grid.proba, a.grid.proba)
    np.testing.assert_array_equal(b.polygon, a.polygon)
    a.path.write_bytes(b"not an npz")
    c = PlaneAnalysis(workspace.mnist["identity"], resolution=60, cache_dir=cache)
    with pytest.warns(UserWarning, match="rebuilding"):
        np.testing.assert_array_equal(c.rbf_grid.proba, a.rbf_grid.proba)
    other = PlaneAnalysis(workspace.mnist["identity"], resolution=61, cache_dir=cache)
    assert other.path != a.path


def test_map_bounds():
    c = np.array([1.0, 2.0])
    assert map_bounds(c, 1.0, (-1.0, 1.0)) == (-1.0, 1.0, -1.0, 1.0)
    assert map_bounds(c, 1.0, (-np.inf, np.inf), 4) == (-3.0, 5.0, -2.0, 6.0)
    assert map_bounds(c, 1.0, (0.0, np.inf), 4) == pytest.approx((-0.24, 5.0, -0.24, 6.0))


def test_workspace_measurements_are_cached(workspace, tmp_path):
    wa = WorkspaceAnalysis(workspace, resolution=40, cache_dir=tmp_path)
    fr = wa.fooling_rates(resolution=41)
    again = WorkspaceAnalysis(workspace, resolution=40, cache_dir=tmp_path)
    assert again.fooling_rates(resolution=41) == fr
    assert set(fr["models"]) == {"logistic", "svm_linear", "svm_rbf", "mlp_identity", "mlp_tanh",
                                 "mlp_identity_rbf_head"}
    c1 = wa.confidence_curve("logistic", R=10, resolution=51)
    c2 = again.confidence_curve("logistic", R=10, resolution=51)
    np.testing.assert_array_equal(c1["median"], c2["median"])
    m1 = wa.density_map("mlp_tanh", rho=3.0, resolution=31, contour_resolution=21)
    m2 = again.density_map("mlp_tanh", rho=3.0, resolution=31, contour_resolution=21)
    assert m1["box"] == m2["box"] and m1["flagged_share"] == m2["flagged_share"]
    np.testing.assert_array_equal(m1["top"], m2["top"])
    assert [lvl for lvl, _ in m1["contours"]] == [1.0, 50.0]
    img = wa.image_density()
    assert again.image_density().train_log_density_.tolist() == img.train_log_density_.tolist()


def test_plane_analysis_of_the_relu_net(workspace, tmp_path):
    m = workspace.mnist["relu"]
    a = PlaneAnalysis(m, resolution=40, cache_dir=tmp_path).warm()
    x0, x1, y0, y1 = a.bounds
    assert x0 < 0 < x1 and y0 < 0 < y1 and not a.bounded  # the quadrant's edges are in view
    assert np.all(a.polygon >= -1e-12) and not a.exact
    assert contains(a.polygon, m.test_hidden).mean() >= 0.99
    fresh = fooling_points(m)
    np.testing.assert_allclose([f["hidden"] for f in a.far_points], [f["hidden"] for f in fresh])
    assert all(f["residual"] <= 1e-9 for f in a.far_points)
    assert 0.9 <= a.head_accuracy <= 1.0
    assert np.all(np.isfinite(a.density.log_density(m.test_hidden)))
    x = m.split.X_test[0]
    for d in a.directions:
        np.testing.assert_allclose(forward(m.net, x + d, m.hidden_layer), forward(m.net, x, m.hidden_layer),
                                   atol=1e-9)
    assert a.null_dim == 784 - 50
