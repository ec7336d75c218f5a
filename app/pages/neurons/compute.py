"""Per-process state of /neurons: per-layer arrays (cached on disk) and attack sweeps (memoised)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fooling.attacks import OverlaySweep, normalized_pattern, overlay_sweep
from fooling.lazy import Memo, cached
from fooling.network import forward
from fooling.neurons import activation_sparsity, activity_weighted_average, effective_weights

from ...components import BadInput

__all__ = ["CLIP", "DEFAULT_SOURCE", "DEFAULT_TARGET", "LAYER_LABELS", "LayerData", "MIN_PROBABILITY",
           "MODEL", "STRENGTHS", "STRENGTH_MAX", "STRENGTH_STEP", "State"]

MODEL = "neurons"
"""Key of the 784-64-64-10 network in ``res.workspace.mnist``."""

LAYER_LABELS = {1: "hidden layer 1", 2: "hidden layer 2", 3: "output (digits)"}
STRENGTH_MAX = 3.0
STRENGTH_STEP = 0.01
STRENGTHS = np.linspace(0.0, STRENGTH_MAX, int(round(STRENGTH_MAX / STRENGTH_STEP)) + 1)
"""The sweep's strengths; the slider moves on the same grid."""
MIN_PROBABILITY = 0.9
"""Target probability a blend must reach for the flip to count."""
CLIP = (0.0, 1.0)
DEFAULT_SOURCE, DEFAULT_TARGET = 7, 0


@dataclass(frozen=True)
class LayerData:
    """Per-layer arrays.

    Attributes
    ----------
    effective : ndarray of shape (784, n_units)
        Effective weights of every unit.
    average : ndarray of shape (784, n_units)
        Activity-weighted average of the training images for every unit.
    active : ndarray of shape (n_units,)
        Fraction of training images on which the unit's activity is positive.
    top : ndarray of shape (n_units,)
        Fraction of training images on which the unit is the layer's most active one
        (for the output layer: the share of images called that digit).
    sparsity : ndarray of shape (n_test, 2)
        Strongly / mildly active units per held-out image.
    """

    effective: np.ndarray
    average: np.ndarray
    active: np.ndarray
    top: np.ndarray
    sparsity: np.ndarray


class State:
    """The 784-64-64-10 network's per-layer arrays and attack sweeps.

    ``available`` is False when the workspace has no such network (the page says so).
    """

    def __init__(self, res):
        self.res = res
        self.model = res.workspace.mnist.get(MODEL)
        self.available = self.model is not None
        if self.available:
            self.net = self.model.net
            self.n_layers = len(self.net.layers)
            self.classes = [int(c) for c in self.net.classes]
        self.sweep = Memo(self._sweep, maxsize=256)

    def units(self, layer: int) -> int:
        return int(self.net.sizes[layer])

    @cached
    def layers(self) -> dict[int, LayerData]:
        """Every layer's arrays (computed once, cached on disk with the workspace's models)."""
        fields = ("effective", "average", "active", "top", "sparsity")
        n = self.n_layers

        def build():
            X_train, X_test = self.model.split.X_train, self.model.split.X_test
            out = {}
            for layer in range(1, n + 1):
                A = forward(self.net, X_train, layer)
                values = (effective_weights(self.net, layer), activity_weighted_average(self.net, X_train, layer),
                          (A > 0).mean(axis=0), np.bincount(A.argmax(axis=1), minlength=A.shape[1]) / len(A),
                          activation_sparsity(self.net, X_test, layer))
                out.update({f"{f}{layer}": v for f, v in zip(fields, values)})
            return out, {}

        def check(arrays, meta):
            for layer in range(1, n + 1):
                if arrays[f"effective{layer}"].shape != (self.net.sizes[0], self.units(layer)):
                    raise ValueError("arrays of another network")

        arrays, _ = self.res.stored("neuron-layers", [self.model.key], build, check)
        return {layer: LayerData(*(arrays[f"{f}{layer}"] for f in fields)) for layer in range(1, n + 1)}

    @cached
    def test_predicted(self) -> np.ndarray:
        return self.net.classes[forward(self.net, self.model.split.X_test).argmax(axis=1)]

    def source_index(self, digit: int) -> int | None:
        """Held-out row of the first correctly classified ``digit`` (None if there is none)."""
        split = self.model.split
        ok = np.flatnonzero((split.y_test == digit) & (self.test_predicted == digit))
        return int(ok[0]) if len(ok) else None

    def pattern(self, target: int) -> np.ndarray:
        """The target's output-neuron effective weights, peak |pixel| scaled to 1."""
        k = self.classes.index(target)
        return normalized_pattern(self.layers[self.n_layers].effective[:, k])

    def _sweep(self, source: int, target: int, clip: bool) -> tuple[int, OverlaySweep]:
        i = self.source_index(source)
        if i is None:
            raise BadInput(f"No held-out {source} is classified correctly; pick another source.")
        image = self.model.split.X_test[i]
        return i, overlay_sweep(self.net, image, self.pattern(target), target, STRENGTHS,
                                clip=CLIP if clip else None, min_probability=MIN_PROBABILITY)

    def warm(self) -> "State":
        if self.available:
            _ = self.layers, self.test_predicted
            self.sweep(DEFAULT_SOURCE, DEFAULT_TARGET, True)
        return self
