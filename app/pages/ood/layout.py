"""/ood layout: the OOD tables, the example tiles, the alpha-ray and the FGSM table.

Everything shown first is already in the State (measured by ``warm()`` at start-up); the
three switches change one element each through :mod:`.callbacks`.
"""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from ... import ids
from ...components import graph, section
from .compute import (DEFAULT_METRIC, DEFAULT_NETWORK, DEFAULT_RAY_VALUE, METRIC_LABELS, NETWORK_LABELS,
                      RAY_VALUES, State)
from .text import (fgsm_note, fgsm_table, highlights, mmc_table, ood_table, ray_notes, ray_table, sets_line,
                   table_legend, theorem)

__all__ = ["layout", "table_box"]

_SCROLL = {"overflowX": "auto"}


def table_box(state: State, metric: str) -> list:
    """The OOD table for ``metric`` and its legend (the metric switch replaces these)."""
    return [ood_table(state, metric), table_legend(metric)]


def _radio(id_, options: dict, value: str) -> dbc.RadioItems:
    return dbc.RadioItems(id=id_, value=value, inline=True, className="small",
                          options=[{"label": t, "value": k} for k, t in options.items()])


def layout(state: State):
    n_in = state.report["n"][state.networks[0]]["in"]
    source = state.source
    return html.Div([
        html.H1("Out of the data: measured like the field", className="h3"),
        html.P("The other pages show where the 0-3 networks are fooled. Here they are measured the way the "
               "out-of-distribution literature measures detectors: OpenOOD's four metrics for six scores on nine "
               "sets, Hein et al.'s alpha-ray, and Goodfellow et al.'s fast gradient sign attack. "
               f"MNIST data: {source}; in-distribution: the {n_in:,} held-out digits 0-3.", className="lead fs-6"),
        section(
            "Telling real digits from everything else",
            _radio(ids.OOD_METRIC, METRIC_LABELS, DEFAULT_METRIC),
            html.Div(id=ids.OOD_METRIC_MESSAGE, **{"aria-live": "polite"}),
            html.Details([html.Summary("What the sets are", className="small"),
                          html.P(sets_line(state), className="small text-muted mb-1")], className="mb-2"),
            html.Div(table_box(state, DEFAULT_METRIC), id=ids.OOD_TABLE_BOX),
            html.H3("Mean max probability (Hein et al.'s MMC)", className="h6 mt-3"),
            mmc_table(state),
            html.P("Red: higher than on the net's own held-out digits (surer off the data than on it).",
                   className="small text-muted mb-2"),
            html.Ul([html.Li(t) for t in highlights(state)], id=ids.OOD_HIGHLIGHTS, className="small"),
            lead="In-distribution is the positive class: every score is oriented so that higher means "
                 "'more like the training digits', and a detector accepts an input above a threshold. Near-OOD: "
                 "real digits the nets never saw; far-OOD: noise, shuffled and scaled digits, fooling images."),
        section(
            "What the sets look like, and what each net answers",
            _radio(ids.OOD_NETWORK, {n: f"{NETWORK_LABELS[n]} net" for n in state.networks}, DEFAULT_NETWORK),
            html.Div(id=ids.OOD_NETWORK_MESSAGE, **{"aria-live": "polite"}),
            html.Div(html.Div(dcc.Graph(id=ids.OOD_EXAMPLES, figure=state.example_figures[DEFAULT_NETWORK],
                                        config={"staticPlot": True, "displaylogo": False},
                                        style={"height": "min(620px, max(440px, 48vw))"}),
                              style={"minWidth": "760px"}), style=_SCROLL),
            lead="Four images of each set (the fooling images are the chosen net's own). Under each: the net's "
                 "answer and its probability, in red when at least 99%. Each tile is drawn on [0, 1], "
                 "stretched to its own pixels when they leave it (the range is under each set's name)."),
        section(
            "Hein's alpha-ray: the same digit, brighter and brighter",
            _radio(ids.OOD_RAY_VALUE, RAY_VALUES, DEFAULT_RAY_VALUE),
            html.Div(id=ids.OOD_RAY_MESSAGE, **{"aria-live": "polite"}),
            graph(ids.OOD_RAYS, state.ray_figures[DEFAULT_RAY_VALUE], height="min(480px, 125vw)"),
            html.Div(ray_table(state), style=_SCROLL),
            html.Ul([html.Li(t) for t in ray_notes(state)], id=ids.OOD_RAYS_NOTE, className="small mt-1"),
            lead=theorem() + f" Here: every held-out digit 0-3 ({n_in:,}) times α, from 1 to 1,000; solid lines are "
                             "the nets, dashed their RBF heads (RBF), dotted the tanh net's bound."),
        section(
            "FGSM: the fast gradient sign attack",
            html.Div(fgsm_table(state), style=_SCROLL),
            html.Ul([html.Li(t) for t in fgsm_note(state)], id=ids.OOD_FGSM_NOTE, className="small mt-1"),
            lead="Goodfellow, Shlens & Szegedy (ICLR 2015): move every pixel by ε in the direction that raises "
                 "the loss, x + ε·sign(∇ₓ loss), then clip to [0, 1]. Their numbers are theirs, on their "
                 "data and models; ours are beside them, not the same experiment."),
    ])
