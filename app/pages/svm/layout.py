"""/svm layout: the explanation (numbers from the models), both maps, the result card."""

from __future__ import annotations

import dash_bootstrap_components as dbc
import numpy as np
from dash import html

from ... import ids
from ...components import PointStore, graph
from ...petals import prediction
from .compute import CONFIDENT, MAPS, State

__all__ = ["explanation", "layout"]


def explanation(state: State) -> list:
    res = state.res
    names = res.iris.names
    x, y = res.essay["iris_probes"][1][0]
    lab, conf, _ = prediction(res, "svm_linear", x, y)
    s = state.rbf_summary
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


def layout(state: State):
    res = state.res
    cols = []
    for graph_id, (name, title) in MAPS.items():
        acc = (f"Accuracy on all 150 flowers: {100 * res.iris.accuracy(name):.2f}% here, "
               f"about {100 * res.essay[name]['accuracy']:.1f}% in the essay.")
        cols.append(dbc.Col([graph(graph_id, state.figures[graph_id], height="min(460px, 115vw)"),
                             html.P(acc, className=f"small accuracy-{name} mt-1")], xs=12, md=6))
    return html.Div([
        html.H1("Iris: linear vs RBF SVM", className="h3"),
        *explanation(state),
        dbc.Row(cols),
        html.P("Zoom or pan one map and the other follows. Click either map to compare the two "
               "models at that point.", className="small text-muted mb-2"),
        dbc.Card(dbc.CardBody(html.Div(html.P("No point chosen yet.", className="text-muted small mb-0"),
                                       id=ids.SVM_RESULT, **{"aria-live": "polite"})), className="mb-3"),
        PointStore(id=ids.SVM_POINT, graphs=[ids.SVM_LINEAR_MAP, ids.SVM_RBF_MAP]),
    ])
