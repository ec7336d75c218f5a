"""/ood callbacks: the metric of the OOD table, whose answers the tiles carry, the ray's quantity.

Each takes one switch's value, checks it, and answers (content, message): on bad input
the content is left as it was and the message says what is allowed.
"""

from __future__ import annotations

from typing import Any

from dash import Input, Output, no_update

from ... import ids
from ...components import BadInput, check_choice, message
from .compute import METRIC_LABELS, RAY_VALUES, State
from .layout import table_box

__all__ = ["register", "update_examples", "update_rays", "update_table"]


def update_table(state: State, metric: Any) -> tuple:
    """(table and legend for ``metric``, message or None)."""
    try:
        m = check_choice(metric, tuple(METRIC_LABELS), "metric")
    except BadInput as exc:
        return no_update, message(str(exc))
    return table_box(state, m), None


def update_examples(state: State, network: Any) -> tuple:
    """(the tiles with ``network``'s answers, message or None)."""
    try:
        n = check_choice(network, state.networks, "network")
    except BadInput as exc:
        return no_update, message(str(exc))
    return state.example_figures[n], None


def update_rays(state: State, value: Any) -> tuple:
    """(the alpha-ray chart of ``value``, message or None)."""
    try:
        v = check_choice(value, tuple(RAY_VALUES), "quantity")
    except BadInput as exc:
        return no_update, message(str(exc))
    return state.ray_figures[v], None


def register(app, state: State) -> None:
    # the page arrives with the default of each switch drawn: nothing to do until one changes
    @app.callback(Output(ids.OOD_TABLE_BOX, "children"), Output(ids.OOD_METRIC_MESSAGE, "children"),
                  Input(ids.OOD_METRIC, "value"), prevent_initial_call=True)
    def update_ood_table(metric):
        return update_table(state, metric)

    @app.callback(Output(ids.OOD_EXAMPLES, "figure"), Output(ids.OOD_NETWORK_MESSAGE, "children"),
                  Input(ids.OOD_NETWORK, "value"), prevent_initial_call=True)
    def update_ood_examples(network):
        return update_examples(state, network)

    @app.callback(Output(ids.OOD_RAYS, "figure"), Output(ids.OOD_RAY_MESSAGE, "children"),
                  Input(ids.OOD_RAY_VALUE, "value"), prevent_initial_call=True)
    def update_ood_rays(value):
        return update_rays(state, value)
