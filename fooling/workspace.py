"""Everything the essays need, loaded (or trained once) and kept together.

:func:`load_workspace` reads the data, fits the iris models (milliseconds; they are
refitted rather than cached so nothing but plain arrays ever touches the disk),
and loads each MLP from the artifact cache or trains and caches it. The MNIST split
is stratified with the fixed seed :data:`fooling.datasets.SPLIT_SEED` and a held-out
fraction of :data:`fooling.datasets.TEST_FRACTION` (500 of the 2,000 bundled 0-3 rows).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from . import __version__, datasets, store
from .heads import fit_rbf_head
from .inversion import Inverter
from .models import MLP_SPECS, MLPSpec, TrainedMLP, fit_iris_models, train_mlp
from .network import forward
from .progress import Progress

__all__ = ["Iris", "MnistModel", "Split", "Workspace", "load_workspace", "mlp_artifact_path"]


@dataclass(frozen=True)
class Iris:
    """Iris petals and the three fitted models.

    Attributes
    ----------
    X : ndarray of shape (150, 2)
    y : ndarray of shape (150,)
    names : tuple of str
    models : dict of str to fitted estimator
    """

    X: np.ndarray
    y: np.ndarray
    names: tuple[str, ...]
    models: dict

    def accuracy(self, name: str) -> float:
        """Training accuracy (the essay's 'mean accuracy', all 150 rows)."""
        return float(self.models[name].score(self.X, self.y))


@dataclass(frozen=True)
class Split:
    """A stratified held-out split of MNIST rows, pixels scaled to [0, 1] (float32).

    Attributes
    ----------
    X_train : ndarray of shape (n_train, 784)
    X_test : ndarray of shape (n_test, 784)
    y_train : ndarray of shape (n_train,)
    y_test : ndarray of shape (n_test,)
    """

    X_train: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray


@dataclass
class MnistModel:
    """A trained MLP with its split and the things every view of it reuses."""

    trained: TrainedMLP
    split: Split

    @property
    def net(self):
        return self.trained.net

    @property
    def hidden_layer(self) -> int:
        """Index of the last hidden layer (the 2-unit plane for the essay's nets)."""
        return len(self.net.layers) - 1

    @cached_property
    def train_hidden(self) -> np.ndarray:
        """Training encodings at the last hidden layer, ndarray of shape (n_train, n_hidden)."""
        return forward(self.net, self.split.X_train, self.hidden_layer)

    @cached_property
    def test_hidden(self) -> np.ndarray:
        """Held-out encodings, ndarray of shape (n_test, n_hidden)."""
        return forward(self.net, self.split.X_test, self.hidden_layer)

    @cached_property
    def rbf_head(self):
        """An RBF-kernel head on the training encodings (:func:`fooling.heads.fit_rbf_head`)."""
        return fit_rbf_head(self)

    @cached_property
    def inverter(self) -> Inverter:
        """An :class:`~fooling.inversion.Inverter` fitted to this network."""
        return Inverter().fit(self.net)


@dataclass
class Workspace:
    """Data and trained models for both essays."""

    source: str
    iris: Iris
    mnist: dict[str, MnistModel] = field(default_factory=dict)


def _split_for(digits: datasets.Digits, classes: tuple[int, ...]) -> Split:
    images, labels = datasets.filter_classes(digits.images, digits.labels, classes)
    X = datasets.scale_pixels(images).astype(np.float32)
    Xtr, Xte, ytr, yte = datasets.split(X, labels)
    return Split(Xtr, Xte, ytr, yte)


def mlp_artifact_path(spec: MLPSpec, fingerprint: str, cache_dir=None):
    """Cache file of one trained MLP: keyed by spec, data fingerprint, split and version."""
    key = store.artifact_key(spec.key(), fingerprint, datasets.SPLIT_SEED,
                             datasets.TEST_FRACTION, __version__)
    return Path(store.cache_dir() if cache_dir is None else cache_dir) / f"mlp-{spec.name}-{key}.npz"


def _load_or_train(spec: MLPSpec, split: Split, fingerprint: str, cache_dir) -> tuple[TrainedMLP, bool]:
    def build():
        t = train_mlp(spec, split.X_train, split.y_train, split.X_test, split.y_test)
        return t.to_arrays(), {"spec": spec.key(), "version": __version__}

    def check(arrays, meta):
        TrainedMLP.from_arrays(spec, arrays)  # raises on missing keys
        # meta went through JSON (tuples became lists): compare like with like
        if meta.get("spec") != json.loads(json.dumps(spec.key(), sort_keys=True, default=str)):
            raise ValueError("artifact was built for another spec")

    arrays, _, built = store.load_or_build(mlp_artifact_path(spec, fingerprint, cache_dir), build, check)
    return TrainedMLP.from_arrays(spec, arrays), built


def load_workspace(mnist: str | None = None, *, models: tuple[str, ...] = tuple(MLP_SPECS),
                   cache_dir=None, progress: bool = False) -> Workspace:
    """Load data and models, training and caching what is missing.

    Parameters
    ----------
    mnist : str, optional
        MNIST source for :func:`fooling.datasets.load_mnist` (``bundled``, ``openml``,
        a folder of IDX files or an ``.npz``); default ``$FOOLING_MNIST`` or bundled.
    models : tuple of str
        Which of :data:`fooling.models.MLP_SPECS` to load.
    cache_dir : path-like, optional
        Default :func:`fooling.store.cache_dir`.
    progress : bool
        Print a progress bar on stderr.

    Returns
    -------
    Workspace
    """
    bar = Progress(2 + len(models), "fooling", enabled=progress)
    X, y, names = datasets.load_iris_petals()
    iris = Iris(X, y, names, fit_iris_models(X, y))
    bar.step("iris models")
    digits = datasets.load_mnist(mnist, cache_dir=cache_dir)
    fingerprint = digits.fingerprint()
    bar.step(f"MNIST: {digits.source}")
    ws = Workspace(digits.source, iris)
    splits: dict[tuple[int, ...], Split] = {}
    for name in models:
        spec = MLP_SPECS[name]
        if spec.classes not in splits:
            splits[spec.classes] = _split_for(digits, spec.classes)
        trained, built = _load_or_train(spec, splits[spec.classes], fingerprint, cache_dir)
        ws.mnist[name] = MnistModel(trained, splits[spec.classes])
        bar.step(f"{name} net {'trained' if built else 'loaded from cache'}")
    return ws

