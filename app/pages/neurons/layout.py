"""/neurons layout: a neuron's two images, the sparsity histogram, the overlay attack."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from ... import ids
from ...components import graph, message, section
from .compute import DEFAULT_SOURCE, DEFAULT_TARGET, LAYER_LABELS, STRENGTH_MAX, STRENGTH_STEP, State
from .text import ATTACK_TEXT, CONTRAST_TEXT, INTRO_TEXT, attack_outputs, neuron_outputs, sparsity_outputs

__all__ = ["layout", "unit_marks"]


def _image_graph(id_: str, figure, height: str = "340px") -> dcc.Loading:
    """A small image graph: no mode bar (nothing to zoom), inside a loading spinner."""
    return dcc.Loading(dcc.Graph(id=id_, figure=figure, style={"height": height},
                                 config={"displayModeBar": False}), type="circle", delay_show=300)


def unit_marks(layer: int, n: int) -> dict:
    if layer == 3:
        return {i: str(i) for i in range(n)}
    return {i: str(i) for i in range(0, n, 8)} | {n - 1: str(n - 1)}


def _digit_options(state: State) -> list[dict]:
    return [{"label": str(c), "value": str(c)} for c in state.classes]


def layout(state: State):
    if not state.available:
        return html.Div([html.H1("Neurons and the overlay attack", className="h3"),
                         message("The 784-64-64-10 network is not loaded in this app.")])
    layer, unit = 1, 0
    eff, avg, note = neuron_outputs(state, layer, unit)
    hist, hist_text = sparsity_outputs(state, layer)
    image, curve, result = attack_outputs(state, DEFAULT_SOURCE, DEFAULT_TARGET, True, 0)
    acc = state.model.trained.test_accuracy
    controls = dbc.Row([
        dbc.Col([dbc.Label("Layer", html_for=ids.NEURONS_LAYER, className="fw-semibold mb-1"),
                 dbc.RadioItems(id=ids.NEURONS_LAYER, value=layer, inline=True,
                                options=[{"label": v, "value": k} for k, v in LAYER_LABELS.items()])],
                xs=12, md=5, className="mb-2"),
        dbc.Col([dbc.Label("Neuron", html_for=ids.NEURONS_UNIT, className="fw-semibold mb-1"),
                 dcc.Slider(id=ids.NEURONS_UNIT, min=0, max=state.units(layer) - 1, step=1,
                            value=unit, marks=unit_marks(layer, state.units(layer)))],
                xs=12, md=7, className="mb-2"),
    ])
    attack_controls = [
        dbc.Row([
            dbc.Col([dbc.Label("Source digit", html_for=ids.ATTACK_SOURCE, className="mb-1"),
                     dbc.Select(id=ids.ATTACK_SOURCE, options=_digit_options(state),
                                value=str(DEFAULT_SOURCE))], xs=6),
            dbc.Col([dbc.Label("Target digit", html_for=ids.ATTACK_TARGET, className="mb-1"),
                     dbc.Select(id=ids.ATTACK_TARGET, options=_digit_options(state),
                                value=str(DEFAULT_TARGET))], xs=6),
        ], className="mb-2"),
        dbc.Label("Strength", html_for=ids.ATTACK_STRENGTH, className="mb-1"),
        dcc.Slider(id=ids.ATTACK_STRENGTH, min=0, max=STRENGTH_MAX, step=STRENGTH_STEP, value=0,
                   marks={i / 2: f"{i / 2:g}" for i in range(int(2 * STRENGTH_MAX) + 1)}),
        dbc.Switch(id=ids.ATTACK_CLIP, label="clip to [0, 1]", value=True, className="mt-2"),
        html.Div(result, id=ids.ATTACK_RESULT, className="mt-2", role="status", **{"aria-live": "polite"}),
    ]
    return html.Div([
        html.H1("What neurons look for, and a 7 read as a 0", className="h3"),
        html.P(INTRO_TEXT, className="lead fs-6"),
        html.Div(id=ids.NEURONS_LINK_NOTE),
        html.P(f"Held-out accuracy of this network: {100 * acc:.1f}% "
               f"({len(state.model.split.y_test)} digits).", className="small text-muted"),
        section("What a neuron looks for", controls,
                dbc.Row([dbc.Col(_image_graph(ids.NEURONS_EFFECTIVE, eff), xs=12, md=6),
                         dbc.Col(_image_graph(ids.NEURONS_AVERAGE, avg), xs=12, md=6)]),
                html.Div(note, id=ids.NEURONS_NOTE, className="small text-muted mb-2"),
                html.P(CONTRAST_TEXT)),
        section("How many neurons one image uses",
                graph(ids.NEURONS_SPARSITY, hist, height="320px"),
                html.P(hist_text, id=ids.NEURONS_SPARSITY_NOTE)),
        section("The overlay attack",
                html.P(ATTACK_TEXT),
                dbc.Row([
                    dbc.Col(attack_controls, xs=12, lg=4, className="mb-3"),
                    dbc.Col(_image_graph(ids.ATTACK_IMAGE, image, "320px"), xs=12, md=5, lg=3),
                    dbc.Col(graph(ids.ATTACK_CURVE, curve, height="320px"), xs=12, md=7, lg=5),
                ])),
    ])
