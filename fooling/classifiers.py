"""Fitted scikit-learn classifiers as plain arrays, scored with numpy alone.

The web app serves models fitted once; it should not need scikit-learn (1.6 s and
~120 MB to import) to evaluate them. Two kinds cover every classifier here:

* :class:`LinearSoftmax` — multinomial logistic regression: ``softmax(X @ W + b)``.
* :class:`PlattSVC` — an SVC (linear or RBF kernel) whose probabilities come from
  Platt's sigmoid on its one-vs-rest decision values, as
  ``CalibratedClassifierCV(SVC(...), method='sigmoid', ensemble=False)`` computes them
  (the one-vs-one decision values are turned into one-vs-rest ones the way
  ``SVC(decision_function_shape='ovr')`` does, then each class's sigmoid is applied and
  the rows are normalised). An optional standardisation of the inputs comes first.

Both give the same probabilities as the scikit-learn objects they were made from (to
rounding; the tests compare them), have ``classes_``, ``predict_proba``, ``predict``
and ``score``, and round-trip through ``to_arrays`` / ``from_arrays`` (plain numeric
arrays, for :mod:`fooling.store`).
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from .network import softmax

__all__ = ["LinearSoftmax", "PlattSVC", "classifier_from_arrays", "from_sklearn"]


class _Scored:
    classes_: np.ndarray

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Most probable class label of each row, ndarray of shape (n,)."""
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def score(self, X: np.ndarray, y: np.ndarray) -> float:
        """Share of rows whose most probable class is ``y``."""
        return float(np.mean(self.predict(X) == np.asarray(y)))


