"""What the pages read: the workspace plus grids computed once per process.

Nothing here changes after construction except lazily filled caches
(``functools.cached_property``), so forked gunicorn workers share it read-only.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from fooling.models import ESSAY, IRIS_MODELS
from fooling.network import predict_proba_from
from fooling.probes import data_radius
from fooling.regions import RegionGrid, evaluate_grid
from fooling.workspace import MnistModel, Workspace

__all__ = ["IRIS_BOUNDS", "IRIS_DATA_BOUNDS", "HiddenPlane", "Resources"]

IRIS_BOUNDS = (-3.0, 12.0, -7.0, 12.0)
"""The extended iris plane: negative lengths and the essay's three probes included."""

IRIS_DATA_BOUNDS = (0.0, 7.5, -0.5, 3.0)
"""Where the iris data lie (the close-up view)."""

MNIST_EXTENT = 4.0
"""Identity net: the map spans this many data radii around the encodings' centroid."""


@dataclass(frozen=True)
class HiddenPlane:
    """An MLP's 2-unit hidden plane as the map shows it."""

    name: str
    model: MnistModel
    grid: RegionGrid
    centroid: np.ndarray
    radius: float
    bounded: bool

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        return self.grid.bounds


class Resources:
    """Workspace and per-model grids, built once per process.

    Parameters
    ----------
    workspace : fooling.workspace.Workspace
    grid : int
        Grid points per axis.
    """

    def __init__(self, workspace: Workspace, grid: int = 200):
        self.workspace = workspace
        self.grid = grid
        self.essay = ESSAY

    @property
    def iris(self):
        return self.workspace.iris

    @cached_property
    def iris_grids(self) -> dict[str, RegionGrid]:
        """Each iris model's probabilities over :data:`IRIS_BOUNDS`."""
        return {name: evaluate_grid(self.iris.models[name].predict_proba, IRIS_BOUNDS, self.grid)
                for name in IRIS_MODELS}

    @cached_property
    def iris_predictions(self) -> dict[str, np.ndarray]:
        """Each model's predicted class index for the 150 flowers."""
        return {name: self.iris.models[name].predict(self.iris.X) for name in IRIS_MODELS}

    def hidden_plane(self, name: str) -> HiddenPlane:
        """The hidden plane of MLP ``name`` (``identity`` or ``tanh``), computed once."""
        cache = self.__dict__.setdefault("_planes", {})
        if name not in cache:
            m = self.workspace.mnist[name]
            centroid, radius = data_radius(m.train_hidden)
            bounded = m.inverter.codomain[0] > -np.inf
            if bounded:
                lo, hi = m.inverter.codomain
                bounds = (lo, hi, lo, hi)
            else:
                r = MNIST_EXTENT * radius
                bounds = (centroid[0] - r, centroid[0] + r, centroid[1] - r, centroid[1] + r)
            grid = evaluate_grid(lambda H: predict_proba_from(m.net, H, m.hidden_layer), bounds, self.grid)
            cache[name] = HiddenPlane(name, m, grid, centroid, radius, bounded)
        return cache[name]

    def warm(self) -> "Resources":
        """Compute every grid now (before gunicorn forks its workers)."""
        _ = self.iris_grids, self.iris_predictions
        for name in ("identity", "tanh"):
            if name in self.workspace.mnist:
                self.hidden_plane(name)
        return self
