"""/lab layout: the spec form with its Train and Cancel buttons and progress bar, both maps of the
network, the inverted image, the loss curve and the fooling rates."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from fooling.lab import ACTIVATIONS, DEFAULT, LIMITS, MAX_EPOCHS, MAX_SEED, SOLVERS

from ... import ids
from ...components import PointStore, graph, section
from ...images import Digit
from .compute import State
from .text import EPOCH, IDLE, INTRO, POINT_IDLE

__all__ = ["PRESET_CLASS", "PRESET_HIDDEN", "form_values", "layout"]

PRESET_CLASS = "me-1 mb-1"
PRESET_HIDDEN = "d-none"
"""Class names of a far-preset button (one per digit, shown for the digits of the network shown)."""

_ACTIVATION_LABELS = {"identity": "identity", "tanh": "tanh (bounded plane)", "relu": "ReLU (positive quadrant)"}
FORM = (ids.LAB_DIGITS, ids.LAB_HIDDEN, ids.LAB_ACTIVATION, ids.LAB_SOLVER, ids.LAB_LR, ids.LAB_ALPHA,
        ids.LAB_EPOCHS, ids.LAB_SEED)
"""The form's fields, in the order of :func:`form_values`."""


def form_values(spec) -> tuple:
    """The form's values showing ``spec`` (in the order of :data:`FORM`)."""
    return (list(spec.digits), ",".join(map(str, spec.hidden)), spec.activation, spec.solver, repr(spec.lr),
            repr(spec.alpha), spec.epochs, spec.seed)


def _field(label: str, control, hint: str, width: dict) -> dbc.Col:
    return dbc.Col([dbc.Label(label, html_for=control.id, className="small fw-semibold mb-0"), control,
                    dbc.FormText(hint, className="d-block small")], **width, className="mb-2")


def _form():
    v = form_values(DEFAULT)
    narrow, wide = dict(xs=6, md=3, lg=2), dict(xs=12, md=6, lg=4)
    row1 = dbc.Row([
        _field("Digits", dbc.Checklist(id=ids.LAB_DIGITS, options=[{"label": str(d), "value": d} for d in range(10)],
                                       value=v[0], inline=True, className="small"), LIMITS["digits"], wide),
        _field("Hidden layers", dbc.Input(id=ids.LAB_HIDDEN, type="text", value=v[1], maxLength=40, size="sm",
                                          placeholder="50,20"), "units per layer, before the 2-unit bottleneck",
               dict(xs=12, md=6, lg=2)),
        _field("Activation", dbc.RadioItems(id=ids.LAB_ACTIVATION, value=v[2], inline=True, className="small",
                                            options=[{"label": _ACTIVATION_LABELS[a], "value": a}
                                                     for a in ACTIVATIONS]), "of every hidden layer", wide),
        _field("Solver", dbc.RadioItems(id=ids.LAB_SOLVER, value=v[3], inline=True, className="small",
                                        options=[{"label": s, "value": s} for s in SOLVERS]), "", narrow),
    ])
    row2 = dbc.Row([
        _field("Learning rate", dbc.Input(id=ids.LAB_LR, type="text", value=v[4], maxLength=24, size="sm",
                                          inputMode="decimal"), "1e-5 to 1", narrow),
        _field("L2 alpha", dbc.Input(id=ids.LAB_ALPHA, type="text", value=v[5], maxLength=24, size="sm",
                                     inputMode="decimal"), "0 to 1", narrow),
        _field("Epochs", dbc.Input(id=ids.LAB_EPOCHS, type="number", value=v[6], min=1, max=MAX_EPOCHS, step=1,
                                   size="sm"), f"1 to {MAX_EPOCHS}", narrow),
        _field("Seed", dbc.Input(id=ids.LAB_SEED, type="number", value=v[7], min=0, max=MAX_SEED, step=1,
                                 size="sm"), "weights and batch order", narrow),
        dbc.Col(html.Div([dbc.Button("Train", id=ids.LAB_TRAIN, color="primary", size="sm", className="me-2"),
                          dbc.Button("Cancel", id=ids.LAB_CANCEL, color="secondary", outline=True, size="sm",
                                     disabled=True)], className="pt-3"), xs=12, md=6, lg=4, className="mb-2"),
    ])
    progress = html.Div([
        dbc.Progress(id=ids.LAB_PROGRESS_BAR, value=0, label="", striped=True, className="flex-grow-1 me-2",
                     style={"height": "1.2rem", "maxWidth": "22rem"}),
        html.Div(IDLE, id=ids.LAB_PROGRESS, className="small", **{"aria-live": "polite"}),
    ], className="d-flex align-items-center flex-wrap mb-2")
    return dbc.Card(dbc.CardBody([row1, row2, progress, html.Div(id=ids.LAB_MESSAGE, **{"aria-live": "polite"}),
                                  html.Div(id=ids.LAB_RESULT)]), className="mb-3")


def layout(state: State):
    height = "min(430px, 112vw)"
    return html.Div([
        html.H1("Lab: train your own network", className="h3"),
        html.P(INTRO),
        _form(),
        html.Div([html.Span("Far presets: ", className="small text-muted me-1"),
                  html.Span([dbc.Button(f"far {d}", id={"type": ids.LAB_PRESET, "index": d}, size="sm", outline=True,
                                        color="secondary", className=PRESET_HIDDEN) for d in range(10)],
                            id=ids.LAB_PRESETS),
                  dbc.Checkbox(id=ids.LAB_VALID, label="keep pixels in [0, 1]", value=False,
                               className="small d-inline-block ms-3")],
                 className="d-flex flex-wrap align-items-center mb-2"),
        dbc.Row([
            dbc.Col([graph(ids.LAB_MAP, state.empty_map, height=height),
                     html.Div(id=ids.LAB_KEY, className="small map-key")], xs=12, md=6, lg=4, className="mb-3"),
            dbc.Col(graph(ids.LAB_RBF_MAP, state.empty_map, height=height), xs=12, md=6, lg=4, className="mb-3"),
            dbc.Col([Digit(id=ids.LAB_IMAGE, digit=state.blank_digit),
                     html.Div(html.P(POINT_IDLE, className="text-muted"), id=ids.LAB_INSPECT,
                              **{"aria-live": "polite"})], xs=12, md=6, lg=4, className="mb-3"),
        ]),
        dbc.Row([
            dbc.Col(section("How it learned", graph(ids.LAB_LOSS, {}, height="300px"),
                            html.P(EPOCH, className="small text-muted")), xs=12, md=5),
            dbc.Col(section("How far its confidence reaches", html.Div(id=ids.LAB_RATES)), xs=12, md=7),
        ]),
        dcc.Store(id=ids.LAB_SESSION, storage_type="session"),  # a token, minted by the spec callback
        dcc.Store(id=ids.LAB_TICKET), dcc.Store(id=ids.LAB_OUTCOME), dcc.Store(id=ids.LAB_RUNNING, data=False),
        dcc.Store(id=ids.LAB_WRITE), PointStore(id=ids.LAB_POINT, graphs=[ids.LAB_MAP, ids.LAB_RBF_MAP]),
    ])
