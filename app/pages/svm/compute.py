"""Per-process state of /svm: both maps, and what the RBF map shows, measured on its grid."""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from fooling.lazy import cached

from ... import ids
from ...figures import make_iris_figure
from ...resources import IRIS_BOUNDS

__all__ = ["CONFIDENT", "FAR_POINT", "MAPS", "SAME", "State"]

MAPS = {ids.SVM_LINEAR_MAP: ("svm_linear", "Linear SVM"), ids.SVM_RBF_MAP: ("svm_rbf", "RBF SVM")}
FAR_POINT = (1000.0, 1000.0)
"""A point so far from the flowers that every RBF kernel term is zero there."""
CONFIDENT = 0.9
SAME = 0.01


class State:
    """Both SVM maps, built once, and the RBF map's summary."""

    def __init__(self, res):
        self.res = res

    @cached
    def figures(self) -> dict:
        """The map of each SVM over the extended plane, by graph id."""
        res = self.res
        probes = np.array([pt for pt, _, _ in res.essay["iris_probes"]], dtype=float)
        out = {}
        for graph_id, (name, title) in MAPS.items():
            grid = res.iris_grids[name]
            out[graph_id] = make_iris_figure(grid, res.iris.names, res.iris.X, res.iris.y,
                                             res.iris_predictions[name], probes=probes,
                                             half=res.iris_contours[name][0.5], show_half=True, title=title,
                                             view=IRIS_BOUNDS, uirevision=graph_id)
        return out

    @cached
    def rbf_summary(self) -> dict:
        """What the RBF map shows, measured on its grid.

        Returns
        -------
        dict with ``far`` (probabilities at :data:`FAR_POINT`), ``confident_within`` (largest
        distance from the nearest flower of a grid point with top probability >= 0.9) and
        ``same_beyond`` (beyond this distance every grid point is within 0.01 of ``far``;
        None if no grid point is that far out).
        """
        res = self.res
        grid = res.iris_grids["svm_rbf"]
        gx, gy = np.meshgrid(grid.xs, grid.ys)
        d, _ = cKDTree(res.iris.X).query(np.column_stack([gx.ravel(), gy.ravel()]))
        proba = grid.proba.reshape(-1, grid.proba.shape[-1])
        far = res.iris.models["svm_rbf"].predict_proba(np.array([FAR_POINT]))[0]
        differ = np.abs(proba - far).max(axis=1) >= SAME
        same_beyond = float(d[differ].max()) if differ.any() else 0.0
        return {"far": far, "confident_within": float(d[proba.max(axis=1) >= CONFIDENT].max(initial=0.0)),
                "same_beyond": same_beyond if same_beyond < d.max() else None}

    def warm(self) -> "State":
        _ = self.figures, self.rbf_summary
        return self
