"""Tests for fooling.walk: nearest images on a hidden point, checked against scipy's solvers,
optimality conditions and forward propagation; the ray; unreachable points."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from scipy.optimize import lsq_linear, minimize

from fooling.digits import DigitError
from fooling.inversion import InversionError, Inverter
from fooling.network import ACTIVATIONS, DERIVATIVES, forward
from fooling.walk import MAX_T, move_to, trace_ray, walk

SMALL = [12, 6, 2, 3]


def small_model(random_net, activation, seed=0, **kw):
    """A stand-in for MnistModel on a small random network (walk uses only these four)."""
    net = random_net(SMALL, activation, seed=seed, **kw)
    X = np.random.default_rng(seed).uniform(size=(200, SMALL[0]))
    layer = len(net.layers) - 1
    return SimpleNamespace(net=net, hidden_layer=layer, inverter=Inverter().fit(net),
                           train_hidden=forward(net, X, layer))


def jac(model, y):
    """Finite-difference-free Jacobian, written independently of fooling.walk (forward mode)."""
    a, J = y, np.eye(len(y))
    for lay in model.net.layers[: model.hidden_layer]:
        a = ACTIVATIONS[lay.activation](a @ lay.W + lay.b)
        J = (J @ lay.W) * DERIVATIVES[lay.activation](a)
    return J.T  # (n_hidden, n_inputs)


def scipy_nearest(model, x, target, valid, starts):
    """SLSQP: min ||y - x||^2 subject to h(y) = target (and 0 <= y <= 1), best of several starts."""
    f = lambda y: forward(model.net, y, model.hidden_layer) - target  # noqa: E731
    best = None
    for y0 in starts:
        r = minimize(lambda y: np.sum((y - x) ** 2), y0, jac=lambda y: 2 * (y - x), method="SLSQP",
                     constraints=[{"type": "eq", "fun": f, "jac": lambda y: jac(model, y)}],
                     bounds=[(0, 1)] * len(x) if valid else None,
                     options={"ftol": 1e-14, "maxiter": 500})
        if np.linalg.norm(f(r.x)) < 1e-7 and (best is None or r.fun < best.fun):
            best = r
    assert best is not None, "scipy found no feasible point"
    return best.x


def check_record(model, move, head=None):
    """Every number of a Move, recomputed here by propagating its image."""
    net, k = model.net, model.hidden_layer
    np.testing.assert_allclose(move.hidden, forward(net, move.image, k), rtol=0, atol=1e-12)
    proba = forward(net, move.image)
    np.testing.assert_allclose(move.proba, proba, atol=1e-12)
    assert move.predicted == net.classes[np.argmax(proba)] and move.confidence == pytest.approx(proba.max())
    assert move.residual == pytest.approx(np.linalg.norm(forward(net, move.image, k) - move.target),
                                          rel=1e-6, abs=1e-12)
    assert move.change_l2 == pytest.approx(np.linalg.norm(move.image - move.original))
    assert move.change_max == pytest.approx(np.abs(move.image - move.original).max())
    assert move.valid == bool(move.image.min() >= 0 and move.image.max() <= 1)
    if head is not None:
        hp = head.predict_proba(move.hidden[None])[0]
        np.testing.assert_allclose(move.head_proba, hp)
        assert move.head_predicted == head.classes_[np.argmax(hp)]


# ---------------------------------------------------------------- small nets vs scipy
@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("valid", [False, True])
def test_identity_nearest_matches_scipy(random_net, seed, valid):
    m = small_model(random_net, "identity", seed)
    rng = np.random.default_rng(seed + 10)
    x = rng.uniform(size=SMALL[0])
    target = forward(m.net, rng.uniform(size=SMALL[0]), m.hidden_layer)  # a valid image reaches it
    mv = move_to(m, x, target, valid=valid)
    ref = scipy_nearest(m, x, target, valid, [x, np.full_like(x, 0.5)])
    assert mv.reached and mv.residual < 1e-9
    assert mv.change_l2 == pytest.approx(np.linalg.norm(ref - x), abs=1e-6)
    np.testing.assert_allclose(mv.image, ref, atol=1e-5)
    # on an identity net Inverter.invert(ref=x) is that nearest image too
    np.testing.assert_allclose(m.inverter.invert(target, valid=valid, ref=x).image, ref, atol=1e-5)
    check_record(m, mv)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("valid", [False, True])
def test_tanh_nearest_is_at_least_as_near_as_scipy(random_net, seed, valid):
    m = small_model(random_net, "tanh", seed)
    rng = np.random.default_rng(seed + 20)
    x = rng.uniform(size=SMALL[0])
    target = forward(m.net, rng.uniform(size=SMALL[0]), m.hidden_layer)
    mv = move_to(m, x, target, valid=valid)
    assert mv.reached and mv.residual < 1e-10 and (mv.valid or not valid)
    starts = [x, np.full_like(x, 0.5), mv.image + 1e-3 * rng.normal(size=x.shape)]
    ref = scipy_nearest(m, x, target, valid, starts)
    assert mv.change_l2 <= np.linalg.norm(ref - x) + 1e-6
    # and the inverter's answer with ref=x is never nearer
    inv = m.inverter.invert(target, valid=valid, ref=x)
    assert mv.change_l2 <= np.linalg.norm(inv.image - x) + 1e-9
    check_record(m, mv)


def test_inverter_with_ref_is_not_the_nearest_image_on_tanh(random_net):
    """What motivated move_to's own solver: Inverter.invert(ref=x) is nearest only for the
    first layer's equations, so on tanh nets it lands far from the nearest image."""
    gaps = []
    for seed in range(4):
        m = small_model(random_net, "tanh", seed)
        rng = np.random.default_rng(seed + 20)
        x = rng.uniform(size=SMALL[0])
        target = forward(m.net, rng.uniform(size=SMALL[0]), m.hidden_layer)
        inv = m.inverter.invert(target, ref=x)
        gaps.append(np.linalg.norm(inv.image - x) - move_to(m, x, target).change_l2)
    assert min(gaps) > -1e-9 and max(gaps) > 0.1


