"""Tests for fooling.probes: far points of unbounded regions, most confident points."""
from __future__ import annotations

import numpy as np
import pytest

from fooling.network import softmax
from fooling.probes import data_radius, far_direction, far_point, most_confident_point


def test_far_direction_two_classes():
    # logit margin of class 0 over class 1 grows along W[:, 0] - W[:, 1] = (0, 2)
    W = np.array([[1.0, 1.0], [1.0, -1.0]])
    u, rate = far_direction(W, 0)
    np.testing.assert_allclose(u, [0.0, 1.0], atol=1e-12)
    assert rate == pytest.approx(2.0)
    u, rate = far_direction(W, 1)
    np.testing.assert_allclose(u, [0.0, -1.0], atol=1e-12)
    assert rate == pytest.approx(2.0)


def test_far_direction_three_symmetric_classes():
    angles = np.deg2rad([0.0, 120.0, 240.0])
    W = np.vstack([np.cos(angles), np.sin(angles)])
    for k, a in enumerate(angles):
        u, rate = far_direction(W, k)
        np.testing.assert_allclose(u, [np.cos(a), np.sin(a)], atol=1e-9)
        assert rate == pytest.approx(1.5)  # 1 - cos(120 degrees)
        assert np.linalg.norm(u) == pytest.approx(1.0)


def test_far_direction_bounded_region():
    # a zero column surrounded by four classes: every direction loses to one of them
    W = np.array([[0.0, 1.0, -1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0, -1.0]])
    u, rate = far_direction(W, 0)
    assert rate <= 0
    assert rate == pytest.approx(-1 / np.sqrt(2), abs=1e-6)
    # the outer classes are unbounded
    for k in range(1, 5):
        assert far_direction(W, k)[1] > 0


def test_far_direction_with_one_tie_is_zero():
    W = np.array([[1.0, -1.0, 0.0], [0.0, 0.0, 0.0]])
    _, rate = far_direction(W, 2)  # only the y axis keeps the middle class level with both
    assert rate == pytest.approx(0.0, abs=1e-12)


def test_far_point_follows_the_direction():
    W = np.array([[1.0, 1.0], [1.0, -1.0]])
    p = far_point(W, 0, np.array([2.0, -1.0]), radius=4.0, ratio=3.0)
    np.testing.assert_allclose(p, [2.0, 11.0], atol=1e-9)
    # probability along the far direction tends to one
    probs = [softmax((far_point(W, 0, np.zeros(2), 1.0, r) @ W)[None])[0, 0] for r in (1, 5, 20)]
    assert probs[0] < probs[1] < probs[2] and probs[2] > 0.999999


def test_data_radius():
    P = np.array([[0.0, 0.0], [2.0, 0.0], [1.0, 3.0], [1.0, -3.0]])
    c, r = data_radius(P)
    np.testing.assert_allclose(c, [1.0, 0.0])
    assert r == pytest.approx(3.0)


def test_most_confident_point_finds_peak():
    peak = np.array([0.3, -0.2])

    def proba(P):
        bump = np.exp(-np.sum((P - peak) ** 2, axis=1))
        return np.column_stack([bump, 1 - bump])

    point, p = most_confident_point(proba, 0, (-1, 1, -1, 1), resolution=201)
    np.testing.assert_allclose(point, peak, atol=1e-12)
    assert p == pytest.approx(1.0)
    # the other class is most confident at the corner farthest from the peak
    point, p = most_confident_point(proba, 1, (-1, 1, -1, 1), resolution=201)
    np.testing.assert_allclose(point, [-1.0, 1.0])
    assert p == pytest.approx(1 - np.exp(-(1.3**2 + 1.2**2)))


def test_most_confident_point_stays_in_bounds():
    def proba(P):
        return softmax(P @ np.array([[1.0, -1.0], [2.0, 0.0]]))

    point, p = most_confident_point(proba, 0, (-0.5, 0.25, -2.0, 0.75), resolution=31)
    np.testing.assert_allclose(point, [0.25, 0.75])
    assert p == pytest.approx(proba(point[None])[0, 0])


def test_far_direction_within_an_arc():
    # class 0 gains fastest along (1, -2), outside the quadrant; inside it the best is the x axis
    W = np.array([[1.0, 0.0], [-2.0, 0.0]])
    u, rate = far_direction(W, 0)
    np.testing.assert_allclose(u, np.array([1.0, -2.0]) / np.sqrt(5), atol=1e-3)
    assert rate == pytest.approx(np.sqrt(5), rel=1e-6)
    u, rate = far_direction(W, 0, arc=(0.0, np.pi / 2))
    np.testing.assert_allclose(u, [1.0, 0.0], atol=1e-12)
    assert rate == pytest.approx(1.0)


def test_relu_fooling_points(workspace):
    from fooling.network import forward, predict_proba_from
    from fooling.probes import RELU_EXTENT, fooling_points

    m = workspace.mnist["relu"]
    c, radius = data_radius(m.train_hidden)
    entries = fooling_points(m)
    assert [e["label"] for e in entries] == [0, 1, 2, 3]
    kinds = {e["bounded"] for e in entries}
    assert kinds == {True, False}  # on the bundled data: one digit at the origin, three unbounded
    rng = np.random.default_rng(0)
    t = np.linspace(0, np.pi / 2, 91)
    rays = np.column_stack([np.cos(t), np.sin(t)])
    for e in entries:
        k = e["label"]
        h = np.array(e["hidden"])
        assert np.all(h >= 0) and e["residual"] <= 1e-9
        r = m.inverter.invert(h)
        np.testing.assert_allclose(forward(m.net, r.image, m.hidden_layer), h, atol=1e-9)
        far = predict_proba_from(m.net, c + 100 * radius * rays, m.hidden_layer)[:, k]
        if not e["bounded"]:
            assert e["data_radius_ratio"] >= 2 and e["probability"] >= 0.99 and e["predicted"] == k
            assert far.max() > 0.99  # some direction of the quadrant runs on inside the region
        else:
            assert far.max() < 0.5  # far out, every direction of the quadrant leaves the region
            top = c + RELU_EXTENT * radius
            sample = rng.uniform(0, 1, (20000, 2)) * top
            best = predict_proba_from(m.net, np.vstack([sample, [[0.0, 0.0]]]), m.hidden_layer)[:, k].max()
            assert e["probability"] >= best - 1e-3
