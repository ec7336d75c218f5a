"""Per-process computations and text of the /compare page.

Everything here is memoised once per ``Resources`` object (:func:`memo`, a
``WeakKeyDictionary`` keyed by it) and per key. Grid resolutions are passed in by the page
(:mod:`app.pages.compare` owns them) and are part of every memo key.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any, Callable

import dash_bootstrap_components as dbc
import numpy as np
from dash import html

from fooling.analysis import Plane, model_planes, workspace_fooling_rates
from fooling.metrics import confidence_vs_distance
from fooling.metrics_maps import confidence_density_map, log_density_level  # noqa: F401 (re-exported)
from fooling.models import IRIS_MODELS
from fooling.probes import data_radius

from . import ids
from .figures_iris import IRIS_AXES

THRESHOLD = 0.99
RS = (1, 2, 5, 10)
FLAG_R = 10
"""Disc (data radii) of the density map, the highest confidence and the density column."""
NEAR_R = 2
"""Half-width (data radii) of the 'near the data' view."""
LEVELS = ((" (boundary)", None), ("", 50.0))
"""Log-density contours: at the check's own threshold percentile, and at the median."""

MODELS = ("logistic", "svm_linear", "svm_rbf", "mlp_identity", "mlp_tanh", "mlp_identity_rbf_head")
LABELS = {
    "logistic": "Iris: logistic regression", "svm_linear": "Iris: linear SVM",
    "svm_rbf": "Iris: RBF SVM", "mlp_identity": "MNIST: identity net, linear head",
    "mlp_tanh": "MNIST: tanh net, linear head", "mlp_identity_rbf_head": "MNIST: identity net, RBF head",
}
VIEWS = {"disc": f"whole disc ({FLAG_R} radii)", "near": f"near the data ({NEAR_R} radii)"}
HIDDEN_AXES = ("hidden unit 1", "hidden unit 2")


# ---- memoisation: once per Resources object and key ---------------------------------------

class _Cell:
    """One memoised value; concurrent first callers wait for a single computation."""

    def __init__(self):
        self.lock = threading.Lock()
        self.done = False
        self.value = None

    def get(self, build: Callable[[], Any]) -> Any:
        if not self.done:
            with self.lock:
                if not self.done:
                    self.value, self.done = build(), True
        return self.value


_CACHE: "weakref.WeakKeyDictionary[Any, dict]" = weakref.WeakKeyDictionary()
_CACHE_LOCK = threading.Lock()


def memo(res, key: tuple, build: Callable[[], Any]) -> Any:
    """``build()`` once per ``res`` and ``key`` (a tuple of plain values), then the same object."""
    with _CACHE_LOCK:
        cells = _CACHE.setdefault(res, {})
        cell = cells.get(key)
        if cell is None:
            cell = cells[key] = _Cell()
    return cell.get(build)


# ---- the models' planes (as workspace_fooling_rates builds them) --------------------------

def planes(res) -> dict[str, Plane]:
    """Every model's plane (:func:`fooling.metrics.model_planes`), in :data:`MODELS` order, once."""
    def build():
        out = model_planes(res.workspace)
        return {name: out[name] for name in MODELS if name in out}

    return memo(res, ("planes",), build)


def axis_titles(name: str) -> tuple[str, str]:
    """Axis titles of a model's plane."""
    return HIDDEN_AXES if name.startswith("mlp_") else IRIS_AXES


def summary(res, resolution: int) -> dict:
    """:func:`fooling.metrics.workspace_fooling_rates` of the workspace (once per process)."""
    return memo(res, ("summary", RS, THRESHOLD, resolution), lambda: workspace_fooling_rates(
        res.workspace, Rs=RS, threshold=THRESHOLD, resolution=resolution, planes=planes(res)))


def _covering_R(plane: Plane, centroid: np.ndarray, radius: float) -> float:
    """Smallest disc (data radii, at most FLAG_R) holding all of a bounded plane's box."""
    if plane.bounds is None:
        return float(FLAG_R)
    x0, x1, y0, y1 = plane.bounds
    corners = np.array([[x0, y0], [x0, y1], [x1, y0], [x1, y1]])
    reach = float(np.linalg.norm(corners - centroid, axis=1).max()) / radius
    return min(float(FLAG_R), reach * 1.001)


def curve(res, name: str, resolution: int) -> dict:
    """:func:`fooling.metrics.confidence_vs_distance` of one model, plus ``R`` (once per process).

    On a bounded plane the disc of :data:`FLAG_R` radii meets the box in the whole box;
    the curve is measured on the smallest disc that still holds the box, so that the box
    gets as many grid points as the other models' discs.
    """
    def build():
        p = planes(res)[name]
        centroid, radius = data_radius(p.points)
        R = _covering_R(p, centroid, radius)
        out = confidence_vs_distance(p.proba_fn, p.points, R=R, resolution=resolution, bounds=p.bounds)
        out["R"] = R
        return out

    return memo(res, ("curve", name, resolution), build)