def test_identity_unreachable_valid_target_goes_to_the_nearest_reachable_point(random_net):
    m = small_model(random_net, "identity", 1)
    inv = m.inverter
    x = np.full(SMALL[0], 0.3)
    for target in ([40.0, -35.0], [1e4, 3.0], [-200.0, -200.0]):
        target = np.asarray(target)
        mv = move_to(m, x, target, valid=True)
        best = lsq_linear(inv.A_.T, target - inv.c_, bounds=(0, 1), method="bvls", tol=1e-14)
        best_h = best.x @ inv.A_ + inv.c_
        assert not mv.reached and mv.valid and mv.method == "nearest-reachable"
        assert mv.residual == pytest.approx(np.linalg.norm(best_h - target), rel=1e-9)
        np.testing.assert_allclose(mv.hidden, best_h, atol=1e-9 * np.abs(target).max())
        assert mv.change_l2 <= np.linalg.norm(best.x - x) + 1e-9
        check_record(m, mv)


# ---------------------------------------------------------------- the trained nets
def kkt_gap(model, move, valid):
    """How far a move is from the first-order conditions of min ||y - x|| s.t. h(y) = target:
    y - x = J(y)^T lam on the pixels not held at a bound (fitted lam, relative)."""
    y, x = move.image, move.original
    J = jac(model, y)
    free = (y > 1e-12) & (y < 1 - 1e-12) if valid else np.ones(len(y), bool)
    lam = np.linalg.lstsq(J[:, free].T, (y - x)[free], rcond=None)[0]
    gap = np.linalg.norm((y - x)[free] - J[:, free].T @ lam) / max(1e-12, np.linalg.norm(y - x))
    if valid:  # held pixels: the gradient must push them outward
        g = x + J.T @ lam - y
        held_lo, held_hi = y <= 1e-12, y >= 1 - 1e-12
        gap = max(gap, float(np.maximum(g[held_lo], 0).max(initial=0)), float(np.maximum(-g[held_hi], 0).max(initial=0)))
    return gap


