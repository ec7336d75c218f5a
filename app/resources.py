"""What every page reads: the workspace, its analyses, and the iris grids two pages share.

A :class:`Resources` is built once per process (before gunicorn forks its workers) and
only read afterwards: every computed attribute is a :class:`fooling.lazy.cached` (one
computation, thread-safe), and everything that costs more than a few milliseconds comes
from the artifact cache (:class:`fooling.analysis.WorkspaceAnalysis`).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from fooling import store
from fooling.analysis import PlaneAnalysis, WorkspaceAnalysis
from fooling.lazy import cached
from fooling.models import ESSAY, IRIS_MODELS
from fooling.regions import RegionGrid, evaluate_grid, pack_segments, unpack_segments
from fooling.workspace import Workspace

__all__ = ["IRIS_BOUNDS", "IRIS_DATA_BOUNDS", "Resources"]

IRIS_BOUNDS = (-3.0, 12.0, -7.0, 12.0)
"""The extended iris plane: negative lengths and the essay's three probes included."""

IRIS_DATA_BOUNDS = (0.0, 7.5, -0.5, 3.0)
"""Where the iris data lie (the close-up view)."""


class Resources:
    """The workspace, its analyses and the shared iris grids.

    Parameters
    ----------
    workspace : fooling.workspace.Workspace
    grid : int
        Grid points per axis of every region map.
    """

    def __init__(self, workspace: Workspace, grid: int = 200, settings=None):
        from .settings import Settings

        self.workspace = workspace
        self.grid = int(grid)
        self.settings = settings if settings is not None else Settings(grid=self.grid)
        self.essay = ESSAY
        self.analysis = WorkspaceAnalysis(workspace, resolution=self.grid)

    @property
    def iris(self):
        return self.workspace.iris

    def plane(self, name: str) -> PlaneAnalysis:
        """The analysis of network ``name``'s hidden plane (one object per name)."""
        return self.analysis.plane(name)

    def stored(self, kind: str, params, build: Callable[[], tuple[dict, dict]],
               check: Callable[[dict, dict], None] | None = None) -> tuple[dict, dict]:
        """Arrays a page computes from the workspace, cached on disk beside the models.

        The file is keyed by the workspace (its data and every model's key, see
        :attr:`fooling.analysis.WorkspaceAnalysis.key`), ``kind`` and ``params``; it is read
        with ``allow_pickle=False`` and rebuilt with a warning when corrupt.

        Parameters
        ----------
        kind : str
            What is stored (part of the file name).
        params : JSON-serialisable
            Everything else the arrays depend on.
        build : callable returning (arrays, meta)
        check : callable(arrays, meta), optional
            Raises on arrays that are readable but wrong.
        """
        key = store.artifact_key(self.analysis.key, kind, params)
        arrays, meta, _ = store.load_or_build(self.analysis.cache_dir / f"{kind}-{key}.npz", build, check)
        return arrays, meta

    @cached
    def _iris(self) -> dict:
        def build():
            out = {}
            for name in IRIS_MODELS:
                grid = evaluate_grid(self.iris.models[name].predict_proba, IRIS_BOUNDS, self.grid)
                out[f"{name}__proba"] = grid.proba
                for tag, level in (("half", 0.5), ("third", 1 / 3)):
                    out[f"{name}__{tag}"], out[f"{name}__{tag}_counts"] = pack_segments(grid.contours(level))
            return out, {}

        def check(arrays, meta):
            for name in IRIS_MODELS:
                if arrays[f"{name}__proba"].shape[:2] != (self.grid, self.grid):
                    raise ValueError("grid of another resolution")

        return self.stored("iris-maps", [IRIS_BOUNDS, self.grid], build, check)[0]

    @cached
    def iris_grids(self) -> dict[str, RegionGrid]:
        """Each iris model's probabilities over :data:`IRIS_BOUNDS`."""
        x0, x1, y0, y1 = IRIS_BOUNDS
        xs, ys = np.linspace(x0, x1, self.grid), np.linspace(y0, y1, self.grid)
        return {name: RegionGrid(xs, ys, self._iris[f"{name}__proba"]) for name in IRIS_MODELS}

    @cached
    def iris_contours(self) -> dict[str, dict[float, list[np.ndarray]]]:
        """Each iris model's P = 1/2 and P = 1/3 contour segments (one array per class)."""
        a = self._iris
        out = {}
        for name in IRIS_MODELS:
            out[name] = {}
            for tag, level in (("half", 0.5), ("third", 1 / 3)):
                out[name][level] = unpack_segments(a[f"{name}__{tag}"], a[f"{name}__{tag}_counts"])
        return out

    @cached
    def iris_predictions(self) -> dict[str, np.ndarray]:
        """Each model's predicted class index for the 150 flowers."""
        return {name: self.iris.models[name].predict(self.iris.X) for name in IRIS_MODELS}

    def warm(self) -> "Resources":
        _ = self.iris_grids, self.iris_contours, self.iris_predictions
        return self
