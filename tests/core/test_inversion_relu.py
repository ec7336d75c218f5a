"""ReLU inversion: exact on reachable points of every layer, rejected (with a reason) elsewhere."""
from __future__ import annotations

import numpy as np
import pytest

from fooling.inversion import InversionError, Inverter, invert_pinv
from fooling.network import Layer, Network, forward
from fooling.probes import data_radius

NARROWING = [30, 12, 6, 2, 3]  # first layer has full column rank: the search starts at its activations
WIDENING = [5, 8, 6, 2, 3]  # more first-layer units than inputs: the search starts at the input


def scaled_inputs(rng, n, d):
    return rng.normal(size=(n, d)) * 10.0 ** rng.uniform(-2, 2, size=(n, 1))


@pytest.mark.parametrize("sizes", [NARROWING, WIDENING], ids=["narrowing", "widening"])
@pytest.mark.parametrize("layer", [1, 2, 3])
def test_relu_inverts_reachable_points_exactly(random_net, sizes, layer):
    net = random_net(sizes, "relu", seed=7)
    inv = Inverter(layer=layer).fit(net)
    assert inv.relu_ and not inv.affine_
    rng = np.random.default_rng(layer)
    H = forward(net, scaled_inputs(rng, 200, sizes[0]), layer)
    assert (H == 0).any() and (H > 0).any()  # both kinds of units occur: matched and at 0
    for h in H:
        assert inv.in_codomain(h)
        r = inv.invert(h)
        assert r.method.startswith("relu")
        assert r.residual <= 1e-9
        np.testing.assert_allclose(forward(net, r.image, layer), h, rtol=0, atol=1e-9)


@pytest.mark.parametrize("sizes", [NARROWING, WIDENING], ids=["narrowing", "widening"])
def test_relu_rejects_points_outside_the_orthant(random_net, sizes):
    inv = Inverter().fit(random_net(sizes, "relu", seed=3))
    rng = np.random.default_rng(0)
    for h in [[-1.0, 2.0], [3.0, -1e-12], [-5.0, -5.0]] + list(-np.abs(rng.normal(size=(20, 2)))):
        assert not inv.in_codomain(h)
        with pytest.raises(InversionError, match=r"only values >= 0.*no input reaches it"):
            inv.invert(h)
        with pytest.raises(InversionError, match="only values >= 0"):
            inv.invert(h, valid=True)


def ray_net():
    """4 -> 3 -> 1 -> 2 -> 2 ReLU net with a known reachable set at its 2-unit layer.

    Layer 1 is relu(x[:3]); layer 2 is s = relu(sum), any s >= 0 (s <= 3 for pixels in
    [0, 1]); layer 3 is (s, relu(2 s - 1)): the segment from (0, 0) to (0.5, 0), then the
    ray (s, 2 s - 1).
    """
    W0 = np.vstack([np.eye(3), np.zeros((1, 3))])
    layers = (Layer(W0, np.zeros(3), "relu"), Layer(np.ones((3, 1)), np.zeros(1), "relu"),
              Layer(np.array([[1.0, 2.0]]), np.array([0.0, -1.0]), "relu"),
              Layer(np.array([[1.0, -1.0], [-1.0, 1.0]]), np.zeros(2), "softmax"))
    return Network(layers, np.array([0, 1]))


def test_relu_known_reachable_set():
    inv = Inverter().fit(ray_net())
    for h in [[0.0, 0.0], [0.3, 0.0], [0.5, 0.0], [2.0, 3.0], [40.0, 79.0]]:
        r = inv.invert(h)
        assert r.residual <= 1e-9, h
    for h in [[2.0, 1.0], [0.8, 0.0], [0.0, 1.0], [1.0, 3.0]]:
        assert inv.in_codomain(h)  # inside the orthant, yet nothing lands there
        with pytest.raises(InversionError, match=r"no input reaches .* outside the region"):
            inv.invert(h)
    # with pixels in [0, 1] the ray stops at s = 3
    r = inv.invert([2.5, 4.0], valid=True)
    assert r.in_range and r.residual <= 1e-9
    with pytest.raises(InversionError, match=r"no image with pixels in \[0, 1\] reaches \(4, 7\)"):
        inv.invert([4.0, 7.0], valid=True)


def test_relu_nearest_reachable_point():
    inv = Inverter().fit(ray_net())
    # (2, 1): the nearest point of the ray (s, 2s - 1) minimises (s-2)^2 + (2s-2)^2: s = 1.2
    q, r = inv.nearest([2.0, 1.0])
    np.testing.assert_allclose(q, [1.2, 1.4], atol=1e-6)
    assert r.residual <= 1e-9 and np.allclose(r.target, q)
    # valid images reach s <= 3 only: (4, 7) is nearest to (3, 5), every pixel at 1
    q, r = inv.nearest([4.0, 7.0], valid=True)
    np.testing.assert_allclose(q, [3.0, 5.0], atol=1e-6)
    assert r.in_range and r.residual <= 1e-9
    # a reachable point is its own nearest; a negative one goes to the orthant when reachable there
    q, r = inv.nearest([2.0, 3.0])
    np.testing.assert_array_equal(q, [2.0, 3.0])
    q, r = inv.nearest([0.3, -2.0])
    np.testing.assert_array_equal(q, [0.3, 0.0])
    assert r.residual <= 1e-9


def test_relu_valid_inversion_random_net(random_net):
    net = random_net(NARROWING, "relu", seed=8)
    inv = Inverter().fit(net)
    rng = np.random.default_rng(5)
    for layer_inv, layer in ((inv, 3), (Inverter(layer=2).fit(net), 2)):
        for x0 in rng.uniform(0, 1, size=(40, 30)):
            h = forward(net, x0, layer)
            r = layer_inv.invert(h, valid=True)
            assert r.in_range and np.all((r.image >= 0) & (r.image <= 1))
            assert r.residual <= 1e-9


def test_relu_trained_net(workspace):
    m = workspace.mnist["relu"]
    assert m.net.sizes == (784, 50, 20, 2, 4)
    inv = m.inverter
    c, radius = data_radius(m.train_hidden)
    assert (m.train_hidden == 0).all(axis=1).mean() > 0.05  # some digits sit at the origin
    rng = np.random.default_rng(1)
    t = rng.uniform(0, np.pi / 2, 30)
    far = c + rng.uniform(2, 10, (30, 1)) * radius * np.column_stack([np.cos(t), np.sin(t)])
    for h in np.vstack([far, [[0.0, 0.0], [0.0, 7.0], [300.0, 0.0]]]):
        r = inv.invert(h)
        assert r.residual <= 1e-9, h
    # held-out encodings and points between them: reached by valid images
    H = m.test_hidden[:10]
    for h in np.vstack([H, 0.5 * (H[:5] + H[5:])]):
        r = inv.invert(h, valid=True)
        assert r.in_range and r.residual <= 1e-9
    # far outside what [0, 1] pixels reach: the nearest point instead, reached exactly
    h = c + 10 * radius * np.array([1.0, 1.0]) / np.sqrt(2)
    q, r = inv.nearest(h, valid=True)
    assert r.in_range and r.residual <= 1e-9
    assert np.linalg.norm(q - h) < np.linalg.norm(h - c)  # nearer than the data's centre
    with pytest.raises(InversionError, match="valid images reach"):
        inv.invert(h, valid=True)


def test_the_essays_pseudoinverse_refuses_relu_layers_clearly(random_net):
    net = random_net(NARROWING, "relu", seed=1)
    with pytest.raises(InversionError, match="cannot undo relu layers"):
        invert_pinv(net, [1.0, 2.0])
