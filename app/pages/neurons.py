"""/neurons — what each neuron "looks for", and the overlay attack (the second essay).

Part 1 sets a neuron's effective weights (noise-like) beside its activity-weighted
average of the training digits (digit-like). Part 2 blends a held-out digit with the
target digit's output-neuron pattern and follows the prediction as the strength grows.

Everything heavy (per-layer weight products, averages, sparsity counts, one strength
sweep per (source, target, clip)) is computed once per process and cached in
:mod:`app.neurons_view`, which also builds the outputs; callbacks only validate and pick.
"""

from __future__ import annotations

import math
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, dcc, html

from .. import ids
from ..components import BadInput, graph, message, section
from ..neurons_view import (ATTACK_TEXT, CONTRAST_TEXT, DEFAULT_SOURCE, DEFAULT_TARGET, INTRO_TEXT,
                            LAYER_LABELS, STRENGTH_MAX, STRENGTH_STEP, STRENGTHS, NeuronData,
                            attack_outputs, neuron_data, neuron_outputs, sparsity_outputs)

PATH = "/neurons"

# page-private element ids (explanatory text, not part of the public contract)
NEURONS_NOTE = "neurons-note"
SPARSITY_NOTE = "neurons-sparsity-note"


# ---------------------------------------------------------------- validation

def _integer(value: Any, what: str, lo: int, hi: int) -> int:
    """``value`` as an int in ``lo..hi`` (an integral float is accepted), else BadInput."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadInput(f"The {what} must be a whole number from {lo} to {hi}.")
    if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
        raise BadInput(f"The {what} must be a whole number from {lo} to {hi}.")
    v = int(value)
    if not lo <= v <= hi:
        raise BadInput(f"The {what} must be from {lo} to {hi} (got {v:g}).")
    return v


def parse_layer(value: Any) -> int:
    try:
        return _integer(value, "layer", min(LAYER_LABELS), max(LAYER_LABELS))
    except BadInput:
        raise BadInput("Choose hidden layer 1, hidden layer 2 or the output layer.") from None


def parse_digit(value: Any, what: str) -> int:
    """A digit label: an int, or the digit's string as a native select sends it."""
    if isinstance(value, str) and len(value) == 1 and value in "0123456789":
        value = int(value)
    return _integer(value, what, 0, 9)


def parse_strength(value: Any) -> tuple[int, float]:
    """(index into :data:`STRENGTHS`, snapped strength) of a slider value."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadInput(f"The strength must be a number from 0 to {STRENGTH_MAX:g}.")
    v = float(value)
    if not math.isfinite(v):
        raise BadInput("The strength must be finite (no NaN or infinity).")
    if not 0.0 <= v <= STRENGTH_MAX:
        raise BadInput(f"The strength must be from 0 to {STRENGTH_MAX:g} (got {v:g}).")
    i = int(round(v / STRENGTH_STEP))
    return i, float(STRENGTHS[i])


def parse_clip(value: Any) -> bool:
    if not isinstance(value, bool):
        raise BadInput("The clip switch must be on or off.")
    return value


# ---------------------------------------------------------------- layout

def _image_graph(id_: str, figure, height: str = "340px") -> dcc.Loading:
    """A small image graph: no mode bar (nothing to zoom), inside a loading spinner."""
    return dcc.Loading(dcc.Graph(id=id_, figure=figure, style={"height": height},
                                 config={"displayModeBar": False}), type="circle", delay_show=300)


def _unit_marks(layer: int, n: int) -> dict:
    if layer == 3:
        return {i: str(i) for i in range(n)}
    return {i: str(i) for i in range(0, n, 8)} | {n - 1: str(n - 1)}


def _digit_options(data: NeuronData | None) -> list[dict]:
    return [{"label": str(c), "value": str(c)} for c in (data.classes if data else range(10))]


def layout(res):
    data = neuron_data(res)
    if data is None:
        return html.Div([html.H1("Neurons and the overlay attack", className="h3"),
                         message("The 784-64-64-10 network is not loaded in this app.")])
    layer, unit = 1, 0
    eff, avg, note = neuron_outputs(data, layer, unit)
    hist, hist_text = sparsity_outputs(data, layer)
    image, curve, result = attack_outputs(data, DEFAULT_SOURCE, DEFAULT_TARGET, True, 0)
    acc = data.model.trained.test_accuracy
    controls = dbc.Row([
        dbc.Col([dbc.Label("Layer", html_for=ids.NEURONS_LAYER, className="fw-semibold mb-1"),
                 dbc.RadioItems(id=ids.NEURONS_LAYER, value=layer, inline=True,
                                options=[{"label": v, "value": k} for k, v in LAYER_LABELS.items()])],
                xs=12, md=5, className="mb-2"),
        dbc.Col([dbc.Label("Neuron", html_for=ids.NEURONS_UNIT, className="fw-semibold mb-1"),
                 dcc.Slider(id=ids.NEURONS_UNIT, min=0, max=data.units(layer) - 1, step=1,
                            value=unit, marks=_unit_marks(layer, data.units(layer)))],
                xs=12, md=7, className="mb-2"),
    ])
    attack_controls = [
        dbc.Row([
            dbc.Col([dbc.Label("Source digit", html_for=ids.ATTACK_SOURCE, className="mb-1"),
                     dbc.Select(id=ids.ATTACK_SOURCE, options=_digit_options(data),
                                value=str(DEFAULT_SOURCE))], xs=6),
            dbc.Col([dbc.Label("Target digit", html_for=ids.ATTACK_TARGET, className="mb-1"),
                     dbc.Select(id=ids.ATTACK_TARGET, options=_digit_options(data),
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
        html.P(f"Held-out accuracy of this network: {100 * acc:.1f}% "
               f"({len(data.model.split.y_test)} digits).", className="small text-muted"),
        section("What a neuron looks for", controls,
                dbc.Row([dbc.Col(_image_graph(ids.NEURONS_EFFECTIVE, eff), xs=12, md=6),
                         dbc.Col(_image_graph(ids.NEURONS_AVERAGE, avg), xs=12, md=6)]),
                html.Div(note, id=NEURONS_NOTE, className="small text-muted mb-2"),
                html.P(CONTRAST_TEXT)),
        section("How many neurons one image uses",
                graph(ids.NEURONS_SPARSITY, hist, height="320px"),
                html.P(hist_text, id=SPARSITY_NOTE)),
        section("The overlay attack",
                html.P(ATTACK_TEXT),
                dbc.Row([
                    dbc.Col(attack_controls, xs=12, lg=4, className="mb-3"),
                    dbc.Col(_image_graph(ids.ATTACK_IMAGE, image, "320px"), xs=12, md=5, lg=3),
                    dbc.Col(graph(ids.ATTACK_CURVE, curve, height="320px"), xs=12, md=7, lg=5),
                ])),
    ])


# ---------------------------------------------------------------- callbacks
# Module-level so tests can call them with any input; ``register`` wires them to the app.

def _need(res) -> NeuronData:
    d = neuron_data(res)
    if d is None:
        raise BadInput("The 784-64-64-10 network is not loaded in this app.")
    return d


def update_unit_range(res, layer, unit):
    """Neuron slider's max, marks and value (kept, or the layer's last unit if beyond it)."""
    try:
        d, layer = _need(res), parse_layer(layer)
    except BadInput:
        return dash.no_update, dash.no_update, dash.no_update
    n = d.units(layer)
    valid = (not isinstance(unit, bool) and isinstance(unit, (int, float)) and math.isfinite(unit)
             and unit >= 0 and float(unit).is_integer())
    return n - 1, _unit_marks(layer, n), min(int(unit), n - 1) if valid else 0


def update_neuron(res, layer, unit):
    """Both images of one neuron and a note (or a message for bad input)."""
    try:
        d, layer = _need(res), parse_layer(layer)
        unit = _integer(unit, "neuron", 0, d.units(layer) - 1)
    except BadInput as exc:
        return dash.no_update, dash.no_update, message(str(exc))
    return neuron_outputs(d, layer, unit)


def update_sparsity(res, layer):
    """The layer's histogram of active neurons per image and its medians."""
    try:
        d, layer = _need(res), parse_layer(layer)
    except BadInput as exc:
        return dash.no_update, message(str(exc))
    return sparsity_outputs(d, layer)


