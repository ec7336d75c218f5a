"""The overview page: an introduction, one card per page and the score table (no callbacks)."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from fooling.lazy import cached
from fooling.models import IRIS_MODELS

from ... import ids
from .. import PAGES

_INTRO = (
    "A classifier that models only P(class | input) has no notion of how far an input is "
    "from anything it was trained on. Its class regions run on without end, and far from the "
    "data it is often more certain, not less. These pages make that visible on two small, "
    "reproducible cases: iris flowers with logistic regression and SVMs, and MNIST networks "
    "with a 2-unit hidden layer whose every point can be inverted back into an image.")

_LABELS = {"logistic": "Iris: logistic regression", "svm_linear": "Iris: linear SVM (Platt)",
           "svm_rbf": "Iris: RBF SVM (Platt)", "identity": "MNIST 0-3: MLP (50, 20, 2), identity",
           "tanh": "MNIST 0-3: MLP (50, 20, 2), tanh", "relu": "MNIST 0-3: MLP (50, 20, 2), ReLU",
           "neurons": "MNIST 0-9: MLP 784-64-64-10, ReLU"}


class State:
    """The overview's score table, computed once."""

    def __init__(self, res):
        self.res = res

    @cached
    def score_rows(self) -> list[tuple[str, str, str, str]]:
        """(model, what is measured, essay, ours) for every model."""
        res = self.res
        rows = []
        for name in IRIS_MODELS:
            rows.append((_LABELS[name], "accuracy on all 150 flowers",
                         f"{100 * res.essay[name]['accuracy']:.1f}%", f"{100 * res.iris.accuracy(name):.1f}%"))
        for name, m in res.workspace.mnist.items():
            essay = res.essay.get(name, {}).get("accuracy")
            rows.append((_LABELS.get(name, name), f"held-out accuracy ({len(m.split.y_test)} digits)",
                         f"{100 * essay:.0f}%" if essay else "not reported",
                         f"{100 * m.trained.test_accuracy:.1f}%"))
        return rows

    def warm(self) -> "State":
        _ = self.score_rows
        return self


def layout(state: State):
    res = state.res
    cards = [dbc.Col(dbc.Card(dbc.CardBody([
        html.H2(dcc.Link(p.title, href=p.path, className="stretched-link text-decoration-none"),
                className="h6 card-title"),
        html.P(p.blurb, className="card-text small text-muted mb-0")])), xs=12, sm=6, lg=4, className="mb-3")
        for p in PAGES if p.path != "/"]
    head = html.Thead(html.Tr([html.Th("model"), html.Th("measured"), html.Th("essay"), html.Th("here")]))
    body = html.Tbody([html.Tr([html.Td(c) for c in row]) for row in state.score_rows])
    return html.Div([
        html.H1("Why discriminative models are easily fooled", className="h3"),
        html.P(_INTRO, className="lead fs-6"),
        html.P(["Start with ", dcc.Link("MNIST hidden space", href="/mnist"),
                ": click a point far from the coloured dots and see what the network calls it."]),
        dbc.Row(cards),
        html.H2("Scores", className="h5 mt-2"),
        html.P(f"MNIST data: {res.workspace.source}. Pixels scaled to [0, 1]; learning rates 10x "
               "the essay's (see README).", className="small text-muted"),
        dbc.Table([head, body], id=ids.OVERVIEW_TABLE, striped=True, size="sm", responsive=True),
    ])


def register(app, state: State) -> None:
    """The overview has no callbacks."""
    return None
