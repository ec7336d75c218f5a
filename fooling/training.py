"""Train a lab network epoch by epoch, and keep everything its page shows in one bundle.

**What an epoch is here**: one pass of the solver over every training row, in shuffled
mini-batches of ``min(200, n_train)`` rows (scikit-learn's ``MLPClassifier.partial_fit``).
One ``RandomState(seed)`` is shared by the initial weights and every epoch's shuffle, so
each epoch visits the rows in a new order and the same spec always gives the same weights;
the first epoch is exactly one epoch of ``MLPClassifier(max_iter=1, random_state=seed).fit``
(later ones differ from ``fit``'s only in the order of the rows: ``fit`` reshuffles the
previous epoch's order, ``partial_fit`` a fresh one). Training always runs the spec's number
of epochs: no early stop, no convergence test.

A *bundle* (:func:`build_bundle`) holds the trained network, its
:class:`fooling.analysis.PlaneAnalysis` (maps of both heads, density check, reachable
region, far points) and the fooling rates of both heads at R = 1, 2, 5, 10 data radii:
plain arrays and JSON metadata, stored as ``.npz`` bytes (:func:`to_bytes`,
:func:`from_bytes`; never pickled), so whichever process trained it, any other can show it.
"""

from __future__ import annotations

import io
import time
import warnings
from typing import Callable, Mapping

import numpy as np

from . import store
from .analysis import PlaneAnalysis
from .lab import LAB_FORMAT, LabSpec
from .metrics import fooling_summary
from .models import MLPSpec, TrainedMLP, accuracy
from .network import Network, predict_proba_from
from .workspace import MnistModel, Split

__all__ = ["BUNDLE_RS", "TrainingStopped", "build_bundle", "from_bytes", "make_classifier", "mlp_spec",
           "read_bundle", "to_bytes", "train_epochs"]

BUNDLE_RS = (1, 2, 5, 10)
"""Disc sizes (data radii) of the fooling rates in a bundle."""
RATE_RESOLUTION = 201
"""Grid cells per side of the fooling-rate discs (as ``reproduce`` uses)."""


class TrainingStopped(Exception):
    """Training stopped before its last epoch.

    Attributes
    ----------
    reason : str
        ``'diverged'``, ``'collapsed'`` (every encoding on one point, e.g. dead ReLUs),
        ``'cancelled'`` or ``'timeout'`` (or what the caller raised with).
    epoch : int
        The last epoch completed.
    """

    def __init__(self, reason: str, epoch: int = 0, message: str = ""):
        super().__init__(message or reason)
        self.reason = reason
        self.epoch = epoch


def mlp_spec(spec: LabSpec) -> MLPSpec:
    """The :class:`fooling.models.MLPSpec` a lab network is recorded with (name ``lab``)."""
    return MLPSpec("lab", spec.layers, spec.activation, spec.solver, spec.lr, spec.digits,
                   random_state=spec.seed, max_iter=spec.epochs)


def make_classifier(spec: LabSpec):
    """The unfitted ``MLPClassifier``; its ``random_state`` is a ``RandomState(seed)`` instance
    so that successive ``partial_fit`` calls continue one random stream."""
    from sklearn.neural_network import MLPClassifier

    return MLPClassifier(hidden_layer_sizes=spec.layers, activation=spec.activation, solver=spec.solver,
                         learning_rate_init=spec.lr, alpha=spec.alpha, learning_rate="constant",
                         max_iter=spec.epochs, random_state=np.random.RandomState(spec.seed))


def train_epochs(spec: LabSpec, split: Split, *,
                 on_epoch: Callable[[int, float], None] | None = None) -> TrainedMLP:
    """Train ``spec`` on ``split`` for exactly ``spec.epochs`` epochs.

    Parameters
    ----------
    spec : LabSpec
    split : fooling.workspace.Split
        Of ``spec.digits``; pixels in [0, 1].
    on_epoch : callable(epoch, loss), optional
        Called after every epoch (1-based) with its training loss; it may raise (e.g.
        :class:`TrainingStopped` to cancel), which stops training.

    Returns
    -------
    TrainedMLP
        ``loss_curve`` of shape (epochs,); ``converged`` is False (no convergence test).

    Raises
    ------
    TrainingStopped
        With reason ``'diverged'`` when the loss or the weights stop being finite.
    """
    clf = make_classifier(spec)
    classes = np.asarray(spec.digits)
    start = time.perf_counter()
    for epoch in range(1, spec.epochs + 1):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # overflow on the way to divergence
                clf.partial_fit(split.X_train, split.y_train, classes=classes)
        except ValueError as exc:  # scikit-learn refuses non-finite weights
            raise TrainingStopped("diverged", epoch - 1, f"training diverged at epoch {epoch}: {exc}") from None
        loss = float(clf.loss_curve_[-1])
        if not np.isfinite(loss):
            raise TrainingStopped("diverged", epoch, f"the loss is not finite at epoch {epoch}")
        if on_epoch is not None:
            on_epoch(epoch, loss)
    seconds = time.perf_counter() - start
    net = Network.from_mlp(clf)
    if not all(np.all(np.isfinite(lay.W)) and np.all(np.isfinite(lay.b)) for lay in net.layers):
        raise TrainingStopped("diverged", spec.epochs, "the trained weights are not finite")
    return TrainedMLP(mlp_spec(spec), net, np.asarray(clf.loss_curve_, dtype=float),
                      accuracy(net, split.X_train, split.y_train), accuracy(net, split.X_test, split.y_test),
                      seconds, False)


