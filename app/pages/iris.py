"""/iris — logistic regression on petal length and width: regions without end.

One map of the model's class regions over a plane that runs well past the data
(negative sizes included). A click anywhere, or one of the essay's three probes,
shows the model's answer for that point; overlays and the view only patch the
figure, which is built once per process.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import dash_bootstrap_components as dbc
import numpy as np
from dash import ALL, Input, Output, Patch, ctx, html, no_update

from .. import ids
from ..components import BadInput, graph, message, parse_click, probability_table, result_block
from ..figures_iris import HALF_TRACE, THIRD_TRACE, make_iris_figure, trace_index
from ..resources import IRIS_BOUNDS, IRIS_DATA_BOUNDS

__all__ = ["MODEL", "OVERLAYS", "PATH", "VIEWS", "base_figure", "layout", "point_details",
           "predict_point", "prediction", "register", "triggered_id", "update_iris_overlays",
           "update_iris_result", "update_iris_view"]

PATH = "/iris"
MODEL = "logistic"
OVERLAYS = {"half": "P = 1/2 boundaries", "third": "P = 1/3 maximum uncertainty"}
DEFAULT_OVERLAYS = ("half",)
VIEWS = {"far": ("far out", IRIS_BOUNDS), "near": ("near the data", IRIS_DATA_BOUNDS)}
DEFAULT_VIEW = "far"


def predict_point(res, name: str, x: float, y: float) -> np.ndarray:
    """Class probabilities of iris model ``name`` at (x, y), ndarray of shape (n_classes,)."""
    return np.asarray(res.iris.models[name].predict_proba(np.array([[x, y]], dtype=float))[0])


def point_details(res, x: float, y: float) -> html.Div:
    """Where the point is: coordinates, distance to the nearest flower, impossible sizes."""
    d = float(np.min(np.linalg.norm(res.iris.X - np.array([x, y]), axis=1)))
    lines = [f"Point: petal length {x:.2f} cm, petal width {y:.2f} cm; "
             f"the nearest flower in the data is {d:.2f} cm away."]
    negative = [n for n, v in (("length", x), ("width", y)) if v < 0]
    if negative:
        lines.append(f"No flower has a negative petal {' or '.join(negative)}, "
                     "yet the model still gives an answer.")
    return html.Div([html.Div(t) for t in lines], className="small text-muted mb-2")


def prediction(res, name: str, x: float, y: float) -> tuple[str, float, Any]:
    """(predicted flower, its probability, probability table) of model ``name`` at (x, y)."""
    p = predict_point(res, name, x, y)
    k = int(np.argmax(p))
    return str(res.iris.names[k]), float(p[k]), probability_table(res.iris.names, p, highlight=k)


@lru_cache(maxsize=8)
def base_figure(res):
    """The logistic-regression map (both overlays drawn, boundaries shown), once per process."""
    grid = res.iris_grids[MODEL]
    probes = np.array([pt for pt, _, _ in res.essay["iris_probes"]], dtype=float)
    return make_iris_figure(grid, res.iris.names, res.iris.X, res.iris.y,
                            res.iris_predictions[MODEL], probes=probes,
                            half=grid.contours(0.5), third=grid.contours(1 / 3),
                            show_half="half" in DEFAULT_OVERLAYS,
                            show_third="third" in DEFAULT_OVERLAYS,
                            view=VIEWS[DEFAULT_VIEW][1], uirevision=f"iris-{DEFAULT_VIEW}")


@lru_cache(maxsize=8)
def _overlay_traces(res) -> dict[str, int]:
    fig = base_figure(res)
    return {"half": trace_index(fig, HALF_TRACE), "third": trace_index(fig, THIRD_TRACE)}


def update_iris_result(res, trigger: Any, click_data: Any):
    """Result card and marker for a map click (``trigger`` = map id) or a probe button.

    Returns
    -------
    (children, figure Patch or no_update)
    """
    essay = None
    try:
        if isinstance(trigger, dict) and trigger.get("type") == ids.IRIS_PROBE:
            i = trigger.get("index")
            probes = res.essay["iris_probes"]
            if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < len(probes):
                raise BadInput("There is no such probe.")
            (x, y), label, p_essay = probes[i]
            x, y = float(x), float(y)
            essay = (label, float(p_essay))
        elif trigger == ids.IRIS_MAP:
            x, y = parse_click(click_data)
        else:
            raise BadInput("Click the map or one of the essay's points.")
    except BadInput as exc:
        return message(str(exc)), no_update
    label, conf, table = prediction(res, MODEL, x, y)
    extra = [point_details(res, x, y)]
    if essay is not None:
        agree = "agrees" if essay[0] == label else "differs"
        extra.append(html.Div([f"The essay: {essay[0]} at {100 * essay[1]:.1f}% — ours {agree}."],
                              className="essay small mb-2"))
    patch = Patch()
    patch["data"][-1]["x"] = [x]
    patch["data"][-1]["y"] = [y]
    return result_block(label, conf, *extra, table), patch


def triggered_id() -> Any:
    """``ctx.triggered_id``, or None when a crafted request makes it unreadable."""
    try:
        return ctx.triggered_id
    except (ValueError, TypeError, AttributeError):
        return None


def update_iris_overlays(res, value: Any):
    """Show/hide the contour overlays (a Patch of their ``visible``); bad values: no_update."""
    if not isinstance(value, list) or any(not isinstance(v, str) or v not in OVERLAYS for v in value):
        return no_update
    patch = Patch()
    for key, index in _overlay_traces(res).items():
        patch["data"][index]["visible"] = key in value
    return patch


def update_iris_view(value: Any):
    """Axis ranges of the chosen view (a Patch; a new ``uirevision`` drops the user's zoom)."""
    if not isinstance(value, str) or value not in VIEWS:
        return no_update
    x0, x1, y0, y1 = VIEWS[value][1]
    patch = Patch()
    patch["layout"]["xaxis"]["range"] = [x0, x1]
    patch["layout"]["yaxis"]["range"] = [y0, y1]
    patch["layout"]["xaxis"]["autorange"] = False
    patch["layout"]["yaxis"]["autorange"] = False
    patch["layout"]["uirevision"] = f"iris-{value}"
    return patch


@lru_cache(maxsize=8)
def _intro(res) -> str:
    (x, y), _, _ = res.essay["iris_probes"][2]
    label, conf, _ = prediction(res, MODEL, x, y)
    return ("Logistic regression splits the petal plane with straight lines, so each flower's "
            "region runs on without end. Its confidence grows with the distance from those "
            "lines, not with closeness to any flower: it is highest far from the data. "
            f"No flower has negative petals, yet at ({x:g}, {y:g}) the model says {label} "
            f"with {100 * conf:.2f}% confidence.")


def layout(res):
    acc = res.iris.accuracy(MODEL)
    probes = [dbc.Button(f"({x:g}, {y:g})", id={"type": ids.IRIS_PROBE, "index": i},
                         color="secondary", outline=True, size="sm", className="me-2 mb-2",
                         title=f"the essay: {label} {100 * p:.1f}%")
              for i, ((x, y), label, p) in enumerate(res.essay["iris_probes"])]
    controls = dbc.Row([
        dbc.Col(dbc.RadioItems(id=ids.IRIS_VIEW, value=DEFAULT_VIEW, inline=True,
                               options=[{"label": lab, "value": v} for v, (lab, _) in VIEWS.items()]),
                xs=12, md="auto", className="mb-1"),
        dbc.Col(dbc.Checklist(id=ids.IRIS_OVERLAYS, value=list(DEFAULT_OVERLAYS), inline=True,
                              switch=True,
                              options=[{"label": lab, "value": v} for v, lab in OVERLAYS.items()]),
                xs=12, md="auto", className="mb-1"),
    ], className="small g-2 justify-content-between")
    side = dbc.Card(dbc.CardBody([
        html.H2("Inspect a point", className="h6"),
        html.P("Click anywhere on the map, or try the essay's points:", className="small mb-1"),
        html.Div(probes),
        html.Div(html.P("No point chosen yet.", className="text-muted small"),
                 id=ids.IRIS_RESULT, **{"aria-live": "polite"}),
        html.Hr(className="my-2"),
        html.P([f"Accuracy on all 150 flowers: {100 * acc:.2f}% here, "
                f"{100 * res.essay[MODEL]['accuracy']:.1f}% in the essay."],
               id="iris-accuracy", className="small mb-0"),
    ]), className="mb-3")
    return html.Div([
        html.H1("Iris: logistic regression", className="h3"),
        html.P(_intro(res), className="mb-2"),
        dbc.Row([
            dbc.Col([controls, graph(ids.IRIS_MAP, base_figure(res), height="min(520px, 125vw)"),
                     html.P("Colour: the predicted flower; the deeper the colour, the higher its "
                            "probability (palest = 1/3, a toss-up). Red rings: flowers the model "
                            "gets wrong. Stars: the essay's probes.",
                            className="small text-muted mt-1")], xs=12, lg=8),
            dbc.Col(side, xs=12, lg=4),
        ]),
    ])


def register(app, res):
    @app.callback(Output(ids.IRIS_RESULT, "children"),
                  Output(ids.IRIS_MAP, "figure", allow_duplicate=True),
                  Input(ids.IRIS_MAP, "clickData"),
                  Input({"type": ids.IRIS_PROBE, "index": ALL}, "n_clicks"),
                  prevent_initial_call=True)
    def _result(click_data, _n_clicks):
        return update_iris_result(res, triggered_id(), click_data)

    @app.callback(Output(ids.IRIS_MAP, "figure", allow_duplicate=True),
                  Input(ids.IRIS_OVERLAYS, "value"), prevent_initial_call=True)
    def _overlays(value):
        return update_iris_overlays(res, value)

    @app.callback(Output(ids.IRIS_MAP, "figure", allow_duplicate=True),
                  Input(ids.IRIS_VIEW, "value"), prevent_initial_call=True)
    def _view(value):
        return update_iris_view(value)
