"""/compare layout: the table and curves (filled in on load), and the density map."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from ... import ids
from ...components import graph, section
from .compute import DEFAULT_MODEL, FLAG_R, LABELS, THRESHOLD, VIEWS, State

__all__ = ["layout"]


def layout(state: State):
    options = [{"label": LABELS[n], "value": n} for n in state.planes]
    return html.Div([
        html.H1("Measuring the fooling", className="h3"),
        html.P("How far does each model's certainty reach beyond its data, and what do the two "
               "remedies change? Every number is measured on a stated grid, the same one for every model.",
               className="lead fs-6"),
        dcc.Store(id=ids.COMPARE_LOAD, data=0),
        html.Div(id=ids.COMPARE_LINK_NOTE),
        dcc.Loading([html.Div(id=ids.COMPARE_TEXT), section("Fooling rate: confident share of the disc of R data radii",
                                                html.Div(id=ids.COMPARE_TABLE_BOX, style={"minHeight": "80px"}))],
                    type="circle", delay_show=200),
        section("Confidence against distance",
                graph(ids.COMPARE_CURVES, height="min(480px, 120vw)"),
                html.P(id=ids.COMPARE_CURVES_NOTE, className="small text-muted mt-1"),
                lead=f"Every grid point of the disc of {FLAG_R} data radii (for the tanh net: of its "
                     "square), binned by its distance to the nearest training point: the solid line is "
                     "the median top probability in each bin, the dashed line of the same colour the "
                     "90th percentile."),
        section(
            "Where the density check helps",
            dbc.Row([
                dbc.Col(dbc.RadioItems(id=ids.COMPARE_MODEL, options=options, value=DEFAULT_MODEL,
                                       inline=True, className="small"), xs=12, lg=8, className="mb-1"),
                dbc.Col(dbc.RadioItems(id=ids.COMPARE_VIEW, value="disc", inline=True, className="small",
                                       options=[{"label": t, "value": k} for k, t in VIEWS.items()]),
                        xs=12, lg=4, className="mb-1"),
            ]),
            graph(ids.COMPARE_DENSITY, height="min(640px, 125vw)"),
            html.Div(id=ids.COMPARE_DENSITY_NOTE, className="small mt-1", **{"aria-live": "polite"}),
            lead=f"Grey: top probability below {100 * THRESHOLD:g}% (darker is surer). Red: at least "
                 f"{100 * THRESHOLD:g}% and the density check lets it through; blue: at least "
                 f"{100 * THRESHOLD:g}% but flagged as out of distribution. Black lines: the mixture's "
                 "log-density at the training points' threshold percentile (solid, the check's "
                 "boundary) and median (dashed). Scroll to zoom."),
    ])
