"""Tests for fooling.metrics on models whose fooling rate is known in closed form."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial import cKDTree

from fooling.analysis import workspace_fooling_rates
from fooling.grids import disc_grid, top_proba
from fooling.metrics import confidence_vs_distance, fooling_rate, fooling_rates, fooling_summary

T99 = np.log(99.0)  # sigmoid(z) >= 0.99  <=>  z >= ln 99


def sigmoid_model(a: float, theta: float = 0.3):
    """Two classes, p(class 1) = sigmoid(a * s) with s = x cos(theta) + y sin(theta):
    confident where |s| >= ln(99) / a, a strip's outside. theta = 0.3 keeps the strip's
    edges off the grid's columns (aligned edges are the midpoint rule's worst case)."""
    u = np.array([np.cos(theta), np.sin(theta)])

    def proba(P):
        s = 1.0 / (1.0 + np.exp(-a * (P @ u)))
        return np.column_stack([1.0 - s, s])
    return proba


def constant_model(p):
    return lambda P: np.tile(np.asarray(p, dtype=float), (len(P), 1))


def strip_share(t: float, rho: float) -> float:
    """Share of a disc of radius rho outside the strip |x| < t (centred on the disc).

    The strip's part of the disc is 2 * (t * sqrt(rho^2 - t^2) + rho^2 * asin(t / rho));
    divided by pi * rho^2 that is (2 / pi) * (asin(u) + u * sqrt(1 - u^2)), u = t / rho.
    """
    u = min(t / rho, 1.0)
    return 1.0 - (2.0 / np.pi) * (np.arcsin(u) + u * np.sqrt(1.0 - u * u))


# training points on a circle of radius 2 around the origin: centroid 0, data radius 2
CIRCLE = 2.0 * np.column_stack([np.cos(np.arange(8) * np.pi / 4), np.sin(np.arange(8) * np.pi / 4)])


def test_strip_share_formula_limits():
    assert strip_share(0.0, 1.0) == pytest.approx(1.0)
    assert strip_share(1.0, 1.0) == pytest.approx(0.0)
    # Monte Carlo cross-check of the closed form itself
    rng = np.random.default_rng(0)
    P = rng.uniform(-1, 1, size=(400_000, 2))
    P = P[(P**2).sum(1) <= 1]
    assert np.mean(np.abs(P[:, 0]) >= 0.3) == pytest.approx(strip_share(0.3, 1.0), abs=3e-3)


@pytest.mark.parametrize("a, R", [(1.0, 5), (1.0, 10), (3.0, 1), (0.5, 2)])
def test_linear_sigmoid_matches_closed_form(a, R):
    got = fooling_rate(sigmoid_model(a), np.zeros(2), 2.0, R, resolution=401)
    assert got == pytest.approx(strip_share(T99 / a, 2.0 * R), abs=2e-3)


def test_error_shrinks_as_resolution_grows():
    exact = strip_share(T99, 10.0)
    err = {n: abs(fooling_rate(sigmoid_model(1.0), np.zeros(2), 2.0, 5, resolution=n) - exact)
           for n in (51, 101, 201, 401)}
    assert err[401] < 1e-3
    assert err[401] < err[51]
    assert err[401] <= err[101] <= err[51]
    # worst case, strip edges along the grid's columns: error ~ 1 / resolution, still shrinking
    aligned = [abs(fooling_rate(sigmoid_model(1.0, 0.0), np.zeros(2), 2.0, 5, resolution=n) - exact)
               for n in (51, 101, 201, 401)]
    assert aligned == sorted(aligned, reverse=True) and aligned[-1] < 3e-3


def test_never_and_always_confident():
    half, sure = constant_model([0.5, 0.5]), constant_model([0.0, 1.0, 0.0])
    assert fooling_rate(half, [3.0, -1.0], 2.0, 5) == 0.0
    assert fooling_rate(sure, [3.0, -1.0], 2.0, 5) == 1.0
    # the threshold is inclusive
    assert fooling_rate(constant_model([0.01, 0.99]), [0, 0], 1.0, 1) == 1.0


def test_fooling_rates_keys_and_growth():
    rates = fooling_rates(sigmoid_model(1.0), CIRCLE, resolution=201)
    assert list(rates) == ["R1", "R2", "R5", "R10"]
    values = list(rates.values())
    assert values == sorted(values) and values[0] == 0.0  # |x| <= 2 < ln 99 inside R1
    for key, R in (("R5", 5), ("R10", 10)):
        assert rates[key] == pytest.approx(strip_share(T99, 2.0 * R), abs=5e-3)
    assert list(fooling_rates(sigmoid_model(1.0), CIRCLE, Rs=(0.5, 3), resolution=51)) == ["R0.5", "R3"]


def test_bounds_give_the_share_of_the_reachable_part():
    # a disc of radius 1.5 covers the square (-1, 1)^2; with a = 10 along x the confident
    # set is |x| >= 0.4595..., so its share of the square is 1 - ln(99) / 10
    t = T99 / 10.0
    got = fooling_rate(sigmoid_model(10.0, 0.0), np.zeros(2), 1.5, 1, bounds=(-1, 1, -1, 1),
                       resolution=1501)
    assert got == pytest.approx(1.0 - t, abs=2e-3)
    # bounds inside the unconfident strip: nothing is confident there
    assert fooling_rate(sigmoid_model(1.0, 0.0), np.zeros(2), 2.0, 10, bounds=(-1, 1, -5, 5)) == 0.0
    with pytest.raises(ValueError, match="does not meet"):
        fooling_rate(sigmoid_model(1.0), np.zeros(2), 1.0, 1, bounds=(5, 6, 5, 6))


def test_region_restricts_the_disc():
    f = sigmoid_model(1.0)
    right = fooling_rate(f, np.zeros(2), 2.0, 5, region=lambda P: P[:, 0] > 0)
    assert right == pytest.approx(strip_share(T99, 10.0), abs=3e-3)  # symmetric model


def test_disc_grid_points_and_area():
    pts = disc_grid([1.0, -2.0], 3.0, 301)
    assert pts.shape[1] == 2
    assert np.all(np.hypot(pts[:, 0] - 1.0, pts[:, 1] + 2.0) <= 3.0 + 1e-12)
    cell = (6.0 / 301) ** 2
    assert len(pts) * cell == pytest.approx(np.pi * 9.0, rel=2e-3)
    with pytest.raises(ValueError):
        disc_grid([0, 0], 0.0)
    with pytest.raises(ValueError):
        disc_grid([np.nan, 0], 1.0)


def test_top_proba_chunks_agree():
    P = np.random.default_rng(1).normal(size=(1000, 2))
    f = sigmoid_model(2.0)
    np.testing.assert_array_equal(top_proba(f, P, chunk=7), f(P).max(1))
    assert top_proba(f, np.empty((0, 2))).shape == (0,)


def test_confidence_vs_distance_bins_a_distance_model():
    """top = 0.5 + 0.5 exp(-d) with d the distance to the nearest training point: each bin's
    median and 90th percentile lie between the function's values at its edges."""
    tree = cKDTree(CIRCLE)

    def proba(P):
        top = 0.5 + 0.5 * np.exp(-tree.query(P)[0])
        return np.column_stack([top, 1.0 - top])

    out = confidence_vs_distance(proba, CIRCLE, R=5, resolution=151, n_bins=20)
    assert out["radius"] == pytest.approx(2.0)
    assert out["edges"].shape == (21,) and out["centres"].shape == (20,)
    assert out["count"].sum() == len(disc_grid(np.zeros(2), 10.0, 151))
    f = lambda d: 0.5 + 0.5 * np.exp(-d)  # noqa: E731
    ok = out["count"] > 0
    lo, hi = f(out["edges"][1:])[ok], f(out["edges"][:-1])[ok]
    for key in ("median", "p90"):
        v = out[key][ok]
        assert np.all((v >= lo - 1e-12) & (v <= hi + 1e-12))
    assert np.all(np.isnan(out["median"][~ok]))


