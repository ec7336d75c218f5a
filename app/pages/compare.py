"""/compare — how far confidence reaches, for every model, and two remedies.

Numbers come from :func:`fooling.metrics.workspace_fooling_rates` (the fooling-rate
table) and :func:`fooling.metrics.confidence_vs_distance` (the curves); the density map
of one model is counted on the very grid the table's last disc is counted on.

Everything here is computed lazily, once per process: the first visit shows the page
with spinners and one callback fills the table and the curves (a few seconds); the
results are memoised per ``Resources`` object (:func:`memo`, a ``WeakKeyDictionary``
keyed by it) and per model name. :func:`warm` computes all of it up front (before
gunicorn forks its workers).
"""

from __future__ import annotations

import threading
import weakref
from typing import Any, Callable

import dash_bootstrap_components as dbc
import numpy as np
import plotly.graph_objects as go
from dash import Input, Output, Patch, dcc, html, no_update

from fooling.density import DensityCheck
from fooling.metrics import Plane, confidence_vs_distance, model_planes, top_proba, workspace_fooling_rates
from fooling.models import IRIS_MODELS
from fooling.probes import data_radius
from fooling.regions import contour_segments

from .. import ids
from ..components import BadInput, graph, message, section
from ..figures_compare import make_confidence_curves_figure, make_density_map_figure
from ..figures_iris import IRIS_AXES
from .iris import triggered_id

__all__ = ["LABELS", "MODELS", "PATH", "curve", "density_map", "layout", "memo", "planes",
           "register", "summary", "table_rows", "update_density", "update_overview", "warm"]

PATH = "/compare"
# ids of this page beyond app.ids
TEXT = "compare-text"
TABLE_BOX = "compare-table-box"
CURVES_NOTE = "compare-curves-note"
DENSITY_NOTE = "compare-density-note"
VIEW = "compare-view"
LOAD = "compare-load"

RESOLUTION = 201
"""Fooling-rate grid cells per side (``workspace_fooling_rates``'s default); the density map too."""
CURVE_RESOLUTION = 401
"""Grid cells per side of ``confidence_vs_distance`` (its default)."""
CONTOUR_RESOLUTION = 401
"""Grid points per side of the log-density grid the contour lines are traced on."""
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
DEFAULT_MODEL = "mlp_identity"
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


def summary(res) -> dict:
    """:func:`fooling.metrics.workspace_fooling_rates` of the workspace (once per process)."""
    return memo(res, ("summary", RS, THRESHOLD, RESOLUTION), lambda: workspace_fooling_rates(
        res.workspace, Rs=RS, threshold=THRESHOLD, resolution=RESOLUTION, planes=planes(res)))


def _covering_R(plane: Plane, centroid: np.ndarray, radius: float) -> float:
    """Smallest disc (data radii, at most FLAG_R) holding all of a bounded plane's box."""
    if plane.bounds is None:
        return float(FLAG_R)
    x0, x1, y0, y1 = plane.bounds
    corners = np.array([[x0, y0], [x0, y1], [x1, y0], [x1, y1]])
    reach = float(np.linalg.norm(corners - centroid, axis=1).max()) / radius
    return min(float(FLAG_R), reach * 1.001)


def curve(res, name: str) -> dict:
    """:func:`fooling.metrics.confidence_vs_distance` of one model, plus ``R`` (once per process).

    On a bounded plane the disc of :data:`FLAG_R` radii meets the box in the whole box;
    the curve is measured on the smallest disc that still holds the box, so that the box
    gets as many grid points as the other models' discs.
    """
    def build():
        p = planes(res)[name]
        centroid, radius = data_radius(p.points)
        R = _covering_R(p, centroid, radius)
        out = confidence_vs_distance(p.proba_fn, p.points, R=R, resolution=CURVE_RESOLUTION, bounds=p.bounds)
        out["R"] = R
        return out

    return memo(res, ("curve", name, CURVE_RESOLUTION), build)


def log_density_level(density: DensityCheck, percentile: float | None = None) -> float:
    """The log-density whose contour separates points above ``percentile`` of the training
    points' from the rest; default the check's own threshold (its in/out boundary)."""
    pct = density.threshold_percentile if percentile is None else percentile
    ref = density.train_log_density_
    k = int(np.ceil(pct / 100.0 * len(ref)))
    return float(ref[k - 1]) if k >= 1 else -np.inf


