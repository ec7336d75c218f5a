"""Exact input gradients against central finite differences."""
from __future__ import annotations

import numpy as np
import pytest

from fooling.classifiers import from_sklearn
from fooling.gradients import (backpropagate, head_gradient, label_indices, network_gradient,
                               platt_svc_gradient)
from fooling.network import forward


def central_differences(f, X, eps=1e-6, columns=None):
    """d f(X) / dX by central differences, f mapping (n, d) to (n,)."""
    X = np.asarray(X, dtype=float)
    columns = range(X.shape[1]) if columns is None else columns
    G = np.full(X.shape, np.nan)
    for j in columns:
        E = np.zeros_like(X)
        E[:, j] = eps
        G[:, j] = (f(X + E) - f(X - E)) / (2 * eps)
    return G


@pytest.mark.parametrize("activation", ["identity", "tanh", "logistic", "relu"])
def test_network_gradient_matches_finite_differences(random_net, activation):
    net = random_net([7, 6, 5, 2, 4], activation, seed=2, scale=0.8)
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, (12, 7))
    y = rng.integers(0, 4, 12)
    loss, G = network_gradient(net, X, y)
    p = forward(net, X)
    np.testing.assert_allclose(loss, -np.log(p[np.arange(12), y]), rtol=1e-10)
    fd = central_differences(lambda Z: network_gradient(net, Z, y)[0], X)
    np.testing.assert_allclose(G, fd, atol=1e-7, rtol=1e-5)
    assert np.abs(G).max() > 1e-3  # not a trivially zero gradient


def test_backpropagate_a_hidden_functional(random_net):
    net = random_net([6, 5, 3, 4], "tanh", seed=4)
    rng = np.random.default_rng(1)
    X = rng.uniform(0, 1, (5, 6))
    v = rng.normal(size=3)  # L = v . h(x) at layer 2
    G = backpropagate(net, X, np.tile(v, (5, 1)), 2)
    fd = central_differences(lambda Z: forward(net, Z, 2) @ v, X)
    np.testing.assert_allclose(G, fd, atol=1e-8, rtol=1e-6)


def test_labels_map_to_columns():
    np.testing.assert_array_equal(label_indices(np.array([3, 1, 7]), [7, 3, 1, 1]), [2, 0, 1, 1])
    with pytest.raises(ValueError, match="not one of the classes"):
        label_indices(np.array([0, 1]), [2])


@pytest.fixture(scope="module")
def small_svcs():
    """Three-class SVCs on 2D blobs (RBF and linear), standardised like the RBF heads."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.svm import SVC

    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0.0], [3.0, 0.5], [1.0, 3.0]])
    H = np.vstack([c + rng.normal(size=(30, 2)) for c in centres]) * [2.0, 0.5] + [1.0, -3.0]
    y = np.repeat([0, 1, 2], 30)
    shift, scale = H.mean(axis=0), H.std(axis=0)
    out = {}
    for kernel in ("rbf", "linear"):
        svm = CalibratedClassifierCV(SVC(kernel=kernel), method="sigmoid", ensemble=False, cv=3)
        svm.fit((H - shift) / scale, y)
        out[kernel] = from_sklearn(svm, shift=shift, scale=scale)
    return out, H, y


@pytest.mark.parametrize("kernel", ["rbf", "linear"])
def test_platt_svc_gradient_matches_finite_differences(small_svcs, kernel):
    svcs, H, y = small_svcs
    svc = svcs[kernel]
    rng = np.random.default_rng(2)
    P = H[::7] + rng.normal(scale=0.3, size=H[::7].shape)
    t = y[::7]
    loss, G = platt_svc_gradient(svc, P, t)
    np.testing.assert_allclose(loss, -np.log(svc.predict_proba(P)[np.arange(len(t)), t]), rtol=1e-8)
    fd = central_differences(lambda Z: platt_svc_gradient(svc, Z, t)[0], P, eps=1e-5)
    np.testing.assert_allclose(G, fd, atol=1e-7, rtol=1e-5)
    assert np.abs(G).max() > 1e-3


def test_platt_svc_gradient_needs_three_classes(small_svcs):
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.svm import SVC

    _, H, y = small_svcs
    two = from_sklearn(CalibratedClassifierCV(SVC(), cv=3, ensemble=False).fit(H[y < 2], y[y < 2]))
    with pytest.raises(ValueError, match="three classes"):
        platt_svc_gradient(two, H[:3], y[:3])


@pytest.mark.parametrize("name", ["identity", "tanh", "relu"])
def test_rbf_head_gradient_through_the_network(workspace, name):
    from fooling.analysis import WorkspaceAnalysis

    m = workspace.mnist[name]
    head = WorkspaceAnalysis(workspace).plane(name).head
    H = m.test_hidden[:30]
    t = m.split.y_test[:30]
    loss, G = platt_svc_gradient(head.svc_, H, t)
    fd = central_differences(lambda Z: platt_svc_gradient(head.svc_, Z, t)[0], H,
                             eps=1e-6 * max(1.0, float(np.abs(H).max())))
    np.testing.assert_allclose(G, fd, atol=1e-6 * max(1.0, np.abs(G).max()), rtol=1e-4)
    X = np.asarray(m.split.X_test[:4], dtype=float)
    loss, GX = head_gradient(head, m.net, m.hidden_layer, X, m.split.y_test[:4])
    np.testing.assert_allclose(loss, -np.log(np.maximum(head.predict_proba_images(X)[np.arange(4), m.split.y_test[:4]],
                                                        1e-300)), rtol=1e-6)
    cols = list(range(100, 700, 37))
    fdx = central_differences(lambda Z: head_gradient(head, m.net, m.hidden_layer, Z, m.split.y_test[:4])[0],
                              X, eps=1e-6, columns=cols)
    np.testing.assert_allclose(GX[:, cols], fdx[:, cols], atol=1e-6 * max(1.0, np.abs(GX).max()), rtol=1e-4)
