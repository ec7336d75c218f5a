"""/iris layout: the map beside a card that inspects a point."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

from ... import ids
from ...components import PointStore, graph
from .compute import DEFAULT_OVERLAYS, DEFAULT_VIEW, MODEL, OVERLAYS, VIEWS, State

__all__ = ["layout"]


def layout(state: State):
    res = state.res
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
               id=ids.IRIS_ACCURACY, className="small mb-0"),
    ]), className="mb-3")
    return html.Div([
        html.H1("Iris: logistic regression", className="h3"),
        html.P(state.intro, className="mb-2"),
        dbc.Row([
            dbc.Col([controls, graph(ids.IRIS_MAP, state.figure, height="min(520px, 125vw)"),
                     html.P("Colour: the predicted flower; the deeper the colour, the higher its "
                            "probability (palest = 1/3, a toss-up). Red rings: flowers the model "
                            "gets wrong. Stars: the essay's probes.",
                            className="small text-muted mt-1")], xs=12, lg=8),
            dbc.Col(side, xs=12, lg=4),
        ]),
        PointStore(id=ids.IRIS_POINT, graphs=[ids.IRIS_MAP]),
    ])
