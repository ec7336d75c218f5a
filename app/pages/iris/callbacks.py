"""/iris callbacks: plain functions of the page state and raw inputs (never raising for bad
input), and their registration."""

from __future__ import annotations

from typing import Any

from dash import ALL, Input, Output, Patch, html, no_update

from ... import ids
from ...components import BadInput, message, parse_click, result_block, triggered_id
from ...links import writer
from ...petals import WRITE_POINT_JS, point_details, point_from_query, prediction
from .compute import MODEL, OVERLAYS, VIEWS, State

__all__ = ["register", "update_iris_overlays", "update_iris_result", "update_iris_view"]


def update_iris_result(state: State, trigger: Any, click_data: Any, query: Any = None):
    """Result card and marker for a map click (``trigger`` = map id), a probe button, or a
    link (``trigger`` = the query store, or None when the page loads).

    Returns
    -------
    (children, the point for the map's marker ``{"point": [x, y]}`` or no_update)
    """
    res = state.res
    essay = None
    try:
        if trigger in (None, ids.QUERY):
            xy, notes = point_from_query(query)
            if xy is None:
                return (message(" ".join(notes), "info") if notes else no_update), no_update
            x, y = xy
            # a link to one of the essay's points shows the essay's answer beside ours, as its probe does
            for (px, py), label, p_essay in res.essay["iris_probes"]:
                if (float(px), float(py)) == (x, y):
                    essay = (label, float(p_essay))
        elif isinstance(trigger, dict) and trigger.get("type") == ids.IRIS_PROBE:
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
    return result_block(label, conf, *extra, table), {"point": [x, y]}


def update_iris_overlays(state: State, value: Any):
    """Show/hide the contour overlays (a Patch of their ``visible``); bad values: no_update."""
    if not isinstance(value, list) or any(not isinstance(v, str) or v not in OVERLAYS for v in value):
        return no_update
    patch = Patch()
    for key, index in state.overlay_traces.items():
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


def register(app, state: State) -> None:
    @app.callback(Output(ids.IRIS_RESULT, "children"), Output(ids.IRIS_POINT, "data"),
                  Input(ids.IRIS_MAP, "clickData"),
                  Input({"type": ids.IRIS_PROBE, "index": ALL}, "n_clicks"), Input(ids.QUERY, "data"))
    def update_iris(click_data, _n_clicks, query):
        return update_iris_result(state, triggered_id(), click_data, query)

    @app.callback(Output(ids.IRIS_MAP, "figure", allow_duplicate=True),
                  Input(ids.IRIS_OVERLAYS, "value"), prevent_initial_call=True)
    def update_overlays(value):
        return update_iris_overlays(state, value)

    @app.callback(Output(ids.IRIS_MAP, "figure", allow_duplicate=True),
                  Input(ids.IRIS_VIEW, "value"), prevent_initial_call=True)
    def update_view(value):
        return update_iris_view(value)

    writer(app, WRITE_POINT_JS, [Input(ids.IRIS_POINT, "shown")])
