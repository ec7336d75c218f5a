"""The essays' models: specifications, training and scores.

Iris (first essay), fitted on all 150 rows of petal length and width:

* ``logistic`` — ``LogisticRegression(solver='lbfgs', penalty='l2', max_iter=100)``
  (multinomial, scikit-learn's default for more than two classes).
* ``svm_linear`` / ``svm_rbf`` — ``SVC(kernel=...)`` with Platt-scaled probabilities.
  The essay used ``SVC(probability=True)``, deprecated in scikit-learn 1.9; we get the
  same kind of probabilities from ``CalibratedClassifierCV(SVC(...), method='sigmoid',
  ensemble=False, cv=5)``: one SVC on all the data, sigmoid calibration fitted on
  5-fold cross-validated decision values.

MNIST digits 0-3, a (50, 20, 2) MLP whose 2-unit last hidden layer is the plane we look at:

* ``identity`` — identity activations, sgd, adaptive learning rate, ``random_state=21``.
* ``tanh`` — tanh activations, adam, ``random_state=21``.
* ``relu`` — ReLU activations, adam, ``random_state=21``, learning rate 1e-3. Not in the
  essay: added because Hein et al. (CVPR 2019) prove that a ReLU network is piecewise
  affine and so grows certain along almost every ray far from the data. The learning
  rate is scikit-learn's default for adam and the same as our tanh net's, chosen by
  that rule and not tuned (5e-4 and 2e-3 give the same accuracy to within 0.01 over
  five split seeds). It reaches about 97% held-out accuracy. Its 2-unit layer lives in
  the closed positive quadrant: on the bundled data the net puts one digit exactly at
  the origin (both units at 0), one on each axis and one inside.

and the second essay's 784-64-64-10 ReLU network on all ten digits (``neurons``).

Pixels are scaled to [0, 1] and the learning rates are ten times the essay's. Why: the
essay trained on 21,000+ rows of raw 0-255 pixels; the embedded sample has 1,500 training
rows of digits 0-3, so 200 epochs of 200-row batches give fourteen times fewer gradient
steps, and with the essay's settings both nets stall near 75% held-out accuracy (the tanh
net's 2-unit layer saturates on raw pixels). With [0, 1] pixels and 10x the learning rate
the identity net reaches about 93% and the tanh net about 97% (mean over five split seeds
in ``tests/benchmarks/bench_core.py``). Everything else is the essay's. The ReLU net has
no essay settings to follow; it uses the tanh net's (adam, 1e-3, [0, 1] pixels).
"""

from __future__ import annotations

import time
import warnings
from dataclasses import asdict, dataclass, field

import numpy as np

from .classifiers import from_sklearn
from .network import Network, forward

__all__ = [
    "ESSAY",
    "IRIS_MODELS",
    "MLPSpec",
    "MLP_SPECS",
    "TrainedMLP",
    "accuracy",
    "fit_iris_models",
    "make_iris_model",
    "train_mlp",
]

IRIS_MODELS = ("logistic", "svm_linear", "svm_rbf")
"""Names of the iris models, in display order."""

ESSAY = {
    "logistic": {"accuracy": 0.966},
    "svm_linear": {"accuracy": 0.966},
    "svm_rbf": {"accuracy": 0.966},
    "identity": {"accuracy": 0.95},
    "tanh": {"accuracy": 0.98},
    "iris_probes": [((0.1, 5.0), "setosa", 0.998), ((10.0, 10.0), "virginica", 1.0),
                    ((5.0, -5.0), "versicolor", 0.992)],
    "hidden_points": {0: (1200.0, -300.0), 1: (-500.0, 500.0), 2: (100.0, 400.0), 3: (-1000.0, 900.0)},
}
"""The essays' published numbers (minus signs restored), shown beside ours."""