def _rates(proba_fn, points, density, bounds) -> dict:
    return fooling_summary(proba_fn, points, density, Rs=BUNDLE_RS, resolution=RATE_RESOLUTION, bounds=bounds)


def build_bundle(spec: LabSpec, trained: TrainedMLP, split: Split, key: str, *, resolution: int = 200,
                 cache_dir=None, on_stage: Callable[[str], None] | None = None) -> tuple[dict, dict]:
    """Everything the page shows about a trained lab network, as ``(arrays, meta)``.

    Parameters
    ----------
    spec, trained, split
        The spec, its trained network and the split it was trained on.
    key : str
        :func:`fooling.lab.spec_key` of the spec and the data.
    resolution : int
        Grid points per axis of the maps.
    on_stage : callable(str), optional
        Told what is being computed (for progress).

    Raises
    ------
    TrainingStopped
        ``'collapsed'``: the network puts every training digit on one hidden point.

    Returns
    -------
    arrays : dict
        ``mlp__*`` (:meth:`TrainedMLP.to_arrays`) and ``plane__*``
        (:meth:`fooling.analysis.PlaneAnalysis.build`).
    meta : dict
        ``spec`` (the query), ``key``, ``resolution``, ``plane`` (the analysis's metadata)
        and ``rates``: ``{"linear": summary, "rbf": summary}`` of
        :func:`fooling.metrics.fooling_summary` (R1 ... R10, ``max_confidence``,
        ``flagged_by_density``).
    """
    stage = on_stage or (lambda what: None)
    model = MnistModel(trained, split, key)
    H = model.train_hidden
    sv = np.linalg.svd(H - H.mean(axis=0), compute_uv=False) if np.all(np.isfinite(H)) else np.zeros(2)
    if sv[0] <= 1e-9:
        raise TrainingStopped("collapsed", spec.epochs, "the 2-unit layer puts every training digit on one point "
                              f"{np.round(H[0], 4).tolist()}: there is no plane to show")
    if sv[1] <= 1e-9 * sv[0]:
        raise TrainingStopped("collapsed", spec.epochs, "the 2-unit layer puts every training digit on one line "
                              "(one of its units does nothing): there is no plane to show")
    stage("analysing the hidden plane: maps, RBF head, density check, reachable region")
    analysis = PlaneAnalysis(model, resolution=resolution, cache_dir=cache_dir)
    plane, plane_meta = analysis.build()
    store.save(analysis.path, plane, plane_meta)  # the analysis reads its heads back from here
    stage("measuring the fooling rates of both heads")
    lo, hi = model.inverter.codomain
    bounds = None if not (np.isfinite(lo) or np.isfinite(hi)) else (lo, hi, lo, hi)
    H, density = model.train_hidden, analysis.density
    rates = {"linear": _rates(lambda P: predict_proba_from(model.net, P, model.hidden_layer), H, density, bounds),
             "rbf": _rates(analysis.head.predict_proba, H, density, bounds)}
    arrays = {**{f"mlp__{k}": v for k, v in trained.to_arrays().items()},
              **{f"plane__{k}": v for k, v in plane.items()}}
    meta = {"format": LAB_FORMAT, "spec": spec.query(), "key": key, "resolution": int(resolution),
            "plane": plane_meta, "rates": store.jsonable(rates)}
    return arrays, meta


def read_bundle(arrays: Mapping[str, np.ndarray], meta: Mapping, spec: LabSpec) -> tuple[TrainedMLP, dict, dict]:
    """``(trained network, plane arrays, plane metadata)`` of a bundle built for ``spec``.

    Raises
    ------
    ValueError
        The bundle is for another spec or lacks arrays.
    """
    if meta.get("spec") != spec.query() or meta.get("format") != LAB_FORMAT:
        raise ValueError("the bundle belongs to another spec")
    mlp = {k[5:]: v for k, v in arrays.items() if k.startswith("mlp__")}
    plane = {k[7:]: v for k, v in arrays.items() if k.startswith("plane__")}
    return TrainedMLP.from_arrays(mlp_spec(spec), mlp), plane, dict(meta["plane"])


def to_bytes(arrays: Mapping[str, np.ndarray], meta: Mapping) -> bytes:
    """``.npz`` bytes (compressed) of plain arrays and JSON metadata; object arrays are refused."""
    buf = io.BytesIO()
    np.savez_compressed(buf, **store.plain(arrays, meta))
    return buf.getvalue()


def from_bytes(data: bytes) -> tuple[dict[str, np.ndarray], dict]:
    """Inverse of :func:`to_bytes`, read with ``allow_pickle=False``.

    Raises
    ------
    ValueError
        Not an npz of plain arrays with metadata.
    """
    try:
        return store.unpack(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 -- any failure means the bytes are unusable
        raise ValueError(f"not a bundle ({type(exc).__name__}: {exc})") from None
