"""Fitted classifiers as arrays: the same probabilities as scikit-learn, no scikit-learn to score."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from fooling import store
from fooling.classifiers import LinearSoftmax, PlattSVC, classifier_from_arrays, from_sklearn
from fooling.datasets import load_iris_petals
from fooling.models import IRIS_MODELS, make_iris_model


@pytest.fixture(scope="module")
def iris():
    return load_iris_petals()


def _probe_points(X, seed=0):
    rng = np.random.default_rng(seed)
    return np.vstack([X, rng.uniform(-5, 15, (2000, 2)), rng.uniform(-1e3, 1e3, (200, 2))])


@pytest.mark.parametrize("name", IRIS_MODELS)
def test_iris_models_as_arrays_equal_scikit_learn(iris, name, tmp_path):
    X, y, _ = iris
    fitted = make_iris_model(name).fit(X, y)
    ours = from_sklearn(fitted)
    P = _probe_points(X)
    np.testing.assert_allclose(ours.predict_proba(P), fitted.predict_proba(P), rtol=0, atol=1e-12)
    np.testing.assert_array_equal(ours.predict(P), fitted.predict(P))
    assert ours.score(X, y) == fitted.score(X, y)
    back = classifier_from_arrays(store.load(store.save(tmp_path / "m.npz", ours.to_arrays()))[0])
    assert type(back) is type(ours)
    np.testing.assert_array_equal(back.predict_proba(P), ours.predict_proba(P))


@pytest.mark.parametrize("n_classes", [2, 3, 5])
def test_scaled_rbf_svc_equals_scikit_learn_for_any_number_of_classes(n_classes):
    rng = np.random.default_rng(n_classes)
    y = rng.integers(0, n_classes, 400)
    X = rng.normal(size=(400, 2)) + 1.5 * y[:, None]
    scaler = StandardScaler().fit(X)
    model = CalibratedClassifierCV(SVC(kernel="rbf"), method="sigmoid", ensemble=False, cv=5)
    model.fit(scaler.transform(X), y)
    ours = from_sklearn(model, shift=scaler.mean_, scale=scaler.scale_)
    Q = rng.normal(scale=6, size=(600, 2))
    np.testing.assert_allclose(ours.predict_proba(Q), model.predict_proba(scaler.transform(Q)),
                               rtol=0, atol=1e-12)
    dec = model.calibrated_classifiers_[0].estimator.decision_function(scaler.transform(Q))
    np.testing.assert_allclose(ours.decision_function(Q), dec, rtol=1e-10, atol=1e-10)


def test_refuses_what_it_cannot_reproduce(iris):
    X, y, _ = iris
    with pytest.raises(ValueError, match="convert"):
        from_sklearn(StandardScaler().fit(X))
    with pytest.raises(ValueError, match="3\\+ class"):
        from_sklearn(LogisticRegression().fit(X[y < 2], y[y < 2]))
    with pytest.raises(ValueError, match="ensemble=False"):
        from_sklearn(CalibratedClassifierCV(SVC(kernel="rbf"), ensemble=True, cv=3).fit(X, y))
    with pytest.raises(ValueError, match="kernel"):
        PlattSVC("poly", 1.0, X[:2], np.ones((1, 2)), np.zeros(1), [1, 1], [0, 1], [1.0], [0.0])
    with pytest.raises(ValueError, match="kind"):
        classifier_from_arrays({"kind": np.array("forest")})


def test_linear_softmax_is_a_softmax_of_logits():
    W = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]])
    m = LinearSoftmax(W, np.zeros(3), np.array([7, 8, 9]))
    p = m.predict_proba(np.array([[1e4, 0.0], [0.0, 0.0]]))
    np.testing.assert_allclose(p[1], 1 / 3)
    assert p[0, 0] == 1.0 and m.predict(np.array([[0.0, 5.0]]))[0] == 8