def update_attack(res, source, target, clip, strength, *, strength_only: bool = False):
    """Blend image, curve (a cursor ``Patch`` when only the strength moved) and result."""
    try:
        d = _need(res)
        source = parse_digit(source, "source digit")
        target = parse_digit(target, "target digit")
        if source == target:
            raise BadInput("Pick a target digit different from the source.")
        clip = parse_clip(clip)
        index, _ = parse_strength(strength)
        return attack_outputs(d, source, target, clip, index, patch_curve=strength_only)
    except BadInput as exc:
        return dash.no_update, dash.no_update, message(str(exc))


def _strength_only() -> bool:
    try:
        changed = set(dash.ctx.triggered_prop_ids)
    except Exception:  # no callback context
        return False
    return changed == {f"{ids.ATTACK_STRENGTH}.value"}


def register(app, res):
    data = neuron_data(res)
    if data is not None:
        data.warm()

    app.callback(Output(ids.NEURONS_UNIT, "max"), Output(ids.NEURONS_UNIT, "marks"),
                 Output(ids.NEURONS_UNIT, "value"),
                 Input(ids.NEURONS_LAYER, "value"), State(ids.NEURONS_UNIT, "value"),
                 prevent_initial_call=True)(lambda layer, unit: update_unit_range(res, layer, unit))

    app.callback(Output(ids.NEURONS_EFFECTIVE, "figure"), Output(ids.NEURONS_AVERAGE, "figure"),
                 Output(NEURONS_NOTE, "children"),
                 Input(ids.NEURONS_LAYER, "value"), Input(ids.NEURONS_UNIT, "value"),
                 prevent_initial_call=True)(lambda layer, unit: update_neuron(res, layer, unit))

    app.callback(Output(ids.NEURONS_SPARSITY, "figure"), Output(SPARSITY_NOTE, "children"),
                 Input(ids.NEURONS_LAYER, "value"),
                 prevent_initial_call=True)(lambda layer: update_sparsity(res, layer))

    app.callback(Output(ids.ATTACK_IMAGE, "figure"), Output(ids.ATTACK_CURVE, "figure"),
                 Output(ids.ATTACK_RESULT, "children"),
                 Input(ids.ATTACK_SOURCE, "value"), Input(ids.ATTACK_TARGET, "value"),
                 Input(ids.ATTACK_CLIP, "value"), Input(ids.ATTACK_STRENGTH, "value"),
                 prevent_initial_call=True)(
        lambda source, target, clip, strength: update_attack(
            res, source, target, clip, strength, strength_only=_strength_only()))
    return None
