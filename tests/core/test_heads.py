"""Tests for fooling.heads: an RBF-kernel head on the identity MLP's 2-unit plane."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone

from fooling.heads import RBFHead, fit_rbf_head
from fooling.metrics import fooling_rate
from fooling.network import predict_proba_from
from fooling.probes import data_radius


@pytest.fixture(scope="module")
def identity(workspace):
    return workspace.mnist["identity"]


@pytest.fixture(scope="module")
def head(identity):
    return fit_rbf_head(identity)


def test_fit_api(identity, head):
    assert isinstance(head, RBFHead)
    np.testing.assert_array_equal(head.classes_, identity.net.classes)
    P = head.predict_proba(identity.test_hidden[:50])
    assert P.shape == (50, len(head.classes_))
    np.testing.assert_allclose(P.sum(1), 1.0)
    assert head.predict_proba(identity.test_hidden[0]).shape == (1, len(head.classes_))
    assert "Network (784, 50, 20, 2, 4)" in repr(head)
    params = clone(head).get_params()
    assert params["C"] == 1.0 and params["gamma"] == "scale" and params["layer"] == 3
    with pytest.raises(ValueError, match="encoder"):
        RBFHead().fit(identity.train_hidden, identity.split.y_train).score_images(
            identity.split.X_test, identity.split.y_test)


def test_deterministic(identity, head):
    again = RBFHead(random_state=0).fit(identity.train_hidden, identity.split.y_train)
    np.testing.assert_array_equal(again.predict_proba(identity.test_hidden[:20]),
                                  head.predict_proba(identity.test_hidden[:20]))


def test_held_out_accuracy_close_to_the_linear_head(identity, head):
    split = identity.split
    acc = head.score_images(split.X_test, split.y_test)
    assert acc >= identity.trained.test_accuracy - 0.05
    assert acc == head.score(identity.test_hidden, split.y_test)
    np.testing.assert_allclose(head.predict_proba_images(split.X_test[:5]),
                               head.predict_proba(identity.test_hidden[:5]))


def test_fooling_rate_far_below_the_linear_head(identity, head):
    c, r = data_radius(identity.train_hidden)

    def linear(H):
        return predict_proba_from(identity.net, H, identity.hidden_layer)

    lin = fooling_rate(linear, c, r, 5, resolution=101)
    rbf = fooling_rate(head.predict_proba, c, r, 5, resolution=101)
    assert lin > 0.5
    assert rbf < 0.02
    assert rbf < lin / 20


def test_far_away_the_head_falls_back_to_one_unconfident_vector(identity, head):
    """Every RBF kernel value is ~0 far from the data, so the decision values become the
    SVM's intercept terms and the Platt-scaled probabilities one constant vector."""
    c, r = data_radius(identity.train_hidden)
    t = np.linspace(0, 2 * np.pi, 12, endpoint=False)
    U = np.column_stack([np.cos(t), np.sin(t)])
    P100 = head.predict_proba(c + 100 * r * U)
    P1000 = head.predict_proba(c + 1000 * r * U)
    np.testing.assert_allclose(P100, np.broadcast_to(P100[0], P100.shape), atol=1e-12)
    np.testing.assert_allclose(P1000, P100, atol=1e-12)
    assert P100.max() < 0.99
    # the linear head, by contrast, is certain out there
    lin = predict_proba_from(identity.net, c + 100 * r * U, identity.hidden_layer)
    assert lin.max(1).min() > 0.99


def test_numpy_head_equals_the_scikit_learn_pipeline_it_was_fitted_as(identity, head, tmp_path):
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.model_selection import StratifiedKFold
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    from fooling import store

    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    pipe = Pipeline([("scale", StandardScaler()),
                     ("svm", CalibratedClassifierCV(SVC(kernel="rbf"), method="sigmoid", ensemble=False,
                                                    cv=folds))]).fit(identity.train_hidden, identity.split.y_train)
    rng = np.random.default_rng(0)
    H = np.vstack([identity.test_hidden, rng.normal(scale=50, size=(300, 2))])
    np.testing.assert_allclose(head.predict_proba(H), pipe.predict_proba(H), rtol=0, atol=1e-12)
    back = RBFHead.from_arrays(store.load(store.save(tmp_path / "h.npz", head.to_arrays()))[0],
                               encoder=identity.net)
    assert back.get_params()["layer"] == head.layer and back.gamma == "scale"
    np.testing.assert_array_equal(back.predict_proba(H), head.predict_proba(H))
    assert back.score_images(identity.split.X_test, identity.split.y_test) == \
        head.score_images(identity.split.X_test, identity.split.y_test)