def curve_lines(curves: dict[str, dict]) -> dict[str, dict]:
    """Per model: the non-empty bins' distances (data radii), medians and 90th percentiles."""
    out = {}
    for name, c in curves.items():
        ok = c["count"] > 0
        out[name] = {"x": c["centres"][ok] / c["radius"], "median": c["median"][ok], "p90": c["p90"][ok]}
    return out


def density_map(res, name: str, resolution: int, contour_resolution: int) -> dict:
    """One model's confidence and density verdict over the disc of :data:`FLAG_R` radii.

    :func:`fooling.metrics_maps.confidence_density_map` of the model's plane: on an
    unbounded plane its cells are exactly those of :func:`fooling.metrics.disc_grid` at
    ``resolution`` (so the shares equal the table's R10 and density column); on a bounded
    one, ``resolution`` cells per side of the box (the disc holds all of it).

    Returns
    -------
    dict
        ``xs``, ``ys`` cell centres; ``top`` ndarray of shape (ny, nx), NaN outside the
        disc (and box); ``flagged`` bool, same shape (confident cells only); ``share``
        (confident share of the measured cells), ``flagged_share`` (None when nothing is
        confident), ``n_cells``, ``n_confident``, ``max_confidence``; ``contours``
        {legend name: segments}; ``centroid``, ``radius``, ``rho``, ``bounds``; ``views``
        {view key of :data:`VIEWS`: (x0, x1, y0, y1)}.
    """
    def build():
        p = planes(res)[name]
        centroid, radius = data_radius(p.points)
        rho = FLAG_R * radius
        m = confidence_density_map(p.proba_fn, p.density, centroid, rho, threshold=THRESHOLD,
                                   resolution=resolution, contour_resolution=contour_resolution,
                                   bounds=p.bounds, percentiles=[pct for _, pct in LEVELS])
        contours = {f"log-density, {_ordinal(shown)} percentile{label}": segments
                    for (label, _), (shown, segments) in zip(LEVELS, m.pop("contours"))}
        box = m.pop("box")
        near = NEAR_R * radius
        views = {"disc": _pad(box), "near": _pad((centroid[0] - near, centroid[0] + near,
                                                  centroid[1] - near, centroid[1] + near))}
        if p.bounds is not None:
            views = {k: _pad(_clip(v, p.bounds)) for k, v in views.items()}
        return {**m, "contours": contours, "centroid": centroid, "radius": radius, "rho": rho,
                "bounds": p.bounds, "views": views}

    return memo(res, ("map", name, resolution, contour_resolution), build)


def _pad(box, frac: float = 0.03):
    x0, x1, y0, y1 = box
    dx, dy = frac * (x1 - x0), frac * (y1 - y0)
    return (float(x0 - dx), float(x1 + dx), float(y0 - dy), float(y1 + dy))


def _clip(box, bounds):
    return (max(box[0], bounds[0]), min(box[1], bounds[1]), max(box[2], bounds[2]), min(box[3], bounds[3]))


def _ordinal(p: float) -> str:
    n = f"{p:g}"
    if n.endswith("1") and not n.endswith("11"):
        return n + "st"
    if n.endswith("2") and not n.endswith("12"):
        return n + "nd"
    if n.endswith("3") and not n.endswith("13"):
        return n + "rd"
    return n + "th"


# ---- text and table -----------------------------------------------------------------------

def _p(v: float | None, digits: int = 2) -> str:
    return "n/a" if v is None else f"{100 * v:.{digits}f}%"


def _accuracy(res, name: str, s: dict) -> float | None:
    if name in IRIS_MODELS:
        return res.iris.accuracy(name)
    if name == "mlp_identity_rbf_head":
        return s["rbf_head_test_accuracy"]
    return res.workspace.mnist[name[4:]].trained.test_accuracy


def table_rows(res, s: dict) -> list[dict]:
    """One dict per model of summary ``s``: ``name``, ``label``, formatted ``R1``..``R10``,
    ``max``, ``flagged``, ``accuracy``."""
    rows = []
    for name in MODELS:
        if name not in s["models"]:
            continue
        m = s["models"][name]
        acc = _accuracy(res, name, s)
        flagged = m.get("flagged_by_density")
        rows.append({"name": name, "label": LABELS[name],
                     **{f"R{R:g}": _p(m[f"R{R:g}"]) for R in RS},
                     "max": _p(m["max_confidence"]),
                     "flagged": _p(flagged) if flagged is not None else "n/a",
                     "accuracy": _p(acc, 1) if acc is not None else "n/a"})
    return rows


