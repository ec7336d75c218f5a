"""Per-process state of /compare: the measurements (cached on disk) and their figures."""

from __future__ import annotations

import numpy as np

from fooling.analysis import Plane
from fooling.lazy import cached
from fooling.probes import data_radius

from ...figures import IRIS_AXES
from .figures import make_confidence_curves_figure, make_density_map_figure

__all__ = ["CONTOUR_RESOLUTION", "CURVE_RESOLUTION", "DEFAULT_MODEL", "FLAG_R", "LABELS", "MODELS",
           "NEAR_R", "RESOLUTION", "RS", "THRESHOLD", "VIEWS", "State", "axis_titles", "ordinal"]

THRESHOLD = 0.99
RS = (1, 2, 5, 10)
FLAG_R = 10
"""Disc (data radii) of the density map, the highest confidence and the density column."""
NEAR_R = 2
"""Half-width (data radii) of the 'near the data' view."""
LEVELS = ((" (boundary)", None), ("", 50.0))
"""Log-density contours: at the check's own threshold percentile, and at the median."""
RESOLUTION = 201
"""Fooling-rate grid cells per side (``workspace_fooling_rates``'s default); the density map too."""
CURVE_RESOLUTION = 401
"""Grid cells per side of ``confidence_vs_distance`` (its default)."""
CONTOUR_RESOLUTION = 401
"""Grid points per side of the log-density grid the contour lines are traced on."""

MODELS = ("logistic", "svm_linear", "svm_rbf", "mlp_identity", "mlp_tanh", "mlp_identity_rbf_head")
LABELS = {
    "logistic": "Iris: logistic regression", "svm_linear": "Iris: linear SVM",
    "svm_rbf": "Iris: RBF SVM", "mlp_identity": "MNIST: identity net, linear head",
    "mlp_tanh": "MNIST: tanh net, linear head", "mlp_identity_rbf_head": "MNIST: identity net, RBF head",
}
VIEWS = {"disc": f"whole disc ({FLAG_R} radii)", "near": f"near the data ({NEAR_R} radii)"}
DEFAULT_MODEL = "mlp_identity"
HIDDEN_AXES = ("hidden unit 1", "hidden unit 2")


def axis_titles(name: str) -> tuple[str, str]:
    """Axis titles of a model's plane."""
    return HIDDEN_AXES if name.startswith("mlp_") else IRIS_AXES


def ordinal(p: float) -> str:
    n = f"{p:g}"
    if n.endswith("1") and not n.endswith("11"):
        return n + "st"
    if n.endswith("2") and not n.endswith("12"):
        return n + "nd"
    if n.endswith("3") and not n.endswith("13"):
        return n + "rd"
    return n + "th"


def _pad(box, frac: float = 0.03):
    x0, x1, y0, y1 = box
    dx, dy = frac * (x1 - x0), frac * (y1 - y0)
    return (float(x0 - dx), float(x1 + dx), float(y0 - dy), float(y1 + dy))


def _clip(box, bounds):
    return (max(box[0], bounds[0]), min(box[1], bounds[1]), max(box[2], bounds[2]), min(box[3], bounds[3]))


def covering_R(plane: Plane, centroid: np.ndarray, radius: float) -> float:
    """Smallest disc (data radii, at most FLAG_R) holding all of a bounded plane's box."""
    if plane.bounds is None:
        return float(FLAG_R)
    x0, x1, y0, y1 = plane.bounds
    corners = np.array([[x0, y0], [x0, y1], [x1, y0], [x1, y1]])
    reach = float(np.linalg.norm(corners - centroid, axis=1).max()) / radius
    return min(float(FLAG_R), reach * 1.001)


