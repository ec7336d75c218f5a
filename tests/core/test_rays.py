"""Hein's alpha-ray: confidence along alpha * x."""
from __future__ import annotations

import numpy as np
import pytest

from fooling.network import Layer, Network, forward, softmax
from fooling.rays import ALPHAS, alpha_ray, top_probability_bound


def test_alphas_span_one_to_a_thousand():
    assert ALPHAS[0] == pytest.approx(1.0) and ALPHAS[-1] == pytest.approx(1000.0)
    assert np.all(np.diff(np.log10(ALPHAS)) == pytest.approx(0.1))


def test_a_bias_free_relu_net_is_homogeneous_and_grows_certain(random_net):
    base = random_net([8, 6, 4, 3], "relu", seed=1)
    net = Network(tuple(Layer(l.W, np.zeros_like(l.b), l.activation) for l in base.layers), base.classes)
    X = np.random.default_rng(0).uniform(0, 1, (50, 8))
    logits = forward(net, X, 2) @ net.layers[-1].W  # f(alpha x) = alpha f(x) without biases
    ray = alpha_ray(lambda Z: forward(net, Z), X, np.array([1.0, 10.0, 1000.0]))
    for a, got in zip(ray["alpha"], ray["mean_top_probability"]):
        assert got == pytest.approx(softmax(a * logits).max(axis=1).mean(), rel=1e-12)
    # the theorem's exception: rows whose last hidden layer is 0 keep the same logits (1/3 each)
    dead = (forward(net, X, 2) == 0).all(axis=1)
    top = np.sort(logits, axis=1)
    clear = ~dead & (top[:, -1] - top[:, -2] > 0.01)
    assert dead.any() and clear.sum() > 30
    p = forward(net, 1000 * X).max(axis=1)
    np.testing.assert_allclose(p[dead], 1 / 3)
    assert np.all(p[clear] > 0.9999)
    assert ray["share_confident"][-1] >= clear.mean()


def test_a_bounded_plane_caps_the_ray(workspace):
    from fooling.network import predict_proba_from

    m = workspace.mnist["tanh"]
    bound = top_probability_bound(lambda H: predict_proba_from(m.net, H, m.hidden_layer), (-1, 1, -1, 1))
    X = np.asarray(m.split.X_test[:100], dtype=float)
    ray = alpha_ray(lambda Z: forward(m.net, Z), X)
    assert max(ray["mean_top_probability"]) <= bound + 1e-9
    top = forward(m.net, 1000 * X).max(axis=1)
    assert top.max() <= bound + 1e-3  # no digit, however scaled, beats the corner of the square
    with pytest.raises(ValueError, match="finite"):
        alpha_ray(lambda Z: forward(m.net, Z), X, np.array([1.0, np.inf]))
