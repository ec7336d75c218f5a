"""/neurons callbacks: plain functions of the page state and raw inputs (never raising for bad
input), and their registration."""

from __future__ import annotations

import math
from typing import Any

import dash
from dash import Input, Output, State as DashState

from ... import ids
from ...components import BadInput, message, triggered_props
from ...links import Param, choice, flag, number, read, writer
from .compute import LAYER_LABELS, STRENGTH_MAX, STRENGTH_STEP, STRENGTHS, State
from .layout import unit_marks
from .text import attack_outputs, neuron_outputs, sparsity_outputs

__all__ = ["parse_clip", "parse_digit", "parse_layer", "parse_strength", "register", "update_attack",
           "update_neuron", "update_sparsity", "update_unit_range"]


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


def _need(state: State) -> State:
    if not state.available:
        raise BadInput("The 784-64-64-10 network is not loaded in this app.")
    return state


def update_unit_range(state: State, layer, unit):
    """Neuron slider's max, marks and value (kept, or the layer's last unit if beyond it)."""
    try:
        d, layer = _need(state), parse_layer(layer)
    except BadInput:
        return dash.no_update, dash.no_update, dash.no_update
    n = d.units(layer)
    valid = (not isinstance(unit, bool) and isinstance(unit, (int, float)) and math.isfinite(unit)
             and unit >= 0 and float(unit).is_integer())
    return n - 1, unit_marks(layer, n), min(int(unit), n - 1) if valid else 0


def update_neuron(state: State, layer, unit):
    """Both images of one neuron and a note (or a message for bad input)."""
    try:
        d, layer = _need(state), parse_layer(layer)
        unit = _integer(unit, "neuron", 0, d.units(layer) - 1)
    except BadInput as exc:
        return dash.no_update, dash.no_update, message(str(exc))
    return neuron_outputs(d, layer, unit)


def update_sparsity(state: State, layer):
    """The layer's histogram of active neurons per image and its medians."""
    try:
        d, layer = _need(state), parse_layer(layer)
    except BadInput as exc:
        return dash.no_update, message(str(exc))
    return sparsity_outputs(d, layer)


def update_attack(state: State, source, target, clip, strength, *, strength_only: bool = False):
    """Blend image, curve (a cursor ``Patch`` when only the strength moved) and result."""
    try:
        d = _need(state)
        source = parse_digit(source, "source digit")
        target = parse_digit(target, "target digit")
        if source == target:
            raise BadInput("Pick a target digit different from the source.")
        clip = parse_clip(clip)
        index, _ = parse_strength(strength)
        return attack_outputs(d, source, target, clip, index, patch_curve=strength_only)
    except BadInput as exc:
        return dash.no_update, dash.no_update, message(str(exc))


LINK_PARAMS = [Param("layer", number(1, 3, integer=True)), Param("neuron", number(0, 4096, integer=True)),
               Param("source", choice(tuple("0123456789"))), Param("target", choice(tuple("0123456789"))),
               Param("strength", number(0, STRENGTH_MAX)), Param("clip", flag)]
"""The page's query: ``?layer=..&neuron=..&source=..&target=..&strength=..&clip=0|1``."""

_WRITE_JS = """return {layer: a0, neuron: a1, source: a2, target: a3, strength: a4, clip: a5};"""


def update_from_link(state: State, query: Any) -> tuple:
    """The controls a link asks for (no_update for what it does not name) and a note.

    Returns
    -------
    (layer, neuron, source, target, strength, clip, note children)
    """
    values, notes, present = read(query, LINK_PARAMS)
    if not present and not notes:
        return (dash.no_update,) * 7
    out = []
    for p in LINK_PARAMS:
        v = values[p.name]
        out.append(dash.no_update if v is None else v)
    layer = values["layer"] if values["layer"] is not None else 1
    if state.available and values["neuron"] is not None and values["neuron"] >= state.units(layer):
        notes.append(f"'neuron={values['neuron']}' is beyond layer {layer}'s {state.units(layer)} units; "
                     "using neuron 0.")
        out[1] = 0
    return (*out, message(" ".join(notes), "info") if notes else None)


def register(app, state: State) -> None:
    @app.callback(Output(ids.NEURONS_LAYER, "value"),
                  Output(ids.NEURONS_UNIT, "value", allow_duplicate=True),
                  Output(ids.ATTACK_SOURCE, "value"), Output(ids.ATTACK_TARGET, "value"),
                  Output(ids.ATTACK_STRENGTH, "value"), Output(ids.ATTACK_CLIP, "value"),
                  Output(ids.NEURONS_LINK_NOTE, "children"),
                  Input(ids.QUERY, "data"), prevent_initial_call="initial_duplicate")
    def update_neurons_from_link(query):
        return update_from_link(state, query)

    writer(app, _WRITE_JS, [Input(ids.NEURONS_LAYER, "value"), Input(ids.NEURONS_UNIT, "value"),
                            Input(ids.ATTACK_SOURCE, "value"), Input(ids.ATTACK_TARGET, "value"),
                            Input(ids.ATTACK_STRENGTH, "value"), Input(ids.ATTACK_CLIP, "value")])

    @app.callback(Output(ids.NEURONS_UNIT, "max"), Output(ids.NEURONS_UNIT, "marks"),
                  Output(ids.NEURONS_UNIT, "value"),
                  Input(ids.NEURONS_LAYER, "value"), DashState(ids.NEURONS_UNIT, "value"),
                  prevent_initial_call=True)
    def update_neurons_unit(layer, unit):
        return update_unit_range(state, layer, unit)

    @app.callback(Output(ids.NEURONS_EFFECTIVE, "figure"), Output(ids.NEURONS_AVERAGE, "figure"),
                  Output(ids.NEURONS_NOTE, "children"),
                  Input(ids.NEURONS_LAYER, "value"), Input(ids.NEURONS_UNIT, "value"),
                  prevent_initial_call=True)
    def update_neurons_images(layer, unit):
        return update_neuron(state, layer, unit)

    @app.callback(Output(ids.NEURONS_SPARSITY, "figure"), Output(ids.NEURONS_SPARSITY_NOTE, "children"),
                  Input(ids.NEURONS_LAYER, "value"), prevent_initial_call=True)
    def update_neurons_sparsity(layer):
        return update_sparsity(state, layer)

    @app.callback(Output(ids.ATTACK_IMAGE, "figure"), Output(ids.ATTACK_CURVE, "figure"),
                  Output(ids.ATTACK_RESULT, "children"),
                  Input(ids.ATTACK_SOURCE, "value"), Input(ids.ATTACK_TARGET, "value"),
                  Input(ids.ATTACK_CLIP, "value"), Input(ids.ATTACK_STRENGTH, "value"),
                  prevent_initial_call=True)
    def update_neurons_attack(source, target, clip, strength):
        only = triggered_props() == {f"{ids.ATTACK_STRENGTH}.value"}
        return update_attack(state, source, target, clip, strength, strength_only=only)