class LinearSoftmax(_Scored):
    """``softmax(X @ coef.T + intercept)``: a multinomial logistic regression.

    Parameters
    ----------
    coef : ndarray of shape (n_classes, n_features)
    intercept : ndarray of shape (n_classes,)
    classes : ndarray of shape (n_classes,)
    """

    kind = "linear-softmax"

    def __init__(self, coef, intercept, classes):
        self.coef_ = np.asarray(coef, dtype=float)
        self.intercept_ = np.asarray(intercept, dtype=float)
        self.classes_ = np.asarray(classes)

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        """Logits, ndarray of shape (n, n_classes)."""
        return np.atleast_2d(np.asarray(X, dtype=float)) @ self.coef_.T + self.intercept_

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities, ndarray of shape (n, n_classes)."""
        return softmax(self.decision_function(X))

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {"kind": np.array(self.kind), "coef": self.coef_, "intercept": self.intercept_,
                "classes": self.classes_}

    @classmethod
    def from_arrays(cls, a: Mapping[str, np.ndarray]) -> "LinearSoftmax":
        return cls(a["coef"], a["intercept"], a["classes"])


class PlattSVC(_Scored):
    """An SVC with Platt-scaled one-vs-rest probabilities, as arrays.

    Parameters
    ----------
    kernel : {'linear', 'rbf'}
    gamma : float
        RBF width (ignored for 'linear').
    support_vectors : ndarray of shape (n_sv, n_features)
        Grouped by class, ``n_support[k]`` of class k (scikit-learn's order).
    dual_coef : ndarray of shape (n_classes - 1, n_sv)
    intercept : ndarray of shape (n_pairs,)
        One per pair of classes (i < j), in scikit-learn's order.
    n_support : ndarray of shape (n_classes,)
    classes : ndarray of shape (n_classes,)
    sigmoid_a, sigmoid_b : ndarray of shape (n_classes,) (one value for two classes)
        Each class's sigmoid: ``p = 1 / (1 + exp(a * f + b))`` of its decision value f.
    shift, scale : ndarray of shape (n_features,), optional
        Inputs are standardised as ``(X - shift) / scale`` first.
    """

    kind = "platt-svc"

    def __init__(self, kernel, gamma, support_vectors, dual_coef, intercept, n_support, classes,
                 sigmoid_a, sigmoid_b, shift=None, scale=None):
        if str(kernel) not in ("linear", "rbf"):
            raise ValueError(f"unsupported kernel {kernel!r}")
        self.kernel = str(kernel)
        self.gamma = float(gamma)
        self.support_vectors_ = np.asarray(support_vectors, dtype=float)
        self.dual_coef_ = np.asarray(dual_coef, dtype=float)
        self.intercept_ = np.asarray(intercept, dtype=float)
        self.n_support_ = np.asarray(n_support, dtype=int)
        self.classes_ = np.asarray(classes)
        self.sigmoid_a_ = np.asarray(sigmoid_a, dtype=float).reshape(-1)
        self.sigmoid_b_ = np.asarray(sigmoid_b, dtype=float).reshape(-1)
        d = self.support_vectors_.shape[1]
        self.shift_ = np.zeros(d) if shift is None else np.asarray(shift, dtype=float)
        self.scale_ = np.ones(d) if scale is None else np.asarray(scale, dtype=float)
        self._starts = np.concatenate([[0], np.cumsum(self.n_support_)])

    def _kernel(self, X: np.ndarray) -> np.ndarray:
        S = self.support_vectors_
        if self.kernel == "linear":
            return X @ S.T
        d2 = (np.einsum("ij,ij->i", X, X)[:, None] + np.einsum("ij,ij->i", S, S)[None, :]
              - 2.0 * X @ S.T)
        return np.exp(-self.gamma * np.maximum(d2, 0.0))

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        """One-vs-rest decision values, shape (n, n_classes); shape (n,) for two classes."""
        X = (np.atleast_2d(np.asarray(X, dtype=float)) - self.shift_) / self.scale_
        K = self._kernel(X)
        n_classes = len(self.classes_)
        if n_classes == 2:
            return K @ self.dual_coef_[0] + self.intercept_[0]
        st = self._starts
        pairs = []
        for i in range(n_classes):
            for j in range(i + 1, n_classes):
                si, sj = slice(st[i], st[i + 1]), slice(st[j], st[j + 1])
                dec = (K[:, si] @ self.dual_coef_[j - 1, si] + K[:, sj] @ self.dual_coef_[i, sj]
                       + self.intercept_[len(pairs)])
                pairs.append(dec)
        ovo = np.column_stack(pairs)
        votes = np.zeros((len(X), n_classes))
        conf = np.zeros((len(X), n_classes))
        k = 0
        for i in range(n_classes):
            for j in range(i + 1, n_classes):
                conf[:, i] += ovo[:, k]
                conf[:, j] -= ovo[:, k]
                votes[ovo[:, k] >= 0, i] += 1
                votes[ovo[:, k] < 0, j] += 1
                k += 1
        return votes + conf / (3 * (np.abs(conf) + 1))

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Calibrated class probabilities, ndarray of shape (n, n_classes)."""
        f = self.decision_function(X)
        n_classes = len(self.classes_)
        if n_classes == 2:
            p1 = 0.5 * (1.0 + np.tanh(-0.5 * (self.sigmoid_a_[0] * f + self.sigmoid_b_[0])))
            proba = np.column_stack([1.0 - p1, p1])
        else:
            proba = 0.5 * (1.0 + np.tanh(-0.5 * (self.sigmoid_a_ * f + self.sigmoid_b_)))
            total = proba.sum(axis=1, keepdims=True)
            proba = np.divide(proba, total, out=np.full_like(proba, 1.0 / n_classes), where=total != 0)
        proba[(1.0 < proba) & (proba <= 1.0 + 1e-5)] = 1.0
        return proba

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {"kind": np.array(self.kind), "kernel": np.array(self.kernel),
                "gamma": np.array(self.gamma), "support_vectors": self.support_vectors_,
                "dual_coef": self.dual_coef_, "intercept": self.intercept_,
                "n_support": self.n_support_, "classes": self.classes_, "sigmoid_a": self.sigmoid_a_,
                "sigmoid_b": self.sigmoid_b_, "shift": self.shift_, "scale": self.scale_}

    @classmethod
    def from_arrays(cls, a: Mapping[str, np.ndarray]) -> "PlattSVC":
        return cls(str(a["kernel"]), float(a["gamma"]), a["support_vectors"], a["dual_coef"],
                   a["intercept"], a["n_support"], a["classes"], a["sigmoid_a"], a["sigmoid_b"],
                   a["shift"], a["scale"])


def _svc_gamma(svc, X_fit_var: float | None) -> float:
    g = getattr(svc, "_gamma", None)
    if g is not None:
        return float(g)
    if svc.gamma == "scale":
        return 1.0 / (svc.n_features_in_ * X_fit_var)
    if svc.gamma == "auto":
        return 1.0 / svc.n_features_in_
    return float(svc.gamma)


def from_sklearn(model, *, shift=None, scale=None):
    """Convert a fitted scikit-learn classifier to its array form.

    Parameters
    ----------
    model : LogisticRegression, or CalibratedClassifierCV(SVC(kernel='linear'|'rbf'),
            method='sigmoid', ensemble=False)
    shift, scale : ndarray, optional
        A ``StandardScaler`` in front of the SVC (its ``mean_`` and ``scale_``).

    Returns
    -------
    LinearSoftmax or PlattSVC
    """
    name = type(model).__name__
    if name == "LogisticRegression":
        if len(model.classes_) < 3:
            raise ValueError("only multinomial (3+ class) logistic regression is converted")
        return LinearSoftmax(model.coef_, model.intercept_, model.classes_)
    if name == "CalibratedClassifierCV":
        if model.method != "sigmoid" or len(model.calibrated_classifiers_) != 1:
            raise ValueError("need CalibratedClassifierCV(method='sigmoid', ensemble=False)")
        cal = model.calibrated_classifiers_[0]
        svc = cal.estimator
        if type(svc).__name__ != "SVC" or svc.kernel not in ("linear", "rbf"):
            raise ValueError("need a linear or RBF SVC inside the calibration")
        if svc.decision_function_shape != "ovr" or getattr(svc, "break_ties", False):
            raise ValueError("need SVC(decision_function_shape='ovr', break_ties=False)")
        a = np.array([c.a_ for c in cal.calibrators], dtype=float)
        b = np.array([c.b_ for c in cal.calibrators], dtype=float)
        return PlattSVC(svc.kernel, _svc_gamma(svc, None), svc.support_vectors_, svc.dual_coef_,
                        svc.intercept_, svc.n_support_, model.classes_, a, b, shift, scale)
    raise ValueError(f"cannot convert a {name}")


def classifier_from_arrays(a: Mapping[str, np.ndarray]):
    """The :class:`LinearSoftmax` or :class:`PlattSVC` stored by its ``to_arrays``."""
    kind = str(a["kind"])
    for cls in (LinearSoftmax, PlattSVC):
        if kind == cls.kind:
            return cls.from_arrays(a)
    raise ValueError(f"unknown classifier kind {kind!r}")