class State:
    """Every measurement /compare shows, and its figures, built once per process."""

    def __init__(self, res):
        self.res = res
        self.analysis = res.analysis

    @cached
    def planes(self) -> dict[str, Plane]:
        """Every model's plane, in :data:`MODELS` order."""
        out = self.analysis.planes
        return {name: out[name] for name in MODELS if name in out}

    @cached
    def summary(self) -> dict:
        """The fooling-rate table's numbers (:meth:`fooling.analysis.WorkspaceAnalysis.fooling_rates`)."""
        return self.analysis.fooling_rates(Rs=RS, threshold=THRESHOLD, resolution=RESOLUTION)

    @cached
    def curves(self) -> dict[str, dict]:
        """Confidence against distance for every model, plus ``R``.

        On a bounded plane the disc of :data:`FLAG_R` radii meets the box in the whole box;
        the curve is measured on the smallest disc that still holds the box, so that the box
        gets as many grid points as the other models' discs.
        """
        out = {}
        for name, p in self.planes.items():
            centroid, radius = data_radius(p.points)
            R = covering_R(p, centroid, radius)
            out[name] = {**self.analysis.confidence_curve(name, R=R, resolution=CURVE_RESOLUTION), "R": R}
        return out

    @cached
    def curve_lines(self) -> dict[str, dict]:
        """Per model: the non-empty bins' distances (data radii), medians and 90th percentiles."""
        out = {}
        for name, c in self.curves.items():
            ok = c["count"] > 0
            out[name] = {"x": c["centres"][ok] / c["radius"], "median": c["median"][ok], "p90": c["p90"][ok]}
        return out

    @cached
    def curves_figure(self):
        return make_confidence_curves_figure(self.curve_lines, labels=LABELS, threshold=THRESHOLD)

    @cached
    def density_maps(self) -> dict[str, dict]:
        """Each model's confidence and density verdict over the disc of :data:`FLAG_R` radii.

        On an unbounded plane the cells are exactly those of the fooling-rate table's
        largest disc (so the shares equal its R10 and density column); on a bounded one,
        :data:`RESOLUTION` cells per side of the box (the disc holds all of it). Each dict
        holds the map (``xs``, ``ys``, ``top``, ``flagged``, ``share``, ``flagged_share``,
        ``n_cells``, ``n_confident``, ``max_confidence``), ``contours`` {legend name:
        segments}, ``centroid``, ``radius``, ``rho``, ``bounds`` and ``views`` {view key
        of :data:`VIEWS`: (x0, x1, y0, y1)}.
        """
        out = {}
        for name, p in self.planes.items():
            centroid, radius = data_radius(p.points)
            rho = FLAG_R * radius
            m = dict(self.analysis.density_map(name, rho=rho, threshold=THRESHOLD, resolution=RESOLUTION,
                                               contour_resolution=CONTOUR_RESOLUTION,
                                               percentiles=[pct for _, pct in LEVELS]))
            contours = {f"log-density, {ordinal(shown)} percentile{label}": segments
                        for (label, _), (shown, segments) in zip(LEVELS, m.pop("contours"))}
            box = m.pop("box")
            near = NEAR_R * radius
            views = {"disc": _pad(box), "near": _pad((centroid[0] - near, centroid[0] + near,
                                                      centroid[1] - near, centroid[1] + near))}
            if p.bounds is not None:
                views = {k: _pad(_clip(v, p.bounds)) for k, v in views.items()}
            out[name] = {**m, "contours": contours, "centroid": centroid, "radius": radius, "rho": rho,
                         "bounds": p.bounds, "views": views}
        return out

    @cached
    def density_figures(self) -> dict:
        """The density map figure of every model, whole-disc view."""
        out = {}
        for name, d in self.density_maps.items():
            p = self.planes[name]
            out[name] = make_density_map_figure(
                d["xs"], d["ys"], d["top"], d["flagged"], threshold=THRESHOLD, chance=1.0 / p.n_classes,
                contours=d["contours"], points=p.points, disc=(d["centroid"], d["rho"], FLAG_R),
                bounds=d["bounds"], view=d["views"]["disc"], axis_titles=axis_titles(name),
                uirevision=f"compare-density-{name}-disc")
        return out

    def warm(self) -> "State":
        _ = self.summary, self.curves_figure, self.density_figures
        return self
