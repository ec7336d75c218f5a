"""Tests for fooling.attacks: overlay blends and the strength sweep."""
from __future__ import annotations

import numpy as np
import pytest

from fooling.attacks import normalized_pattern, overlay, overlay_sweep
from fooling.network import Network


def test_overlay_without_clip_is_raw_sum():
    image = np.array([0.0, 0.5, 1.0])
    pattern = np.array([1.0, -1.0, 0.5])
    blends = overlay(image, pattern, [0.0, 0.5, 2.0], clip=None)
    assert blends.shape == (3, 3)
    np.testing.assert_allclose(blends, [[0, 0.5, 1], [0.5, 0, 1.25], [2, -1.5, 2]])


def test_overlay_with_clip():
    image = np.array([0.0, 0.5, 1.0])
    pattern = np.array([1.0, -1.0, 0.5])
    np.testing.assert_allclose(overlay(image, pattern, 2.0), [[1, 0, 1]])
    np.testing.assert_allclose(overlay(image, pattern, [0.5, 2.0], clip=(-1.0, 1.5)),
                               [[0.5, 0, 1.25], [1.5, -1, 1.5]])


def test_overlay_scalar_strength_and_non_finite():
    assert overlay(np.zeros(4), np.ones(4), 0.3).shape == (1, 4)
    for bad in ([np.nan], [0.1, np.inf], -np.inf):
        with pytest.raises(ValueError, match="finite"):
            overlay(np.zeros(4), np.ones(4), bad)


def test_normalized_pattern():
    p = normalized_pattern([0.5, -2.0, 1.0])
    np.testing.assert_allclose(p, [0.25, -1.0, 0.5])
    assert np.abs(p).max() == 1.0
    q = normalized_pattern(np.array([[3.0, 0.0], [1.5, -0.3]]))
    assert q.max() == 1.0
    for bad in (np.zeros(5), [0.0, np.nan], [1.0, np.inf]):
        with pytest.raises(ValueError, match="not all zero"):
            normalized_pattern(bad)


# a single softmax layer with classes [3, 7]: the logit of 7 minus that of 3 is
# d(s) = d0 + g s along image + s * pattern, so P(7) = sigmoid(d0 + g s)
W = np.array([[1.0, -1.0], [0.0, 2.0], [0.5, 0.5]])
B = np.array([0.3, -0.1])
IMAGE = np.array([1.0, 0.2, 0.4])
PATTERN = np.array([-0.5, 1.0, 0.25])


def linear_net():
    return Network.from_arrays([W], [B], "identity", [3, 7])


def closed_form():
    w = W[:, 1] - W[:, 0]
    return IMAGE @ w + B[1] - B[0], PATTERN @ w


def test_overlay_sweep_matches_closed_form():
    d0, g = closed_form()
    assert d0 < 0 < g  # starts as 3, moves toward 7
    s = np.linspace(0.0, 3.0, 301) + 0.0013  # keep grid points off the exact thresholds
    sweep = overlay_sweep(linear_net(), IMAGE, PATTERN, 7, s, clip=None, min_probability=0.9)
    p7 = 1 / (1 + np.exp(-(d0 + g * s)))
    np.testing.assert_allclose(sweep.target_proba, p7, rtol=1e-12)
    np.testing.assert_array_equal(sweep.predicted, np.where(p7 > 0.5, 7, 3))
    np.testing.assert_allclose(sweep.confidence, np.maximum(p7, 1 - p7), rtol=1e-12)
    first = -d0 / g
    flip = (np.log(9) - d0) / g  # sigmoid(d) = 0.9
    assert sweep.first_flip_strength == s[s > first].min()
    assert sweep.flip_strength == s[s >= flip].min()
    assert sweep.flip_probability == pytest.approx(1 / (1 + np.exp(-(d0 + g * sweep.flip_strength))))
    assert sweep.flip_probability >= 0.9
    assert sweep.target == 7
    np.testing.assert_array_equal(sweep.strengths, s)


def test_overlay_sweep_min_probability_moves_the_flip():
    d0, g = closed_form()
    s = np.linspace(0.0, 10.0, 1001) + 0.0007
    for p in (0.6, 0.99, 0.999):
        sweep = overlay_sweep(linear_net(), IMAGE, PATTERN, 7, s, clip=None, min_probability=p)
        assert sweep.flip_strength == s[s >= (np.log(p / (1 - p)) - d0) / g].min()