def _axis(lo: float, hi: float, n: int) -> np.ndarray:
    return lo + (np.arange(n) + 0.5) / n * (hi - lo)


def density_map(res, name: str) -> dict:
    """One model's confidence and density verdict over the disc of :data:`FLAG_R` radii.

    On an unbounded plane the cell centres are exactly those of
    :func:`fooling.metrics.disc_grid` at :data:`RESOLUTION` (so the shares equal the
    table's R10 and density column); on a bounded one, :data:`RESOLUTION` cells per side
    of the box (the disc holds all of it).

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
        n = int(RESOLUTION)
        box = (centroid[0] - rho, centroid[0] + rho, centroid[1] - rho, centroid[1] + rho)
        if p.bounds is None:
            u = (np.arange(n) + 0.5) / n * 2.0 - 1.0  # as disc_grid: same floats, same order
            xs, ys = centroid[0] + rho * u, centroid[1] + rho * u
            gu, gv = np.meshgrid(u, u)
            inside = gu**2 + gv**2 <= 1.0
        else:
            box = _clip(box, p.bounds)
            xs, ys = _axis(box[0], box[1], n), _axis(box[2], box[3], n)
            gu, gv = np.meshgrid(xs - centroid[0], ys - centroid[1])
            inside = gu**2 + gv**2 <= rho**2
        gx, gy = np.meshgrid(xs, ys)
        pts = np.column_stack([gx[inside], gy[inside]])
        t = top_proba(p.proba_fn, pts)
        confident = t >= THRESHOLD
        out_flag = np.zeros(len(pts), dtype=bool)
        if confident.any():
            out_flag[confident] = ~np.asarray(p.density.in_distribution(pts[confident]), dtype=bool)
        top = np.full(inside.shape, np.nan)
        top[inside] = t
        flagged = np.zeros(inside.shape, dtype=bool)
        flagged[inside] = out_flag
        # log-density contours on a finer regular grid over the same box
        cx = np.linspace(box[0], box[1], CONTOUR_RESOLUTION)
        cy = np.linspace(box[2], box[3], CONTOUR_RESOLUTION)
        hx, hy = np.meshgrid(cx, cy)
        logd = p.density.log_density(np.column_stack([hx.ravel(), hy.ravel()])).reshape(hx.shape)
        contours = {}
        for label, pct in LEVELS:
            shown = p.density.threshold_percentile if pct is None else pct
            contours[f"log-density, {_ordinal(shown)} percentile{label}"] = \
                contour_segments(logd, cx, cy, log_density_level(p.density, pct))
        n_conf = int(confident.sum())
        near = NEAR_R * radius
        views = {"disc": _pad(box), "near": _pad((centroid[0] - near, centroid[0] + near,
                                                  centroid[1] - near, centroid[1] + near))}
        if p.bounds is not None:
            views = {k: _pad(_clip(v, p.bounds)) for k, v in views.items()}
        return {"xs": xs, "ys": ys, "top": top, "flagged": flagged, "share": float(confident.mean()),
                "flagged_share": float(out_flag[confident].mean()) if n_conf else None,
                "n_cells": int(len(pts)), "n_confident": n_conf, "max_confidence": float(t.max()),
                "contours": contours, "centroid": centroid, "radius": radius, "rho": rho,
                "bounds": p.bounds, "views": views}

    return memo(res, ("map", name, RESOLUTION, CONTOUR_RESOLUTION), build)


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


def density_figure(res, name: str):
    """The density map figure of ``name`` (built once per process), whole-disc view."""
    def build():
        d = density_map(res, name)
        p = planes(res)[name]
        return make_density_map_figure(
            d["xs"], d["ys"], d["top"], d["flagged"], threshold=THRESHOLD, chance=1.0 / p.n_classes,
            contours=d["contours"], points=p.points, disc=(d["centroid"], d["rho"], FLAG_R),
            bounds=d["bounds"], view=d["views"]["disc"], axis_titles=axis_titles(name),
            uirevision=f"compare-density-{name}-disc")

    return memo(res, ("density-figure", name, RESOLUTION, CONTOUR_RESOLUTION), build)


def warm(res) -> None:
    """Compute everything this page shows now (the table, every curve and density map)."""
    update_overview(res)
    for name in planes(res):
        density_figure(res, name)


# ---- text and table -----------------------------------------------------------------------

def _p(v: float | None, digits: int = 2) -> str:
    return "n/a" if v is None else f"{100 * v:.{digits}f}%"


def _accuracy(res, name: str, s: dict) -> float | None:
    if name in IRIS_MODELS:
        return res.iris.accuracy(name)
    if name == "mlp_identity_rbf_head":
        return s["rbf_head_test_accuracy"]
    return res.workspace.mnist[name[4:]].trained.test_accuracy


def table_rows(res) -> list[dict]:
    """One dict per model: ``name``, ``label``, formatted ``R1``..``R10``, ``max``, ``flagged``, ``accuracy``."""
    s = summary(res)
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


def _table(res) -> list:
    head = html.Thead(html.Tr([html.Th("model")] + [html.Th(f"R = {R:g}") for R in RS] + [
        html.Th("max P"), html.Th("flagged"), html.Th("accuracy")]))
    body = html.Tbody([html.Tr([html.Td(r["label"])] + [html.Td(r[f"R{R:g}"]) for R in RS] + [
        html.Td(r["max"]), html.Td(r["flagged"]), html.Td(r["accuracy"])], className=f"row-{r['name']}")
        for r in table_rows(res)])
    table = dbc.Table([head, body], id=ids.COMPARE_TABLE, striped=True, size="sm", responsive=True,
                      className="small mb-1")
    return [table, html.P(
        f"R = r: the fooling rate on the disc of r data radii. max P: the highest top probability "
        f"on the disc of {FLAG_R} radii. flagged: the share of the confident area within {FLAG_R} radii "
        f"that the density check calls out of distribution. Accuracy: iris on all {len(res.iris.X)} "
        "flowers (its training set too), MNIST on held-out digits.", className="small text-muted")]


def _text(res) -> list:
    s = summary(res)
    pl = planes(res)
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


def _curves_note(res) -> str:
    far = []
    for name in planes(res):
        c = curve(res, name)
        ok = np.flatnonzero(c["count"])
        far.append(f"{LABELS[name]} {_p(c['median'][ok[-1]], 1)}")
    text = ("On an unbounded plane a linear head's confidence hardly fades with distance, or grows; "
            "an RBF model's falls back to one fixed answer well below certainty. Median top "
            "probability in the farthest bin: " + "; ".join(far) + ".")
    if "mlp_tanh" in planes(res):
        c = curve(res, "mlp_tanh")
        text += (f" The tanh net's curve covers its whole square, which lies within "
                 f"{c['edges'][-1] / c['radius']:.2f} data radii of a training encoding.")
    return text


def update_overview(res) -> tuple:
    """(text, table, curves figure, curves note): what the page shows once measured."""
    curves = {}
    for name in planes(res):
        c = curve(res, name)
        ok = c["count"] > 0
        curves[name] = {"x": c["centres"][ok] / c["radius"], "median": c["median"][ok], "p90": c["p90"][ok]}
    fig = memo(res, ("curves-figure", CURVE_RESOLUTION), lambda: make_confidence_curves_figure(
        curves, labels=LABELS, threshold=THRESHOLD))
    return _text(res), _table(res), fig, _curves_note(res)


# ---- the density map's controls -----------------------------------------------------------

def _short(value: Any) -> str:
    r = repr(value)
    return r if len(r) < 40 else r[:37] + "..."


def _model(res, value: Any) -> str:
    if not isinstance(value, str) or value not in planes(res):
        raise BadInput(f"Unknown model {_short(value)}: choose one of the models listed.")
    return value


def _view(value: Any) -> str:
    if not isinstance(value, str) or value not in VIEWS:
        raise BadInput(f"Unknown view {_short(value)}: choose the whole disc or near the data.")
    return value


def _density_note(res, name: str) -> str:
    d = density_map(res, name)
    plane = planes(res)[name]
    t = f"{100 * THRESHOLD:g}%"
    if plane.bounds is None:
        where = f"the disc of {FLAG_R} data radii"
    else:
        where = f"the square (−1, 1)² (the disc of {FLAG_R} data radii holds all of it)"
    if not d["n_confident"]:
        return (f"{LABELS[name]}: the top probability reaches {t} nowhere on {where}; the highest is "
                f"{_p(d['max_confidence'])}, so there is nothing for the density check to catch.")
    return (f"{LABELS[name]}: the top probability is {t} or more on {_p(d['share'])} of {where} "
            f"({d['n_confident']:,} of {d['n_cells']:,} grid cells); the density check flags "
            f"{_p(d['flagged_share'])} of that confident area as out of distribution.")


def update_density(res, model: Any, view: Any, trigger: str = "model"):
    """The density map of ``model`` (whole figure) or a new ``view`` of it (a Patch of the ranges).

    Returns
    -------
    (figure or Patch or no_update, note children or no_update)
        On bad input: no_update and a message.
    """
    try:
        name = _model(res, model)
        v = _view(view)
    except BadInput as exc:
        return no_update, message(str(exc))
    d = density_map(res, name)
    x0, x1, y0, y1 = d["views"][v]
    if trigger == "view":
        patch = Patch()
        patch["layout"]["xaxis"]["range"] = [x0, x1]
        patch["layout"]["yaxis"]["range"] = [y0, y1]
        patch["layout"]["uirevision"] = f"compare-density-{name}-{v}"
        return patch, no_update
    fig = density_figure(res, name)
    if v != "disc":
        fig = _with_view(fig, name, v, (x0, x1, y0, y1))
    return fig, _density_note(res, name)


def _with_view(fig: go.Figure, name: str, view: str, box) -> go.Figure:
    """A copy of the cached figure with another initial view (the cache stays untouched)."""
    out = go.Figure(fig)
    out.update_xaxes(range=[box[0], box[1]])
    out.update_yaxes(range=[box[2], box[3]])
    out.update_layout(uirevision=f"compare-density-{name}-{view}")
    return out


# ---- layout and callbacks -----------------------------------------------------------------

def layout(res):
    options = [{"label": LABELS[n], "value": n} for n in MODELS]
    return html.Div([
        html.H1("Measuring the fooling", className="h3"),
        html.P("How far does each model's certainty reach beyond its data, and what do the two "
               "remedies change? The first visit measures every model (a few seconds).",
               className="lead fs-6"),
        dcc.Store(id=LOAD, data=0),
        dcc.Loading([html.Div(id=TEXT), section("Fooling rate: confident share of the disc of R data radii",
                                                html.Div(id=TABLE_BOX, style={"minHeight": "80px"}))],
                    type="circle", delay_show=200),
        section("Confidence against distance",
                graph(ids.COMPARE_CURVES, height="min(480px, 120vw)"),
                html.P(id=CURVES_NOTE, className="small text-muted mt-1"),
                lead=f"Every grid point of the disc of {FLAG_R} data radii (for the tanh net: of its "
                     "square), binned by its distance to the nearest training point: the solid line is "
                     "the median top probability in each bin, the dashed line of the same colour the "
                     "90th percentile."),
        section(
            "Where the density check helps",
            dbc.Row([
                dbc.Col(dbc.RadioItems(id=ids.COMPARE_MODEL, options=options, value=DEFAULT_MODEL,
                                       inline=True, className="small"), xs=12, lg=8, className="mb-1"),
                dbc.Col(dbc.RadioItems(id=VIEW, value="disc", inline=True, className="small",
                                       options=[{"label": t, "value": k} for k, t in VIEWS.items()]),
                        xs=12, lg=4, className="mb-1"),
            ]),
            graph(ids.COMPARE_DENSITY, height="min(640px, 125vw)"),
            html.Div(id=DENSITY_NOTE, className="small mt-1", **{"aria-live": "polite"}),
            lead=f"Grey: top probability below {100 * THRESHOLD:g}% (darker is surer). Red: at least "
                 f"{100 * THRESHOLD:g}% and the density check lets it through; blue: at least "
                 f"{100 * THRESHOLD:g}% but flagged as out of distribution. Black lines: the mixture's "
                 "log-density at the training points' threshold percentile (solid, the check's "
                 "boundary) and median (dashed). Scroll to zoom."),
    ])


def register(app, res):
    @app.callback(Output(TEXT, "children"), Output(TABLE_BOX, "children"),
                  Output(ids.COMPARE_CURVES, "figure"), Output(CURVES_NOTE, "children"),
                  Input(LOAD, "data"))
    def update_compare(_loaded):
        return update_overview(res)

    @app.callback(Output(ids.COMPARE_DENSITY, "figure"), Output(DENSITY_NOTE, "children"),
                  Input(ids.COMPARE_MODEL, "value"), Input(VIEW, "value"))
    def update_compare_density(model, view):
        trigger = "view" if triggered_id() == VIEW else "model"
        return update_density(res, model, view, trigger)
