"""Tests for fooling.neurons: effective weights, activity-weighted averages, sparsity."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from fooling.network import Network, forward
from fooling.neurons import activation_sparsity, activity_weighted_average, effective_weights


def path_sum(net, layer, pixel, unit):
    """Sum over every path pixel -> ... -> unit of the product of the weights along it."""
    Ws = [l.W for l in net.layers[:layer]]
    inner = [range(W.shape[1]) for W in Ws[:-1]]
    total = 0.0
    for path in itertools.product(*inner):
        nodes = (pixel, *path, unit)
        total += np.prod([W[a, b] for W, a, b in zip(Ws, nodes[:-1], nodes[1:])])
    return total


@pytest.mark.parametrize("layer", [1, 2, 3, 4])
def test_effective_weights_equal_sum_over_paths(random_net, layer):
    net = random_net([4, 3, 3, 2, 3], "tanh", seed=1)
    E = effective_weights(net, layer)
    assert E.shape == (4, net.sizes[layer])
    for unit in range(net.sizes[layer]):
        col = effective_weights(net, layer, unit)
        assert col.shape == (4,)
        np.testing.assert_array_equal(col, E[:, unit])
        expected = [path_sum(net, layer, p, unit) for p in range(4)]
        np.testing.assert_allclose(col, expected, rtol=1e-12, atol=1e-14)


def test_effective_weights_product_of_matrices(random_net):
    net = random_net([6, 5, 4, 3], "relu", seed=2)
    W0, W1, W2 = (l.W for l in net.layers)
    np.testing.assert_allclose(effective_weights(net, 3), W0 @ W1 @ W2, rtol=1e-12)
    np.testing.assert_array_equal(effective_weights(net, 1), W0)


def test_effective_weights_of_identity_net_are_the_linear_map(random_net):
    # biases aside, an identity network is linear: the effective weights are its Jacobian
    net = random_net([5, 4, 2, 3], "identity", seed=3)
    x0 = np.zeros(5)
    J = forward(net, np.eye(5), 2) - forward(net, x0, 2)
    np.testing.assert_allclose(effective_weights(net, 2), J, atol=1e-12)


def explicit_weighted_mean(X, w):
    if w.sum() == 0:
        return np.zeros(X.shape[1])
    return sum(wi * xi for wi, xi in zip(w, X)) / w.sum()


@pytest.mark.parametrize("activation, positive_part", [("relu", False), ("logistic", False),
                                                       ("tanh", True), ("identity", True)])
def test_activity_weighted_average_is_weighted_mean(random_net, activation, positive_part):
    net = random_net([6, 4, 3, 3], activation, seed=4)
    X = np.random.default_rng(0).uniform(0, 1, size=(25, 6))
    for layer in (1, 2, 3):
        A = forward(net, X, layer)
        if positive_part and layer < 3:
            A = np.maximum(A, 0)
        avg = activity_weighted_average(net, X, layer)
        assert avg.shape == (6, net.sizes[layer])
        for unit in range(net.sizes[layer]):
            expected = explicit_weighted_mean(X, A[:, unit])
            np.testing.assert_allclose(avg[:, unit], expected, rtol=1e-12, atol=1e-14)
            np.testing.assert_allclose(activity_weighted_average(net, X, layer, unit), expected,
                                       rtol=1e-12, atol=1e-14)


def test_activity_uses_positive_part_for_signed_activations():
    # one tanh unit equal to tanh(x0 - x1): images with x1 > x0 must not count at all
    net = Network.from_arrays([np.array([[1.0], [-1.0]]), np.array([[1.0, -1.0]])],
                              [np.zeros(1), np.zeros(2)], "tanh", [0, 1])
    X = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 3.0]])
    np.testing.assert_allclose(activity_weighted_average(net, X, 1, 0), [1.0, 0.0])


def test_silent_neuron_gives_zeros():
    W0 = np.array([[1.0, 0.0], [0.5, 0.0], [0.0, 0.0]])
    net = Network.from_arrays([W0, np.ones((2, 2))], [np.array([0.0, -1.0]), np.zeros(2)], "relu", [0, 1])
    X = np.random.default_rng(1).uniform(0, 1, size=(10, 3))
    avg = activity_weighted_average(net, X, 1)
    np.testing.assert_array_equal(avg[:, 1], 0.0)
    np.testing.assert_array_equal(activity_weighted_average(net, X, 1, 1), np.zeros(3))
    assert np.all(np.isfinite(avg)) and avg[:, 0].sum() > 0


def test_activation_sparsity_counts():
    # identity first layer (relu of x): the activity of neuron j on image i is X[i, j]
    net = Network.from_arrays([np.eye(4), np.ones((4, 2))], [np.zeros(4), np.zeros(2)], "relu", [0, 1])
    X = np.array([[1.0, 0.3, 0.5, 0.0],
                  [0.4, 1.0, 5.0, 0.0],
                  [0.2, 0.2, 10.0, 0.0],
                  [0.05, 0.09, 0.9, 0.0]])
    # per-neuron scales with scale_quantile=1: maxima 1, 1, 10, 0 (silent)
    counts = activation_sparsity(net, X, 1, scale_quantile=1.0)
    assert counts.shape == (4, 2)
    # ratios: row0 1, .3, .05, 0 | row1 .4, 1, .5, 0 | row2 .2, .2, 1, 0 | row3 .05, .09, .09, 0
    np.testing.assert_array_equal(counts, [[1, 1], [2, 1], [1, 2], [0, 0]])
    strict = activation_sparsity(net, X, 1, strong=0.9, mild=0.25, scale_quantile=1.0)
    np.testing.assert_array_equal(strict, [[1, 1], [1, 2], [1, 0], [0, 0]])


def test_activation_sparsity_rejects_bad_thresholds(random_net):
    net = random_net([3, 2, 2], "relu")
    X = np.zeros((2, 3))
    for strong, mild in [(0.1, 0.5), (0.5, 0.5), (0.5, 0.0), (0.5, -0.1)]:
        with pytest.raises(ValueError, match="mild"):
            activation_sparsity(net, X, 1, strong=strong, mild=mild)


@pytest.mark.parametrize("layer", [0, 4, -1, 1.0, "1", None])
def test_invalid_layer_raises(random_net, layer):
    net = random_net([3, 2, 2, 2], "relu")
    X = np.zeros((2, 3))
    for call in (lambda: effective_weights(net, layer), lambda: activity_weighted_average(net, X, layer),
                 lambda: activation_sparsity(net, X, layer)):
        with pytest.raises(ValueError, match="layer"):
            call()


@pytest.mark.parametrize("unit", [-1, 2, 1.0, "0"])
def test_invalid_unit_raises(random_net, unit):
    net = random_net([3, 2, 2, 2], "relu")
    with pytest.raises(ValueError, match="unit"):
        effective_weights(net, 1, unit)
    with pytest.raises(ValueError, match="unit"):
        activity_weighted_average(net, np.zeros((2, 3)), 2, unit)


def test_numpy_integer_layer_and_unit_accepted(random_net):
    net = random_net([3, 2, 2, 2], "relu")
    np.testing.assert_array_equal(effective_weights(net, np.int64(2), np.int32(1)),
                                  effective_weights(net, 2, 1))