def table(res, rows: list[dict]) -> list:
    """The fooling-rate table of ``rows`` (:func:`table_rows`) and its legend."""
    head = html.Thead(html.Tr([html.Th("model")] + [html.Th(f"R = {R:g}") for R in RS] + [
        html.Th("max P"), html.Th("flagged"), html.Th("accuracy")]))
    body = html.Tbody([html.Tr([html.Td(r["label"])] + [html.Td(r[f"R{R:g}"]) for R in RS] + [
        html.Td(r["max"]), html.Td(r["flagged"]), html.Td(r["accuracy"])], className=f"row-{r['name']}")
        for r in rows])
    tbl = dbc.Table([head, body], id=ids.COMPARE_TABLE, striped=True, size="sm", responsive=True,
                    className="small mb-1")
    return [tbl, html.P(
        f"R = r: the fooling rate on the disc of r data radii. max P: the highest top probability "
        f"on the disc of {FLAG_R} radii. flagged: the share of the confident area within {FLAG_R} radii "
        f"that the density check calls out of distribution. Accuracy: iris on all {len(res.iris.X)} "
        "flowers (its training set too), MNIST on held-out digits.", className="small text-muted")]


def overview_text(res, s: dict, pl: dict[str, Plane]) -> list:
    """The page's explanatory paragraphs, given summary ``s`` and planes ``pl``."""
    n = s["resolution"]
    parts = [html.P(
        f"A model is fooled where it is sure of an answer although nothing like its training data "
        f"lies there. Its fooling rate at R is the share of the area of a disc of R data radii, "
        f"centred on its training points' centroid, where its top class probability is at least "
        f"{100 * s['threshold']:g}%. The data radius is the largest distance of a training point from "
        f"that centroid. Iris models live on the petal plane (the {len(res.iris.X)} flowers); the "
        f"MNIST nets on their 2-unit last hidden layer (the training digits' encodings). Areas are "
        f"counted on a grid of {n} × {n} cell centres over each disc's bounding square.")]
    if "mlp_tanh" in s["models"]:
        mx = s["models"]["mlp_tanh"]["max_confidence"]
        reach = ("never reaches {t:g}% there at all: the highest anywhere is {m}." if mx < s["threshold"]
                 else "reaches at most {m} there.").format(t=100 * s["threshold"], m=_p(mx))
        parts.append(html.P(
            "The tanh net's hidden units lie in (−1, 1), so no input reaches beyond the square "
            "(−1, 1)²: its disc is intersected with that square and its rates are shares of the "
            f"intersection. Its top probability {reach}"))
    if "mlp_identity" in pl:
        d = pl["mlp_identity"].density
        acc = s["rbf_head_test_accuracy"]
        linear = res.workspace.mnist["identity"].trained.test_accuracy
        parts.append(html.P([
            html.Strong("Two remedies. "),
            "An RBF head: keep the identity net up to its 2-unit layer and replace the linear output "
            f"layer by an RBF-kernel SVM with Platt-scaled probabilities, fitted on the training "
            f"encodings (held-out accuracy {_p(acc, 1)}, against {_p(linear, 1)} for the linear head). "
            f"A density check beside the classifier: a Gaussian mixture ({d.n_components} components) "
            "fitted on the training points (petals, or encodings) flags a point as out of "
            f"distribution when its log-density is below the {_ordinal(d.threshold_percentile)} "
            "percentile of the training points' own. The table's column 'flagged' is the share of "
            f"each model's confident area (within {FLAG_R} data radii) that it flags."]))
    return parts


def curves_note(curves: dict[str, dict]) -> str:
    """The sentence under the curves, given every model's :func:`curve`."""
    far = []
    for name, c in curves.items():
        ok = np.flatnonzero(c["count"])
        far.append(f"{LABELS[name]} {_p(c['median'][ok[-1]], 1)}")
    text = ("On an unbounded plane a linear head's confidence hardly fades with distance, or grows; "
            "an RBF model's falls back to one fixed answer well below certainty. Median top "
            "probability in the farthest bin: " + "; ".join(far) + ".")
    if "mlp_tanh" in curves:
        c = curves["mlp_tanh"]
        text += (f" The tanh net's curve covers its whole square, which lies within "
                 f"{c['edges'][-1] / c['radius']:.2f} data radii of a training encoding.")
    return text


def density_note(name: str, d: dict, bounded: bool) -> str:
    """The sentence under the density map of ``name`` (its :func:`density_map` ``d``)."""
    t = f"{100 * THRESHOLD:g}%"
    if not bounded:
        where = f"the disc of {FLAG_R} data radii"
    else:
        where = f"the square (−1, 1)² (the disc of {FLAG_R} data radii holds all of it)"
    if not d["n_confident"]:
        return (f"{LABELS[name]}: the top probability reaches {t} nowhere on {where}; the highest is "
                f"{_p(d['max_confidence'])}, so there is nothing for the density check to catch.")
    return (f"{LABELS[name]}: the top probability is {t} or more on {_p(d['share'])} of {where} "
            f"({d['n_confident']:,} of {d['n_cells']:,} grid cells); the density check flags "
            f"{_p(d['flagged_share'])} of that confident area as out of distribution.")
