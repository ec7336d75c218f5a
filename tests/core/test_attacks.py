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