def test_confidence_vs_distance_of_a_linear_model_rises():
    out = confidence_vs_distance(sigmoid_model(1.0), CIRCLE, R=10, resolution=101, n_bins=10)
    ok = out["count"] > 0
    med = out["median"][ok]
    assert med[0] < 0.99 <= med[-1]


class FarFlagger:
    """Stand-in density check: in distribution within distance 3 of the origin."""

    def in_distribution(self, P):
        return np.hypot(P[:, 0], P[:, 1]) <= 3.0


def test_fooling_summary():
    out = fooling_summary(sigmoid_model(1.0), CIRCLE, FarFlagger(), resolution=201)
    assert set(out) == {"R1", "R2", "R5", "R10", "max_confidence", "flagged_by_density"}
    assert out["max_confidence"] == pytest.approx(1.0)
    assert out["flagged_by_density"] == 1.0  # every confident point has |s| >= 4.6 > 3
    none = fooling_summary(constant_model([0.5, 0.5]), CIRCLE, FarFlagger(), resolution=51)
    assert none["flagged_by_density"] is None and none["max_confidence"] == 0.5
    assert "flagged_by_density" not in fooling_summary(sigmoid_model(1.0), CIRCLE, resolution=51)


def test_workspace_fooling_rates(workspace):
    out = workspace_fooling_rates(workspace, resolution=61)
    models = out["models"]
    assert list(models) == ["logistic", "svm_linear", "svm_rbf", "mlp_identity",
                            "mlp_identity_rbf_head", "mlp_tanh"]
    for v in models.values():
        assert all(0.0 <= v[f"R{R}"] <= 1.0 for R in (1, 2, 5, 10))
    assert models["logistic"]["R10"] > 0.8 and models["svm_rbf"]["R10"] < 0.01
    assert models["mlp_identity"]["R5"] > 0.5 > 20 * models["mlp_identity_rbf_head"]["R5"]
    assert models["mlp_identity"]["flagged_by_density"] > 0.9
    assert models["mlp_tanh"]["max_confidence"] < 1.0
    assert out["rbf_head_test_accuracy"] >= workspace.mnist["identity"].trained.test_accuracy - 0.05
