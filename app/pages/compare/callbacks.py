"""/compare callbacks: the overview fills in on load; the density map's model and view."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
from dash import Input, Output, Patch, State as DashState, no_update

from ... import ids
from ...components import BadInput, check_choice, message, triggered_id
from ...links import Param, choice, read, writer
from .compute import DEFAULT_MODEL, VIEWS, State
from .text import curves_note, density_note, overview_text, table, table_rows

__all__ = ["register", "update_density", "update_overview"]


def update_overview(state: State) -> tuple:
    """(text, table, curves figure, curves note): what the page shows once measured."""
    s = state.summary
    return (overview_text(state.res, s, state.planes), table(state.res, table_rows(state.res, s)),
            state.curves_figure, curves_note(state.curves))


def update_density(state: State, model: Any, view: Any, trigger: str = "model"):
    """The density map of ``model`` (whole figure) or a new ``view`` of it (a Patch of the ranges).

    Returns
    -------
    (figure or Patch or no_update, note children or no_update)
        On bad input: no_update and a message.
    """
    try:
        name = check_choice(model, tuple(state.planes), "model")
        v = check_choice(view, tuple(VIEWS), "view")
    except BadInput as exc:
        return no_update, message(str(exc))
    d = state.density_maps[name]
    x0, x1, y0, y1 = d["views"][v]
    if trigger == "view":
        patch = Patch()
        patch["layout"]["xaxis"]["range"] = [x0, x1]
        patch["layout"]["yaxis"]["range"] = [y0, y1]
        patch["layout"]["uirevision"] = f"compare-density-{name}-{v}"
        return patch, no_update
    fig = state.density_figures[name]
    if v != "disc":
        fig = _with_view(fig, name, v, (x0, x1, y0, y1))
    return fig, density_note(name, d, state.planes[name].bounds is not None)


def _with_view(fig: go.Figure, name: str, view: str, box) -> go.Figure:
    """A copy of the cached figure with another initial view (the cache stays untouched)."""
    out = go.Figure(fig)
    out.update_xaxes(range=[box[0], box[1]])
    out.update_yaxes(range=[box[2], box[3]])
    out.update_layout(uirevision=f"compare-density-{name}-{view}")
    return out


def update_from_link(state: State, query: Any, model: Any = no_update, view: Any = no_update) -> tuple:
    """(model, view, note) a link asks for; for what it does not name, the current ``model``
    and ``view`` (sent back as they are: the density map's first drawing waits on this
    callback, and the browser would not run it after a no_update)."""
    params = [Param("model", choice(tuple(state.planes))), Param("view", choice(tuple(VIEWS)))]
    # what is sent back must be sendable: a crafted state (a number past 64 bits, a dict) would
    # fail the response; a string the density map's own check answers with a message
    if model is not no_update and not isinstance(model, str):
        model = DEFAULT_MODEL if DEFAULT_MODEL in state.planes else next(iter(state.planes))
    if view is not no_update and not isinstance(view, str):
        view = next(iter(VIEWS))
    values, notes, present = read(query, params)
    if not present and not notes:
        return model, view, no_update
    return (values["model"] if values["model"] is not None else model,
            values["view"] if values["view"] is not None else view,
            message(" ".join(notes), "info") if notes else None)


def register(app, state: State) -> None:
    @app.callback(Output(ids.COMPARE_MODEL, "value"), Output(ids.COMPARE_VIEW, "value"),
                  Output(ids.COMPARE_LINK_NOTE, "children"), Input(ids.QUERY, "data"),
                  DashState(ids.COMPARE_MODEL, "value"), DashState(ids.COMPARE_VIEW, "value"))
    def update_compare_from_link(query, model, view):
        return update_from_link(state, query, model, view)

    writer(app, "return {model: a0, view: a1};",
           [Input(ids.COMPARE_MODEL, "value"), Input(ids.COMPARE_VIEW, "value")])

    @app.callback(Output(ids.COMPARE_TEXT, "children"), Output(ids.COMPARE_TABLE_BOX, "children"),
                  Output(ids.COMPARE_CURVES, "figure"), Output(ids.COMPARE_CURVES_NOTE, "children"),
                  Input(ids.COMPARE_LOAD, "data"))
    def update_compare(_loaded):
        return update_overview(state)

    @app.callback(Output(ids.COMPARE_DENSITY, "figure"), Output(ids.COMPARE_DENSITY_NOTE, "children"),
                  Input(ids.COMPARE_MODEL, "value"), Input(ids.COMPARE_VIEW, "value"))
    def update_compare_density(model, view):
        trigger = "view" if triggered_id() == ids.COMPARE_VIEW else "model"
        return update_density(state, model, view, trigger)
