"""/svm callbacks: both models' answers at a clicked point; the two maps' linked zoom."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import Input, Output, html, no_update

from ... import ids
from ...components import BadInput, link_zoom, message, parse_click, result_block, triggered_id
from ...links import writer
from ...petals import WRITE_POINT_JS, point_details, point_from_query, prediction
from .compute import MAPS, State

__all__ = ["register", "update_svm_result"]


def update_svm_result(state: State, click_data: Any, query: Any = None, *, from_link: bool = False):
    """Both SVMs' answers at a clicked point (or the point a link asks for), and the marker
    moved on both maps.

    Returns
    -------
    (children, the point for both maps' markers ``{"point": [x, y]}`` or no_update on bad input)
    """
    res = state.res
    try:
        if from_link:
            xy, notes = point_from_query(query)
            if xy is None:
                return (message(" ".join(notes), "info") if notes else no_update), no_update
            x, y = xy
        else:
            x, y = parse_click(click_data)
    except BadInput as exc:
        return message(str(exc)), no_update
    cols = []
    for name, title in MAPS.values():
        label, conf, table = prediction(res, name, x, y)
        cols.append(dbc.Col([html.H3(title, className="h6 mb-1"), *result_block(label, conf, table)],
                            xs=12, md=6, className=f"result-{name} mb-2"))
    return [point_details(res, x, y), dbc.Row(cols)], {"point": [x, y]}


def register(app, state: State) -> None:
    @app.callback(Output(ids.SVM_RESULT, "children"), Output(ids.SVM_POINT, "data"),
                  Input(ids.SVM_LINEAR_MAP, "clickData"), Input(ids.SVM_RBF_MAP, "clickData"),
                  Input(ids.QUERY, "data"))
    def update_svm(linear_click, rbf_click, query):
        trigger = triggered_id()
        click = {ids.SVM_LINEAR_MAP: linear_click, ids.SVM_RBF_MAP: rbf_click}.get(
            trigger if isinstance(trigger, str) else None)
        return update_svm_result(state, click, query, from_link=trigger in (None, ids.QUERY))

    link_zoom(app, ids.SVM_LINEAR_MAP, ids.SVM_RBF_MAP)
    writer(app, WRITE_POINT_JS, [Input(ids.SVM_POINT, "shown")])