@pytest.mark.parametrize("name", ["identity", "tanh"])
@pytest.mark.parametrize("valid", [False, True])
def test_trained_nets_moves_are_exact_and_optimal(workspace, name, valid):
    m = workspace.mnist[name]
    x = m.split.X_test[7].astype(float)
    c, r = np.mean(m.train_hidden, 0), np.linalg.norm(m.train_hidden - np.mean(m.train_hidden, 0), axis=1).max()
    targets = [np.mean(m.train_hidden[m.split.y_train == k], 0) for k in (0, 1, 3)]
    if name == "identity":
        targets.append(c + 0.3 * r * np.array([0.6, -0.8]))
    for target in targets:
        mv = move_to(m, x, target, valid=valid)
        assert mv.reached and mv.residual <= (1e-9 if name == "tanh" else 1e-9 * max(1, np.abs(target).max()))
        assert kkt_gap(m, mv, valid) < 1e-5
        assert mv.valid or not valid
        check_record(m, mv)
        if name == "tanh":  # nearer than the inverter's image with ref=x
            assert mv.change_l2 < np.linalg.norm(m.inverter.invert(target, valid=valid, ref=x).image - x)


def test_identity_move_without_bounds_is_the_pseudoinverse_step(workspace):
    m = workspace.mnist["identity"]
    x = m.split.X_test[2].astype(float)
    target = np.array([2500.0, -1200.0])
    mv = move_to(m, x, target)
    # any other image on the target differs by a null-space direction: it is farther
    inv = m.inverter
    assert np.linalg.norm(mv.image @ inv.A_ + inv.c_ - target) < 1e-8
    d = mv.image - x
    np.testing.assert_allclose(d, inv.A_ @ np.linalg.lstsq(inv.A_, d, rcond=None)[0], atol=1e-10)
    null = np.random.default_rng(0).normal(size=784)
    null -= inv.A_ @ np.linalg.lstsq(inv.A_, null, rcond=None)[0]
    assert np.linalg.norm(mv.image + 0.01 * null - x) > mv.change_l2
    assert mv.confidence > 0.99 and not mv.valid


def test_head_answers_are_reported(workspace):
    from fooling.heads import fit_rbf_head

    m = workspace.mnist["identity"]
    head = fit_rbf_head(m)
    x = m.split.X_test[0].astype(float)
    mv = walk(m, x, 4.0, head=head)
    check_record(m, mv, head)
    assert mv.head_confidence < mv.confidence  # far away: the RBF head is unsure, the linear one not
    assert move_to(m, x, mv.target).head_proba is None


# ---------------------------------------------------------------- the ray
@pytest.mark.parametrize("name", ["identity", "tanh"])
def test_ray_starts_at_the_digit_and_runs_away_from_the_centroid(workspace, name):
    m = workspace.mnist[name]
    x = m.split.X_test[5].astype(float)
    ray = trace_ray(m, x)
    h = forward(m.net, x, m.hidden_layer)
    c = m.train_hidden.mean(axis=0)
    R = np.linalg.norm(m.train_hidden - c, axis=1).max()
    np.testing.assert_allclose(ray.start, h)
    assert ray.radius == pytest.approx(R)
    for t in (0.5, 3.0):
        p = ray.point(t)
        assert np.linalg.norm(p - c) == pytest.approx(np.linalg.norm(h - c) + t * R)
        u, v = p - c, h - c
        assert abs(u[0] * v[1] - u[1] * v[0]) < 1e-9 * np.linalg.norm(u) * np.linalg.norm(v)
    mv = walk(m, x, 0.0, ray=ray)
    assert mv.change_l2 == 0 and mv.residual == 0 and mv.t == 0
    if name == "identity":
        assert ray.t_max == np.inf
    else:  # the square's boundary: reachable just before, refused at and after
        assert np.abs(ray.point(ray.t_max)).max() == pytest.approx(1.0, abs=1e-12)
        assert walk(m, x, ray.t_max / 2, ray=ray).reached
        for t in (ray.t_max, min(MAX_T, ray.t_max * 2 + 0.1), MAX_T):
            with pytest.raises(InversionError, match="only t <"):
                walk(m, x, t, ray=ray)