def make_iris_model(name: str):
    """An unfitted scikit-learn estimator for one of :data:`IRIS_MODELS`."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import SVC

    if name == "logistic":
        return LogisticRegression(solver="lbfgs", max_iter=100)  # default penalty: L2
    if name in ("svm_linear", "svm_rbf"):
        kernel = name.split("_")[1]
        return CalibratedClassifierCV(SVC(kernel=kernel), method="sigmoid", ensemble=False, cv=5)
    raise ValueError(f"unknown iris model {name!r}; choose from {IRIS_MODELS}")


def fit_iris_models(X: np.ndarray, y: np.ndarray) -> dict:
    """Fit every iris model on all rows (with scikit-learn) and keep it as arrays.

    Parameters
    ----------
    X : ndarray of shape (150, 2)
    y : ndarray of shape (150,)

    Returns
    -------
    dict mapping name to a fitted :class:`~fooling.classifiers.LinearSoftmax` or
    :class:`~fooling.classifiers.PlattSVC` (``predict_proba``, ``predict``, ``score``;
    the same probabilities as the scikit-learn estimator, scored with numpy)
    """
    return {name: from_sklearn(make_iris_model(name).fit(X, y)) for name in IRIS_MODELS}


@dataclass(frozen=True)
class MLPSpec:
    """Hyper-parameters of one MLP, and which digits it learns.

    ``essay`` records the values the essay used where ours differ.
    """

    name: str
    hidden_layer_sizes: tuple[int, ...]
    activation: str
    solver: str
    learning_rate_init: float
    classes: tuple[int, ...]
    random_state: int = 21
    learning_rate: str = "constant"
    max_iter: int = 200
    essay: dict = field(default_factory=dict, compare=False)

    def make(self):
        """The unfitted ``sklearn.neural_network.MLPClassifier``."""
        from sklearn.neural_network import MLPClassifier

        return MLPClassifier(
            hidden_layer_sizes=self.hidden_layer_sizes, activation=self.activation,
            solver=self.solver, learning_rate=self.learning_rate,
            learning_rate_init=self.learning_rate_init, max_iter=self.max_iter,
            random_state=self.random_state)

    def key(self) -> dict:
        """Everything that changes the trained weights (for cache keys)."""
        d = asdict(self)
        d.pop("essay")
        return d


MLP_SPECS: dict[str, MLPSpec] = {
    "identity": MLPSpec("identity", (50, 20, 2), "identity", "sgd", 5e-4, (0, 1, 2, 3),
                        learning_rate="adaptive", essay={"learning_rate_init": 5e-5, "pixels": "0-255"}),
    "tanh": MLPSpec("tanh", (50, 20, 2), "tanh", "adam", 1e-3, (0, 1, 2, 3),
                    essay={"learning_rate_init": 1e-4, "pixels": "0-255"}),
    "relu": MLPSpec("relu", (50, 20, 2), "relu", "adam", 1e-3, (0, 1, 2, 3)),
    "neurons": MLPSpec("neurons", (64, 64), "relu", "adam", 1e-3, tuple(range(10)), random_state=0),
}
"""The four networks, by name."""


def accuracy(net: Network, X: np.ndarray, y: np.ndarray) -> float:
    """Share of rows of ``X`` whose most probable class is ``y``."""
    proba = forward(net, X)
    return float(np.mean(net.classes[np.argmax(proba, axis=1)] == y))


@dataclass(frozen=True)
class TrainedMLP:
    """A trained network with its training record.

    Attributes
    ----------
    spec : MLPSpec
    net : Network
    loss_curve : ndarray of shape (n_iter,)
        Training loss after each epoch.
    train_accuracy, test_accuracy : float
    seconds : float
        Wall time of ``fit``.
    converged : bool
        False when training stopped at ``max_iter``.
    """

    spec: MLPSpec
    net: Network
    loss_curve: np.ndarray
    train_accuracy: float
    test_accuracy: float
    seconds: float
    converged: bool

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Arrays for :func:`fooling.store.save` (no objects, no pickle)."""
        arrays = self.net.to_arrays()
        arrays.update(loss_curve=np.asarray(self.loss_curve, dtype=float),
                      scores=np.array([self.train_accuracy, self.test_accuracy, self.seconds,
                                       float(self.converged)]))
        return arrays

    @classmethod
    def from_arrays(cls, spec: MLPSpec, arrays) -> "TrainedMLP":
        """Inverse of :meth:`to_arrays`."""
        train, test, seconds, converged = (float(v) for v in arrays["scores"])
        return cls(spec, Network.from_saved(arrays), np.asarray(arrays["loss_curve"]),
                   train, test, seconds, bool(converged))


def train_mlp(spec: MLPSpec, X_train: np.ndarray, y_train: np.ndarray,
              X_test: np.ndarray, y_test: np.ndarray) -> TrainedMLP:
    """Fit ``spec`` on the training rows and score it on both sets.

    Parameters
    ----------
    X_train : ndarray of shape (n_train, 784)
        Pixels in [0, 1].
    y_train : ndarray of shape (n_train,)
    X_test : ndarray of shape (n_test, 784)
    y_test : ndarray of shape (n_test,)
    """
    from sklearn.exceptions import ConvergenceWarning

    model = spec.make()
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        model.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    converged = not any(issubclass(w.category, ConvergenceWarning) for w in caught)
    net = Network.from_mlp(model)
    return TrainedMLP(spec, net, np.asarray(model.loss_curve_), accuracy(net, X_train, y_train),
                      accuracy(net, X_test, y_test), seconds, converged)
