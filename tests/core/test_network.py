"""Tests for fooling.network: layers, forward propagation, softmax, MLP import/export."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

from fooling.network import Layer, Network, forward, logits_from, predict_proba_from, softmax


def test_forward_shapes_1d_and_2d(random_net):
    net = random_net([5, 4, 3, 2, 3], "tanh")
    X = np.random.default_rng(1).normal(size=(7, 5))
    assert net.sizes == (5, 4, 3, 2, 3)
    for upto, width in enumerate(net.sizes):
        assert forward(net, X, upto).shape == (7, width)
        assert forward(net, X[0], upto).shape == (width,)
    np.testing.assert_allclose(forward(net, X[2]), forward(net, X)[2])
    np.testing.assert_array_equal(forward(net, X, 0), X)


def test_forward_matches_hand_computation(random_net):
    net = random_net([3, 4, 2], "relu")
    x = np.array([0.3, -1.2, 2.0])
    W0, b0 = net.layers[0].W, net.layers[0].b
    W1, b1 = net.layers[1].W, net.layers[1].b
    h = np.maximum(x @ W0 + b0, 0)
    z = h @ W1 + b1
    expected = np.exp(z) / np.exp(z).sum()
    np.testing.assert_allclose(forward(net, x), expected, rtol=1e-12)
    np.testing.assert_allclose(logits_from(net, h, 1), z, rtol=1e-12)


@pytest.mark.parametrize("split", [0, 1, 2, 3, 4])
def test_upto_start_composition(random_net, split):
    net = random_net([6, 5, 4, 2, 3], "tanh", seed=3)
    X = np.random.default_rng(2).normal(size=(11, 6))
    H = forward(net, X, upto=split)
    np.testing.assert_allclose(forward(net, H, start=split), forward(net, X), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(predict_proba_from(net, H, split), forward(net, X), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("start, upto", [(-1, 2), (3, 2), (0, 5), (5, 5)])
def test_forward_rejects_bad_layer_range(random_net, start, upto):
    net = random_net([4, 3, 2, 3], "tanh")
    with pytest.raises(ValueError):
        forward(net, np.zeros((1, 4)), upto, start=start)


def test_forward_rejects_wrong_width(random_net):
    net = random_net([4, 3, 2, 3], "tanh")
    with pytest.raises(ValueError, match="4 columns"):
        forward(net, np.zeros((2, 5)))
    with pytest.raises(ValueError, match="3 columns"):
        forward(net, np.zeros(2), start=1)


def test_layer_validation():
    with pytest.raises(ValueError, match="unknown activation"):
        Layer(np.zeros((2, 2)), np.zeros(2), "swish")
    with pytest.raises(ValueError, match="shapes"):
        Layer(np.zeros((2, 3)), np.zeros(2), "tanh")
    with pytest.raises(ValueError):
        Network.from_arrays([np.zeros((2, 2))], [], "tanh", [0, 1])
    with pytest.raises(ValueError):
        Network.from_arrays([], [], "tanh", [0, 1])


def test_hidden_activation_and_sizes(random_net):
    assert random_net([4, 3, 2, 3], "relu").hidden_activation == "relu"
    single = Network.from_arrays([np.ones((2, 3))], [np.zeros(3)], "tanh", [0, 1, 2])
    assert single.hidden_activation == "identity"
    assert single.sizes == (2, 3)


@pytest.mark.parametrize("activation", ["identity", "tanh", "relu", "logistic"])
def test_from_mlp_matches_predict_proba(activation):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 6))
    y = np.array(["a", "b", "c"])[(X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 0.5)]
    mlp = MLPClassifier(hidden_layer_sizes=(7, 4), activation=activation, max_iter=60, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp.fit(X, y)
    net = Network.from_mlp(mlp)
    assert net.sizes == (6, 7, 4, 3)
    assert [layer.activation for layer in net.layers] == [activation, activation, "softmax"]
    Xq = rng.normal(scale=3.0, size=(50, 6))
    proba = forward(net, Xq)
    np.testing.assert_allclose(proba, mlp.predict_proba(Xq), rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(net.classes[proba.argmax(1)], mlp.predict(Xq))


def test_from_mlp_turns_a_binary_logistic_unit_into_a_two_class_softmax():
    X = np.random.default_rng(0).normal(size=(40, 3))
    mlp = MLPClassifier(hidden_layer_sizes=(3,), max_iter=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp.fit(X, np.where(X[:, 0] > 0, 7, 4))
    net = Network.from_mlp(mlp)
    assert net.sizes == (3, 3, 2) and net.layers[-1].activation == "softmax"
    np.testing.assert_allclose(forward(net, X), mlp.predict_proba(X), rtol=0, atol=1e-12)
    np.testing.assert_array_equal(net.classes, [4, 7])


def test_to_arrays_from_saved_round_trip(random_net, tmp_path):
    net = random_net([5, 4, 2, 3], "tanh", classes=[3, 7, 9])
    np.savez(tmp_path / "net.npz", **net.to_arrays())
    with np.load(tmp_path / "net.npz", allow_pickle=False) as z:
        back = Network.from_saved(dict(z))
    assert back.sizes == net.sizes
    assert [l.activation for l in back.layers] == ["tanh", "tanh", "softmax"]
    np.testing.assert_array_equal(back.classes, [3, 7, 9])
    for a, b in zip(back.layers, net.layers):
        np.testing.assert_array_equal(a.W, b.W)
        np.testing.assert_array_equal(a.b, b.b)
    X = np.random.default_rng(0).normal(size=(4, 5))
    np.testing.assert_array_equal(forward(back, X), forward(net, X))


def test_predict_proba_from_rows_sum_to_one(random_net):
    net = random_net([6, 5, 2, 4], "identity", seed=5)
    H = np.random.default_rng(0).normal(scale=100.0, size=(200, 2))
    P = predict_proba_from(net, H, 2)
    assert P.shape == (200, 4)
    assert np.all(P >= 0)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=1e-12)
    assert predict_proba_from(net, H[0], 2).shape == (4,)


def test_softmax_stable_for_huge_logits():
    z = np.array([[1e308, 0.0, -1e308], [1e308, 1e308, 0.0], [-1e308, -1e308, -1e308], [1000.0, 999.0, 0.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warnings either
        p = softmax(z)
    assert np.all(np.isfinite(p))
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    np.testing.assert_allclose(p[0], [1, 0, 0])
    np.testing.assert_allclose(p[1], [0.5, 0.5, 0])
    np.testing.assert_allclose(p[2], [1 / 3] * 3)
    e = 1 / (1 + np.exp(-1.0))
    np.testing.assert_allclose(p[3], [e, 1 - e, 0], atol=1e-300)


def test_softmax_is_shift_invariant():
    z = np.random.default_rng(0).normal(size=(5, 4))
    np.testing.assert_allclose(softmax(z), softmax(z + 1234.5), rtol=1e-9)
    np.testing.assert_allclose(softmax(z), np.exp(z) / np.exp(z).sum(1, keepdims=True), rtol=1e-12)


@settings(max_examples=200, deadline=None, database=None)
@given(arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(1, 5)),
              elements=st.floats(-1.7e308, 1.7e308, allow_nan=False, allow_infinity=False)))
def test_softmax_property_finite_rows_sum_to_one(z):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p = softmax(z)
    assert p.shape == z.shape
    assert np.all(np.isfinite(p)) and np.all(p >= 0)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-12)
    for zi, pi in zip(z, p):  # order preserving: a larger logit never gets a smaller probability
        order = np.argsort(zi, kind="stable")
        assert np.all(np.diff(pi[order]) >= 0)
