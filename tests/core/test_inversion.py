"""Tests for fooling.inversion: exact, valid and bounded inversion, and its failures."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import lsq_linear, minimize

from fooling.inversion import InversionError, Inverter, invert_pinv, solve_box
from fooling.network import Network, forward

IDENTITY_SIZES = [30, 12, 6, 2, 3]
TANH_SIZES = [30, 12, 6, 2, 3]


def affine_map(net, layer):
    """``(A, c)`` with ``forward(net, x, layer) == x @ A + c``, probed column by column."""
    n = net.sizes[0]
    c = forward(net, np.zeros(n), layer)
    A = forward(net, np.eye(n), layer) - c
    return A, c


def rel_residual(net, x, h, layer):
    return np.linalg.norm(forward(net, x, layer) - h) / max(1.0, np.linalg.norm(h))


def hidden_points(rng, n=200):
    """Points of the plane near and far: scales from 1e-2 to 1e4."""
    scales = 10.0 ** rng.uniform(-2, 4, size=(n, 1))
    return rng.normal(size=(n, 2)) * scales


# ---------------------------------------------------------------- identity networks
def test_identity_inverter_round_trips_near_and_far(random_net):
    net = random_net(IDENTITY_SIZES, "identity", seed=1)
    inv = Inverter().fit(net)
    assert inv.affine_ and inv.layer_ == 3
    rng = np.random.default_rng(0)
    H = hidden_points(rng)
    assert np.abs(H).max() > 5e3
    for h in H:
        r = inv.invert(h)
        assert r.method == "affine"
        assert r.residual <= 1e-9 * max(1.0, np.linalg.norm(h))
        assert rel_residual(net, r.image, h, 3) <= 1e-9


def test_identity_inverter_gives_min_norm_solution(random_net):
    net = random_net(IDENTITY_SIZES, "identity", seed=2)
    A, c = affine_map(net, 3)
    inv = Inverter().fit(net)
    np.testing.assert_allclose(inv.A_, A, atol=1e-12)
    rng = np.random.default_rng(1)
    for h in hidden_points(rng, 20):
        x = inv.invert(h).image
        x_min, *_ = np.linalg.lstsq(A.T, h - c, rcond=None)
        np.testing.assert_allclose(x, x_min, rtol=1e-8, atol=1e-8 * np.abs(x_min).max())
        # any other preimage is longer: moving along the null space adds length
        null = np.linalg.svd(A.T)[2][2:]
        other = x + null.T @ rng.normal(size=len(null))
        assert np.linalg.norm(other) > np.linalg.norm(x)
        assert rel_residual(net, other, h, 3) <= 1e-9


def test_identity_inverter_intermediate_layer(random_net):
    net = random_net(IDENTITY_SIZES, "identity", seed=3)
    inv = Inverter(layer=2).fit(net)
    h = np.random.default_rng(0).normal(size=6) * 50
    r = inv.invert(h)
    assert r.target.shape == r.hidden.shape == (6,)
    assert rel_residual(net, r.image, h, 2) <= 1e-9


def test_invert_pinv_round_trips_identity_full_column_rank(random_net):
    net = random_net(IDENTITY_SIZES, "identity", seed=4)
    for layer in net.layers[:-1]:  # each W (n_in, n_out) with n_in > n_out has full column rank
        assert np.linalg.matrix_rank(layer.W) == layer.W.shape[1]
    for h in hidden_points(np.random.default_rng(2), 50):
        x = invert_pinv(net, h)
        assert x.shape == (30,)
        assert rel_residual(net, x, h, 3) <= 1e-9


@pytest.mark.parametrize("seed", [0, 1])
def test_identity_valid_reaches_reachable_points(random_net, seed):
    net = random_net(IDENTITY_SIZES, "identity", seed=10 + seed)
    inv = Inverter().fit(net)
    rng = np.random.default_rng(seed)
    images = rng.uniform(0, 1, size=(40, 30))
    reachable = forward(net, images, 3)
    weights = rng.dirichlet(np.ones(5), size=40)
    mixtures = np.einsum("nk,nkd->nd", weights, reachable[rng.integers(0, 40, size=(40, 5))])
    for h in np.vstack([reachable, mixtures]):
        r = inv.invert(h, valid=True)
        assert r.method == "affine-box"
        assert r.in_range and 0.0 <= r.pixel_min and r.pixel_max <= 1.0
        assert np.all((r.image >= 0) & (r.image <= 1))
        assert r.residual <= 1e-6


def test_identity_valid_unreachable_point_reports_residual(random_net):
    net = random_net(IDENTITY_SIZES, "identity", seed=5)
    inv = Inverter().fit(net)
    A, c = affine_map(net, 3)
    h = np.array([1e4, -1e4])
    r = inv.invert(h, valid=True)
    assert r.in_range
    # no valid image lands on h; the answer is the valid image that comes closest
    best = lsq_linear(A.T, h - c, bounds=(0.0, 1.0), method="bvls", tol=1e-14)
    best_res = np.linalg.norm(best.x @ A + c - h)
    assert best_res > 1.0
    assert r.residual == pytest.approx(best_res, rel=1e-9)
    assert r.residual == pytest.approx(np.linalg.norm(r.image @ A + c - h), rel=1e-12)


def test_identity_valid_respects_ref(random_net):
    net = random_net(IDENTITY_SIZES, "identity", seed=6)
    inv = Inverter().fit(net)
    rng = np.random.default_rng(3)
    x0 = rng.uniform(0, 1, 30)
    h = forward(net, x0, 3)
    r = inv.invert(h, valid=True, ref=x0)
    np.testing.assert_allclose(r.image, x0, atol=1e-9)


# ---------------------------------------------------------------- tanh networks
def assert_inside_tanh(net, x, layer):
    for k in range(1, layer + 1):
        a = forward(net, x, k)
        assert np.all(np.abs(a) < 1.0), f"layer {k} saturated"


def test_tanh_inverter_random_net(random_net):
    net = random_net(TANH_SIZES, "tanh", seed=7)
    inv = Inverter().fit(net)
    assert not inv.affine_ and inv.codomain == (-1.0, 1.0)
    rng = np.random.default_rng(4)
    for h in rng.uniform(-0.9, 0.9, size=(200, 2)):
        r = inv.invert(h)
        assert r.residual <= 1e-9
        assert np.linalg.norm(forward(net, r.image, 3) - h) <= 1e-9
        assert_inside_tanh(net, r.image, 3)


def test_tanh_inverter_valid_random_net(random_net):
    net = random_net(TANH_SIZES, "tanh", seed=8)
    inv = Inverter().fit(net)
    rng = np.random.default_rng(5)
    for x0 in rng.uniform(0, 1, size=(10, 30)):
        h = forward(net, x0, 3)
        r = inv.invert(h, valid=True)
        assert r.in_range and r.residual <= 1e-9


def test_tanh_inverter_trained_net(workspace):
    m = workspace.mnist["tanh"]
    assert m.net.sizes == (784, 50, 20, 2, 4)
    inv = Inverter().fit(m.net)
    rng = np.random.default_rng(6)
    for h in rng.uniform(-0.9, 0.9, size=(30, 2)):
        r = inv.invert(h)
        assert r.residual <= 1e-9
        assert_inside_tanh(m.net, r.image, 3)
    # encodings of real digits (saturated, |h| ~ 0.9999) are reachable by valid images
    for h in m.test_hidden[[0, 7]]:
        r = inv.invert(h, valid=True)
        assert r.in_range and r.residual <= 1e-9


def test_identity_valid_trained_net(workspace):
    m = workspace.mnist["identity"]
    inv = m.inverter
    H = m.test_hidden[:6]
    mix = 0.5 * (H[:3] + H[3:])
    for h in np.vstack([H, mix]):
        r = inv.invert(h, valid=True)
        assert r.in_range and r.residual <= 1e-6


@pytest.mark.parametrize("h", [[1.0, 0.0], [0.0, -1.0], [1.5, 0.2], [-3.0, 7.0]])
def test_tanh_point_outside_codomain_raises(random_net, h):
    inv = Inverter().fit(random_net(TANH_SIZES, "tanh"))
    with pytest.raises(InversionError, match="codomain"):
        inv.invert(h)


BAD_POINTS = [[np.nan, 0.0], [0.0, np.inf], [-np.inf, 1.0], [0.1], [0.1, 0.2, 0.3], [],
              "ab", ["a", "b"], [[0.1, 0.2], [0.3, 0.4]]]


@pytest.mark.parametrize("activation", ["identity", "tanh"])
@pytest.mark.parametrize("h", BAD_POINTS, ids=repr)
def test_bad_points_raise_inversion_error(random_net, activation, h):
    net = random_net(TANH_SIZES, activation)
    with pytest.raises(InversionError):
        Inverter().fit(net).invert(h)
    with pytest.raises(InversionError):
        invert_pinv(net, h)


def two_layer_tanh_net():
    """3 -> 2 -> 2 -> 3 tanh net whose second layer is tanh(0.5 * h1): reachable iff |h2_i| < tanh(0.5)."""
    W0 = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, -0.5]])
    return Network.from_arrays([W0, 0.5 * np.eye(2), np.array([[1.0, -1, 0], [0, 1, -1]])],
                               [np.zeros(2), np.zeros(2), np.zeros(3)], "tanh", [0, 1, 2])


def test_invert_pinv_tanh_closed_form():
    net = two_layer_tanh_net()
    edge = np.tanh(0.5)
    for h in [[0.0, 0.0], [0.3, -0.4], [edge - 1e-3, -(edge - 1e-3)]]:
        x = invert_pinv(net, h)
        assert np.linalg.norm(forward(net, x, 2) - h) <= 1e-9
    for h in [[edge + 1e-3, 0.0], [0.0, -0.9], [0.99, 0.99]]:
        with pytest.raises(InversionError, match="codomain"):
            invert_pinv(net, h)


def test_inverter_unreachable_in_codomain_reports_residual():
    net = two_layer_tanh_net()
    inv = Inverter().fit(net)
    edge = np.tanh(0.5)
    h = np.array([0.9, 0.0])
    r = inv.invert(h)
    assert r.method == "gauss-newton"
    # the reachable points come arbitrarily close to (tanh(0.5), 0): that is the optimum
    assert r.residual == pytest.approx(0.9 - edge, abs=1e-9)
    # with pixels in [0, 1], the closest point is tanh(0.5 * tanh(1.5)) along the first axis
    r = inv.invert(h, valid=True)
    assert r.in_range and r.residual == pytest.approx(0.9 - np.tanh(0.5 * np.tanh(1.5)), abs=1e-9)
    r = inv.invert([0.4, -0.3])
    assert r.residual <= 1e-9


def test_invert_pinv_tanh_round_trips_or_raises(random_net):
    net = random_net(TANH_SIZES, "tanh", seed=9, scale=0.5)
    rng = np.random.default_rng(7)
    points = np.vstack([rng.uniform(-0.5, 0.5, (50, 2)), rng.uniform(-0.999999, 0.999999, (100, 2))])
    outcomes = []
    for h in points:
        try:
            x = invert_pinv(net, h)
        except InversionError as exc:
            assert "codomain" in str(exc)
            outcomes.append("raised")
            continue
        assert np.all(np.isfinite(x))
        assert np.linalg.norm(forward(net, x, 3) - h) <= 1e-8
        outcomes.append("round-trip")
    assert {"raised", "round-trip"} <= set(outcomes)  # both branches were exercised


def test_inverter_fit_rejects_unsupported(random_net):
    relu = random_net(TANH_SIZES, "relu")
    tanh = random_net(TANH_SIZES, "tanh")
    mixed = Network((relu.layers[0], tanh.layers[1], *relu.layers[2:]), relu.classes)
    with pytest.raises(ValueError, match="all identity, all ReLU"):
        Inverter().fit(mixed)
    net = random_net(TANH_SIZES, "tanh")
    for layer in (0, 4, -1):
        with pytest.raises(ValueError, match="hidden layer"):
            Inverter(layer=layer).fit(net)


def test_logistic_inverter_round_trips(random_net):
    net = random_net([10, 5, 2, 3], "logistic", seed=3)
    inv = Inverter().fit(net)
    assert inv.codomain == (0.0, 1.0)
    X = np.random.default_rng(0).normal(size=(20, 10))
    for h in forward(net, X, 2):  # reachable points
        r = inv.invert(h)
        assert r.residual <= 1e-9
    with pytest.raises(InversionError, match="codomain"):
        inv.invert([0.0, 0.5])


# ---------------------------------------------------------------- solve_box
def slsqp_nearest(M, t, lo, hi, ref):
    n = M.shape[1]
    res = minimize(lambda x: np.sum((x - ref) ** 2), np.clip(ref, lo, hi), jac=lambda x: 2 * (x - ref),
                   method="SLSQP", bounds=[(lo, hi)] * n,
                   constraints=[{"type": "eq", "fun": lambda x: M @ x - t, "jac": lambda x: M}],
                   options={"ftol": 1e-14, "maxiter": 500})
    assert res.success, res.message
    return res.x


@pytest.mark.parametrize("seed", range(6))
def test_solve_box_matches_slsqp(seed):
    rng = np.random.default_rng(seed)
    M = rng.normal(size=(2, 6))
    x0 = rng.uniform(0, 1, 6)
    t = M @ x0
    for ref in (None, rng.uniform(0, 1, 6)):
        x, res = solve_box(M, t, 0.0, 1.0, ref)
        assert res <= 1e-9
        assert np.all((x >= 0) & (x <= 1))
        expected = slsqp_nearest(M, t, 0.0, 1.0, np.zeros(6) if ref is None else ref)
        np.testing.assert_allclose(x, expected, atol=1e-6)


def test_solve_box_with_active_bounds_beats_unbounded_projection():
    # the unbounded nearest point leaves the box, so the box solution must differ from it
    M = np.array([[1.0, 1.0, 1.0, 1.0]])
    x, res = solve_box(M, np.array([3.4]), 0.0, 1.0, np.array([0.9, 0.9, 0.1, 0.1]))
    # closed form: x = clip(ref + lam, 0, 1) with sum 3.4 -> lam = 0.7: (1, 1, 0.8, 0.8) sums to 3.6,
    # so lam solves 2 + 2 * (0.1 + lam) = 3.4 -> lam = 0.6
    np.testing.assert_allclose(x, [1.0, 1.0, 0.7, 0.7], atol=1e-12)
    assert res <= 1e-12


def test_solve_box_unbounded_is_pseudoinverse():
    rng = np.random.default_rng(1)
    M, t, ref = rng.normal(size=(3, 7)), rng.normal(size=3), rng.normal(size=7)
    x, res = solve_box(M, t, ref=ref)
    np.testing.assert_allclose(x, ref + np.linalg.pinv(M) @ (t - M @ ref), atol=1e-10)
    assert res <= 1e-10
    x0, _ = solve_box(M, t)
    np.testing.assert_allclose(x0, np.linalg.pinv(M) @ t, atol=1e-10)


@pytest.mark.parametrize("seed", range(4))
def test_solve_box_infeasible_reports_residual(seed):
    rng = np.random.default_rng(seed)
    M = rng.normal(size=(2, 5))
    t = M @ rng.uniform(0, 1, 5) + rng.normal(size=2) * 20
    x, res = solve_box(M, t, 0.0, 1.0)
    best = lsq_linear(M, t, bounds=(0.0, 1.0), method="bvls", tol=1e-14)
    best_res = np.linalg.norm(M @ best.x - t)
    assert best_res > 1.0  # the box truly cannot reach t
    assert np.all((x >= 0) & (x <= 1))
    assert res == pytest.approx(np.linalg.norm(M @ x - t))
    assert res == pytest.approx(best_res, rel=1e-9)  # the closest the box gets, not just any box point


# ---------------------------------------------------------------- result fields
@pytest.mark.parametrize("activation", ["identity", "tanh"])
def test_result_fields_are_consistent(random_net, activation):
    net = random_net(TANH_SIZES, activation, seed=11, classes=[5, 6, 7])
    inv = Inverter(pixel_range=(-0.25, 0.75)).fit(net)
    rng = np.random.default_rng(8)
    seen_in, seen_out = False, False
    points = rng.uniform(-0.8, 0.8, size=(30, 2))
    if activation == "identity":
        points[::2] *= 100  # far points need pixels outside the range
    for h in points:
        for valid in (False, True):
            r = inv.invert(h, valid=valid)
            np.testing.assert_array_equal(r.target, h)
            np.testing.assert_allclose(r.hidden, forward(net, r.image, 3))
            assert r.residual == pytest.approx(np.linalg.norm(r.hidden - h))
            np.testing.assert_allclose(r.proba, forward(net, r.image))
            assert r.predicted == net.classes[np.argmax(r.proba)]
            assert r.confidence == r.proba.max()
            assert r.pixel_min == r.image.min() and r.pixel_max == r.image.max()
            assert r.in_range == (r.pixel_min >= -0.25 - 1e-9 and r.pixel_max <= 0.75 + 1e-9)
            if valid:
                assert r.in_range
            seen_in |= r.in_range
            seen_out |= not r.in_range
    assert seen_in
    assert seen_out or activation == "tanh"  # both branches of in_range checked on identity
