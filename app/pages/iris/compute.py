"""Per-process state of /iris: the map, built once, and the model's answers at a point."""

from __future__ import annotations

import numpy as np

from fooling.lazy import cached

from ...components import percent
from ...figures import HALF_TRACE, THIRD_TRACE, make_iris_figure, trace_index
from ...petals import prediction
from ...resources import IRIS_BOUNDS, IRIS_DATA_BOUNDS

__all__ = ["DEFAULT_OVERLAYS", "DEFAULT_VIEW", "MODEL", "OVERLAYS", "VIEWS", "State"]

MODEL = "logistic"
OVERLAYS = {"half": "P = 1/2 boundaries", "third": "P = 1/3 maximum uncertainty"}
DEFAULT_OVERLAYS = ("half",)
VIEWS = {"far": ("far out", IRIS_BOUNDS), "near": ("near the data", IRIS_DATA_BOUNDS)}
DEFAULT_VIEW = "far"


class State:
    """The /iris map (both overlays drawn, boundaries shown) and what the page says about it."""

    def __init__(self, res):
        self.res = res

    @cached
    def figure(self):
        res = self.res
        grid = res.iris_grids[MODEL]
        contours = res.iris_contours[MODEL]
        probes = np.array([pt for pt, _, _ in res.essay["iris_probes"]], dtype=float)
        return make_iris_figure(grid, res.iris.names, res.iris.X, res.iris.y,
                                res.iris_predictions[MODEL], probes=probes,
                                half=contours[0.5], third=contours[1 / 3],
                                show_half="half" in DEFAULT_OVERLAYS, show_third="third" in DEFAULT_OVERLAYS,
                                view=VIEWS[DEFAULT_VIEW][1], uirevision=f"iris-{DEFAULT_VIEW}")

    @cached
    def overlay_traces(self) -> dict[str, int]:
        """Index of each overlay's trace in :attr:`figure`."""
        return {"half": trace_index(self.figure, HALF_TRACE), "third": trace_index(self.figure, THIRD_TRACE)}

    @cached
    def intro(self) -> str:
        (x, y), _, _ = self.res.essay["iris_probes"][2]
        label, conf, _ = prediction(self.res, MODEL, x, y)
        return ("Logistic regression splits the petal plane with straight lines, so each flower's "
                "region runs on without end. Its confidence grows with the distance from those "
                "lines, not with closeness to any flower: it is highest far from the data. "
                f"No flower has negative petals, yet at ({x:g}, {y:g}) the model says {label} "
                f"with {percent(conf)} confidence.")

    def warm(self) -> "State":
        _ = self.figure, self.overlay_traces, self.intro
        return self
