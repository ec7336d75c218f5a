"""/svm — linear and RBF SVMs side by side on the extended petal plane.

Both maps share zoom and pan (a clientside callback copies one map's axis ranges to
the other with a ``Patch``); a click on either shows both models' answers for that
point and marks it on both maps.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import dash_bootstrap_components as dbc
import numpy as np
from dash import Input, Output, Patch, html, no_update
from scipy.spatial import cKDTree

from .. import ids
from ..components import BadInput, graph, link_zoom, message, parse_click, result_block
from ..figures_iris import make_iris_figure
from ..resources import IRIS_BOUNDS
from .iris import point_details, prediction, triggered_id

__all__ = ["FAR_POINT", "MAPS", "PATH", "base_figure", "layout", "register", "rbf_summary",
           "update_svm_result"]

PATH = "/svm"
MAPS = {ids.SVM_LINEAR_MAP: ("svm_linear", "Linear SVM"), ids.SVM_RBF_MAP: ("svm_rbf", "RBF SVM")}
FAR_POINT = (1000.0, 1000.0)
"""A point so far from the flowers that every RBF kernel term is zero there."""
CONFIDENT = 0.9
SAME = 0.01

@lru_cache(maxsize=8)
def base_figure(res, graph_id: str):
    """The map of one SVM over the extended plane, built once per process."""
    name, title = MAPS[graph_id]
    grid = res.iris_grids[name]
    probes = np.array([pt for pt, _, _ in res.essay["iris_probes"]], dtype=float)
    return make_iris_figure(grid, res.iris.names, res.iris.X, res.iris.y, res.iris_predictions[name],
                            probes=probes, half=grid.contours(0.5), show_half=True, title=title,
                            view=IRIS_BOUNDS, uirevision=graph_id)


@lru_cache(maxsize=8)
def rbf_summary(res) -> dict:
    """What the RBF map shows, measured on its grid.

    Returns
    -------
    dict with ``far`` (probabilities at :data:`FAR_POINT`), ``confident_within`` (largest
    distance from the nearest flower of a grid point with top probability >= 0.9) and
    ``same_beyond`` (beyond this distance every grid point is within 0.01 of ``far``;
    None if no grid point is that far out).
    """
    grid = res.iris_grids["svm_rbf"]
    gx, gy = np.meshgrid(grid.xs, grid.ys)
    d, _ = cKDTree(res.iris.X).query(np.column_stack([gx.ravel(), gy.ravel()]))
    proba = grid.proba.reshape(-1, grid.proba.shape[-1])
    far = res.iris.models["svm_rbf"].predict_proba(np.array([FAR_POINT]))[0]
    differ = np.abs(proba - far).max(axis=1) >= SAME
    same_beyond = float(d[differ].max()) if differ.any() else 0.0
    return {"far": far, "confident_within": float(d[proba.max(axis=1) >= CONFIDENT].max(initial=0.0)),
            "same_beyond": same_beyond if same_beyond < d.max() else None}


def _explanation(res) -> list:
    names = res.iris.names
    x, y = res.essay["iris_probes"][1][0]
    lab, conf, _ = prediction(res, "svm_linear", x, y)
    s = rbf_summary(res)
    far = s["far"]
    k = int(np.argmax(far))
    rest = ", ".join(f"{names[j]} {100 * far[j]:.1f}%" for j in range(len(names)) if j != k)
    rbf = (f"The RBF SVM is sure of itself only near the flowers: its probabilities of "
           f"{100 * CONFIDENT:.0f}% or more reach at most {s['confident_within']:.1f} cm from the "
           "nearest one. ")
    if s["same_beyond"] is not None:
        rbf += (f"Beyond {s['same_beyond']:.1f} cm every kernel term has faded, and every point "
                f"gets nearly the same answer: {names[k]} at {100 * far[k]:.1f}% ({rest}). ")
    rbf += "Still, it never says \"this is no flower\": it names one."
    return [
        html.P(f"The linear SVM draws straight boundaries, like logistic regression, and stays "
               f"sure far from the data: at ({x:g}, {y:g}) it says {lab} at {100 * conf:.1f}%. "
               + rbf),
        html.P(["Probabilities are Platt-scaled: a sigmoid fitted to cross-validated decision "
                "values with ", html.Code("CalibratedClassifierCV(SVC(...), ensemble=False)"),
                ", because ", html.Code("SVC(probability=True)"), ", the essay's choice, is "
                "deprecated in scikit-learn."], className="small text-muted"),
    ]


def update_svm_result(res, click_data: Any):
    """Both SVMs' answers at a clicked point, and the marker moved on both maps.

    Returns
    -------
    (children, linear-map Patch, RBF-map Patch); no_update for the maps on bad input
    """
    try:
        x, y = parse_click(click_data)
    except BadInput as exc:
        return message(str(exc)), no_update, no_update
    cols = []
    for name, title in MAPS.values():
        label, conf, table = prediction(res, name, x, y)
        cols.append(dbc.Col([html.H3(title, className="h6 mb-1"), *result_block(label, conf, table)],
                            xs=12, md=6, className=f"result-{name} mb-2"))
    patch = Patch()
    patch["data"][-1]["x"] = [x]
    patch["data"][-1]["y"] = [y]
    return [point_details(res, x, y), dbc.Row(cols)], patch, patch


def layout(res):
    cols = []
    for graph_id, (name, title) in MAPS.items():
        acc = (f"Accuracy on all 150 flowers: {100 * res.iris.accuracy(name):.2f}% here, "
               f"about {100 * res.essay[name]['accuracy']:.1f}% in the essay.")
        cols.append(dbc.Col([graph(graph_id, base_figure(res, graph_id), height="min(460px, 115vw)"),
                             html.P(acc, className=f"small accuracy-{name} mt-1")], xs=12, md=6))
    return html.Div([
        html.H1("Iris: linear vs RBF SVM", className="h3"),
        *_explanation(res),
        dbc.Row(cols),
        html.P("Zoom or pan one map and the other follows. Click either map to compare the two "
               "models at that point.", className="small text-muted mb-2"),
        dbc.Card(dbc.CardBody(html.Div(html.P("No point chosen yet.", className="text-muted small mb-0"),
                                       id=ids.SVM_RESULT, **{"aria-live": "polite"})), className="mb-3"),
    ])


def register(app, res):
    @app.callback(Output(ids.SVM_RESULT, "children"),
                  Output(ids.SVM_LINEAR_MAP, "figure", allow_duplicate=True),
                  Output(ids.SVM_RBF_MAP, "figure", allow_duplicate=True),
                  Input(ids.SVM_LINEAR_MAP, "clickData"), Input(ids.SVM_RBF_MAP, "clickData"),
                  prevent_initial_call=True)
    def _result(linear_click, rbf_click):
        trigger = triggered_id()
        click = {ids.SVM_LINEAR_MAP: linear_click, ids.SVM_RBF_MAP: rbf_click}.get(
            trigger if isinstance(trigger, str) else None)
        return update_svm_result(res, click)

    link_zoom(app, ids.SVM_LINEAR_MAP, ids.SVM_RBF_MAP)
