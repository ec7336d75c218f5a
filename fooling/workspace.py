"""Everything the essays need, loaded (or trained once) and kept together.

:func:`load_workspace` reads the data, then loads from the artifact cache (or builds
and caches) the iris petals with their three fitted models (as plain arrays:
:mod:`fooling.classifiers`), the held-out split's row indices, and each MLP. The MNIST
split is stratified with the fixed seed :data:`fooling.datasets.SPLIT_SEED` and a
held-out fraction of :data:`fooling.datasets.TEST_FRACTION` (500 of the 2,000 bundled
0-3 rows). With a warm cache nothing here imports scikit-learn.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import __version__, datasets, store
from .classifiers import classifier_from_arrays
from .inversion import Inverter
from .lazy import cached
from .models import IRIS_MODELS, MLP_SPECS, MLPSpec, TrainedMLP, fit_iris_models, train_mlp
from .network import forward
from .progress import Progress

__all__ = ["Iris", "MnistModel", "Split", "Workspace", "load_iris", "load_workspace",
           "mlp_artifact_path", "mlp_key", "split_for"]


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


@dataclass(eq=False)
class MnistModel:
    """A trained MLP with its split and the things every view of it reuses.

    Attributes
    ----------
    trained : TrainedMLP
    split : Split
    key : str
        The artifact key of the trained network (spec, data fingerprint, split, version):
        what everything derived from it is cached under.
    """

    trained: TrainedMLP
    split: Split
    key: str = ""

    @property
    def name(self) -> str:
        return self.trained.spec.name

    @property
    def net(self):
        return self.trained.net

    @property
    def hidden_layer(self) -> int:
        """Index of the last hidden layer (the 2-unit plane for the essay's nets)."""
        return len(self.net.layers) - 1

    @cached
    def train_hidden(self) -> np.ndarray:
        """Training encodings at the last hidden layer, ndarray of shape (n_train, n_hidden)."""
        return forward(self.net, self.split.X_train, self.hidden_layer)

    @cached
    def test_hidden(self) -> np.ndarray:
        """Held-out encodings, ndarray of shape (n_test, n_hidden)."""
        return forward(self.net, self.split.X_test, self.hidden_layer)

    @cached
    def inverter(self) -> Inverter:
        """An :class:`~fooling.inversion.Inverter` fitted to this network.

        A ReLU network's inverter tries the activation patterns of the training images first.
        """
        return Inverter().fit(self.net, self.split.X_train)


@dataclass
class Workspace:
    """Data and trained models for both essays.

    Attributes
    ----------
    source : str
        Where the MNIST digits came from.
    iris : Iris
    mnist : dict of str to MnistModel
    fingerprint : str
        Of the MNIST data (:meth:`fooling.datasets.Digits.fingerprint`).
    cache_dir : Path
        The artifact cache it was loaded from (derived results are cached there too).
    """

    source: str
    iris: Iris
    mnist: dict[str, MnistModel] = field(default_factory=dict)
    fingerprint: str = ""
    cache_dir: Path | None = None


def _cache(cache_dir) -> Path:
    return Path(store.cache_dir() if cache_dir is None else cache_dir)


def load_iris(cache_dir=None) -> Iris:
    """Iris petals and the three fitted models, from the cache (or fitted once and cached).

    The models are fitted on all 150 rows with scikit-learn and cached as plain arrays
    (:mod:`fooling.classifiers`); a warm start reads them without scikit-learn.
    """
    key = store.artifact_key("iris", IRIS_MODELS, __version__)

    def build():
        X, y, names = datasets.load_iris_petals()
        arrays = {"X": X, "y": y, "names": np.array(names)}
        for name, model in fit_iris_models(X, y).items():
            arrays.update({f"{name}__{k}": v for k, v in model.to_arrays().items()})
        return arrays, {"models": list(IRIS_MODELS), "version": __version__}

    def read(arrays):
        models = {}
        for name in IRIS_MODELS:
            part = {k.split("__", 1)[1]: v for k, v in arrays.items() if k.startswith(f"{name}__")}
            models[name] = classifier_from_arrays(part)
        X = np.asarray(arrays["X"], dtype=float)
        y = np.asarray(arrays["y"], dtype=np.int64)
        if X.shape != (len(y), 2):
            raise ValueError(f"iris petals of shape {X.shape}")
        return Iris(X, y, tuple(str(n) for n in arrays["names"]), models)

    arrays, _, _ = store.load_or_build(_cache(cache_dir) / f"iris-{key}.npz", build,
                                       lambda a, m: read(a))
    return read(arrays)


def split_for(digits: datasets.Digits, classes: tuple[int, ...], cache_dir=None) -> Split:
    """The digits of ``classes``, pixels scaled to [0, 1], split into training and held-out rows.

    The split's row indices are cached (keyed by the data fingerprint, the classes and
    the split's seed and fraction), so a warm start needs no scikit-learn.
    """
    images, labels = datasets.filter_classes(digits.images, digits.labels, classes)
    key = store.artifact_key("split", digits.fingerprint(), list(classes), datasets.SPLIT_SEED,
                             datasets.TEST_FRACTION, __version__)

    def build():
        train, test = datasets.split_indices(labels)
        return {"train": train, "test": test}, {}

    def check(arrays, meta):
        idx = np.concatenate([arrays["train"], arrays["test"]])
        if idx.dtype.kind not in "iu" or not np.array_equal(np.sort(idx), np.arange(len(labels))):
            raise ValueError("the cached split does not cover the rows exactly once")

    arrays, _, _ = store.load_or_build(_cache(cache_dir) / f"split-{key}.npz", build, check)
    X = datasets.scale_pixels(images).astype(np.float32)
    train, test = arrays["train"], arrays["test"]
    return Split(X[train], X[test], labels[train], labels[test])


def mlp_key(spec: MLPSpec, fingerprint: str) -> str:
    """Artifact key of one trained MLP: spec, data fingerprint, split and version."""
    return store.artifact_key(spec.key(), fingerprint, datasets.SPLIT_SEED,
                              datasets.TEST_FRACTION, __version__)


def mlp_artifact_path(spec: MLPSpec, fingerprint: str, cache_dir=None):
    """Cache file of one trained MLP (see :func:`mlp_key`)."""
    return _cache(cache_dir) / f"mlp-{spec.name}-{mlp_key(spec, fingerprint)}.npz"


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
    iris = load_iris(cache_dir)
    bar.step("iris models")
    digits = datasets.load_mnist(mnist, cache_dir=cache_dir)
    fingerprint = digits.fingerprint()
    bar.step(f"MNIST: {digits.source}")
    ws = Workspace(digits.source, iris, fingerprint=fingerprint, cache_dir=_cache(cache_dir))
    splits: dict[tuple[int, ...], Split] = {}
    for name in models:
        spec = MLP_SPECS[name]
        if spec.classes not in splits:
            splits[spec.classes] = split_for(digits, spec.classes, cache_dir)
        trained, built = _load_or_train(spec, splits[spec.classes], fingerprint, cache_dir)
        ws.mnist[name] = MnistModel(trained, splits[spec.classes], mlp_key(spec, fingerprint))
        bar.step(f"{name} net {'trained' if built else 'loaded from cache'}")
    return ws