def test_identity_walk_to_ten_radii(workspace):
    m = workspace.mnist["identity"]
    x = m.split.X_test[5].astype(float)
    ray = trace_ray(m, x)
    free = [walk(m, x, t, ray=ray) for t in (1.0, 5.0, 10.0)]
    assert all(mv.reached and not mv.valid for mv in free[1:])
    assert [mv.change_l2 for mv in free] == sorted(mv.change_l2 for mv in free)
    # change grows linearly: the map is affine
    assert free[2].change_l2 / free[1].change_l2 == pytest.approx(2.0, rel=1e-9)
    far = walk(m, x, 10.0, valid=True, ray=ray)
    assert far.valid and not far.reached and far.residual > ray.radius
    for mv in free + [far]:
        check_record(m, mv)


@pytest.mark.parametrize("t", [-0.1, MAX_T + 0.1, float("nan"), float("inf"), "far", None])
def test_bad_walk_distances(workspace, t):
    m = workspace.mnist["identity"]
    with pytest.raises(InversionError, match="distance t"):
        walk(m, m.split.X_test[0], t)


@pytest.mark.parametrize("target", [[1.5, 0.0], [1.0, 0.2], [-1.0, -0.5], [0.2, -3.0]])
def test_tanh_targets_outside_the_square_are_refused(workspace, target):
    m = workspace.mnist["tanh"]
    with pytest.raises(InversionError, match="codomain"):
        move_to(m, m.split.X_test[0], target)


@pytest.mark.parametrize("target", [[np.nan, 0.0], [np.inf, 1.0], [1.0], [1.0, 2.0, 3.0], "xy", None])
def test_bad_targets_are_inversion_errors(workspace, target):
    with pytest.raises(InversionError):
        move_to(workspace.mnist["identity"], workspace.mnist["identity"].split.X_test[0], target)


@pytest.mark.parametrize("image", [np.zeros(783), np.full(784, np.nan), "digit", None])
def test_bad_images_are_digit_errors(workspace, image):
    m = workspace.mnist["identity"]
    with pytest.raises(DigitError):
        move_to(m, image, [0.0, 0.0])
    with pytest.raises(DigitError):
        trace_ray(m, image)


def test_tanh_valid_point_no_image_reaches_gives_the_nearest_it_can(workspace):
    m = workspace.mnist["tanh"]
    x = m.split.X_test[0].astype(float)
    mv = move_to(m, x, [-0.99999, -0.99999], valid=True)
    assert mv.valid and not mv.reached and 0 < mv.residual < 0.01
    check_record(m, mv)


# ---------------------------------------------------------------- ReLU
def test_relu_moves_are_exact_no_farther_than_the_inverter_and_refuse_negatives(workspace):
    m = workspace.mnist["relu"]
    x = m.split.X_test[3].astype(float)
    for target, valid in (([10.0, 10.0], False), ([10.0, 10.0], True), ([100.0, 0.5], False),
                          ([0.5, 20.0], True)):
        mv = move_to(m, x, target, valid=valid)
        assert mv.reached and mv.residual <= 1e-9 * max(1, max(target))
        assert mv.valid or not valid
        # a local answer (the level set has kinks where a unit switches), never worse than
        # the inverter's
        assert mv.change_l2 <= np.linalg.norm(m.inverter.invert(target, valid=valid, ref=x).image - x) + 1e-9
        check_record(m, mv)
    with pytest.raises(InversionError, match=">= 0"):
        move_to(m, x, [-1.0, 3.0])


def test_relu_valid_point_no_image_reaches_and_the_ray_to_the_quadrant_edge(workspace):
    m = workspace.mnist["relu"]
    x = m.split.X_test[3].astype(float)
    mv = move_to(m, x, [3000.0, 3000.0], valid=True)
    assert mv.valid and not mv.reached and mv.method == "nearest-reachable"
    check_record(m, mv)
    ray = trace_ray(m, x)
    assert np.isfinite(ray.t_max) and np.min(ray.point(ray.t_max)) == pytest.approx(0.0, abs=1e-9)
    edge = walk(m, x, min(ray.t_max, MAX_T), ray=ray)  # 0 is an output of ReLU: reachable
    assert edge.reached and edge.target.min() >= 0
    if ray.t_max < MAX_T:
        with pytest.raises(InversionError, match="only t <="):
            walk(m, x, min(MAX_T, ray.t_max * 1.01 + 1e-6), ray=ray)
