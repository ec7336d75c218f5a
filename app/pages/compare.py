"""/compare — how far confidence reaches, for every model, and two remedies.

Numbers come from :func:`fooling.metrics.workspace_fooling_rates` (the fooling-rate
table) and :func:`fooling.metrics.confidence_vs_distance` (the curves); the density map
of one model is counted on the very grid the table's last disc is counted on.

Everything here is computed lazily, once per process: the first visit shows the page
with spinners and one callback fills the table and the curves (a few seconds); the
results are memoised per ``Resources`` object (:func:`memo`, a ``WeakKeyDictionary``
keyed by it) and per model name. :func:`warm` computes all of it up front (before
gunicorn forks its workers). The computations and texts live in :mod:`app.compare_view`;
this module owns the grid resolutions and passes them in.
"""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
import plotly.graph_objects as go
from dash import Input, Output, Patch, dcc, html, no_update

from .. import compare_view as cv
from .. import ids
from ..compare_view import (_CACHE, FLAG_R, LABELS, MODELS, RS, THRESHOLD, VIEWS,  # noqa: F401 (re-exported)
                            axis_titles, log_density_level, memo, planes)
from ..components import BadInput, graph, message, section
from ..figures_compare import make_confidence_curves_figure, make_density_map_figure
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

DEFAULT_MODEL = "mlp_identity"


# ---- the page's measurements, at this module's resolutions (read at call time) ------------

def summary(res) -> dict:
    """:func:`fooling.metrics.workspace_fooling_rates` of the workspace (once per process)."""
    return cv.summary(res, RESOLUTION)


def curve(res, name: str) -> dict:
    """:func:`app.compare_view.curve` of one model at :data:`CURVE_RESOLUTION`."""
    return cv.curve(res, name, CURVE_RESOLUTION)


def density_map(res, name: str) -> dict:
    """:func:`app.compare_view.density_map` of one model at this module's resolutions."""
    return cv.density_map(res, name, RESOLUTION, CONTOUR_RESOLUTION)


def table_rows(res) -> list[dict]:
    """One dict per model: ``name``, ``label``, formatted ``R1``..``R10``, ``max``, ``flagged``, ``accuracy``."""
    return cv.table_rows(res, summary(res))


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


def update_overview(res) -> tuple:
    """(text, table, curves figure, curves note): what the page shows once measured."""
    curves = {name: curve(res, name) for name in planes(res)}
    fig = memo(res, ("curves-figure", CURVE_RESOLUTION), lambda: make_confidence_curves_figure(
        cv.curve_lines(curves), labels=LABELS, threshold=THRESHOLD))
    s = summary(res)
    return (cv.overview_text(res, s, planes(res)), cv.table(res, cv.table_rows(res, s)), fig,
            cv.curves_note(curves))


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
    return fig, cv.density_note(name, d, planes(res)[name].bounds is not None)


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