def test_overlay_sweep_no_flip_gives_none():
    sweep = overlay_sweep(linear_net(), IMAGE, PATTERN, 7, [0.0, 0.01, 0.02], clip=None)
    assert sweep.flip_strength is None and sweep.flip_probability is None
    assert sweep.first_flip_strength is None
    np.testing.assert_array_equal(sweep.predicted, [3, 3, 3])


def test_overlay_sweep_clip_changes_the_outcome():
    # clipped to [0, 1], pixel 1 saturates at 1: the logit difference stops growing
    d0, g = closed_form()
    s = np.array([0.0, 1.0, 5.0, 50.0])
    raw = overlay_sweep(linear_net(), IMAGE, PATTERN, 7, s, clip=None)
    clipped = overlay_sweep(linear_net(), IMAGE, PATTERN, 7, s, clip=(0.0, 1.0))
    assert raw.target_proba[-1] == pytest.approx(1.0)
    x = np.clip(IMAGE + 50.0 * PATTERN, 0, 1)
    d = x @ (W[:, 1] - W[:, 0]) + B[1] - B[0]
    assert clipped.target_proba[-1] == pytest.approx(1 / (1 + np.exp(-d)))
    assert clipped.target_proba[-1] < raw.target_proba[-1]


@pytest.mark.parametrize("strengths", [[], [0.5, 0.2], [[0.1, 0.2]], [0.0, np.nan], [0.0, np.inf]])
def test_overlay_sweep_rejects_bad_strengths(strengths):
    with pytest.raises(ValueError):
        overlay_sweep(linear_net(), IMAGE, PATTERN, 7, strengths)


@pytest.mark.parametrize("target", [0, 1, 5])
def test_overlay_sweep_rejects_unknown_target(target):
    with pytest.raises(ValueError, match="not one of the network's classes"):
        overlay_sweep(linear_net(), IMAGE, PATTERN, target, [0.0, 1.0])


# ---------------------------------------------------------------- FGSM
def threshold_net():
    """Two inputs, one softmax layer: z0 - z1 = 4 x0 - 2, so class 0 exactly when x0 > 0.5."""
    from fooling.network import Network

    return Network.from_arrays([np.array([[2.0, -2.0], [0.0, 0.0]])], [np.array([-1.0, 1.0])], "identity", [0, 1])


def test_fgsm_steps_by_the_sign_and_clips():
    from fooling.attacks import fgsm

    X = np.array([[0.5, 0.0, 1.0, 0.9]])
    G = np.array([[1.0, -1.0, 1.0, 0.0]])
    np.testing.assert_allclose(fgsm(X, G, 0.25), [[0.75, 0.0, 1.0, 0.9]])
    np.testing.assert_allclose(fgsm(X, G, 0.25, clip=None), [[0.75, -0.25, 1.25, 0.9]])


def test_fgsm_table_by_hand():
    from fooling.attacks import fgsm_table
    from fooling.gradients import network_gradient
    from fooling.network import forward

    net = threshold_net()
    X = np.array([[0.6, 0.3], [0.3, 0.7], [0.9, 0.2]])
    y = np.array([0, 1, 0])
    table = fgsm_table(lambda Z: forward(net, Z), lambda Z, t: network_gradient(net, Z, t)[1],
                       net.classes, X, y, eps=(0.05, 0.25))
    assert set(table) == {"0.05", "0.25"}
    # eps 0.05: x0 moves to 0.55, 0.35, 0.85: nothing crosses 0.5
    assert table["0.05"] == {"error": 0.0, "mean_confidence_on_mistakes": None}
    # eps 0.25: 0.35 (a 0 read as 1, p = sigmoid(0.6)) and 0.55 (a 1 read as 0, p = sigmoid(0.2))
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    assert table["0.25"]["error"] == pytest.approx(2 / 3)
    assert table["0.25"]["mean_confidence_on_mistakes"] == pytest.approx((sig(0.6) + sig(0.2)) / 2)


def test_goodfellow_numbers_are_kept_as_theirs():
    from fooling.attacks import GOODFELLOW_2015

    assert GOODFELLOW_2015["eps"] == 0.25 and "Goodfellow" in GOODFELLOW_2015["source"]
    assert GOODFELLOW_2015["models"]["shallow_softmax"] == {"error": 0.999, "mean_confidence_on_mistakes": 0.793}
    assert GOODFELLOW_2015["models"]["maxout"] == {"error": 0.894, "mean_confidence_on_mistakes": 0.976}
    assert GOODFELLOW_2015["models"]["shallow_rbf"] == {"error": 0.554, "mean_confidence_on_mistakes": 0.012}
