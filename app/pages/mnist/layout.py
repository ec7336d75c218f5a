"""/mnist layout: the network toggle and presets, both maps, the image and its readouts."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from ... import ids
from ...components import PointStore, graph, section
from ...figures import CLASS_COLORS
from ...images import Digit
from ...markup import Markup, markup
from .compute import NULL_MAX, NULL_STEP, State
from .own import MAX_T, OWN_IDLE, PAD_TITLE, PREPROCESSING
from .preview import hover_data
from .results import null_idle
from .text import caption, explain, remedy_text

__all__ = ["IDLE", "layout", "map_key"]

IDLE = "Click anywhere on either map (far from the dots too) or press a preset."
HOVER_IDLE = "Hover over the map to preview."
_LABELS = {"identity": "identity (unbounded plane)", "tanh": "tanh (bounded to (-1, 1)²)",
           "relu": "ReLU (the positive quadrant)"}
"""The network toggle's labels."""


def map_key(labels) -> Markup:
    """The maps' key (both maps draw the same marks), as static markup."""
    def line(text, style, color="#111", width="2px"):
        sample = html.Span(style={"display": "inline-block", "width": "1.4em", "verticalAlign": "middle",
                                  "borderTop": f"{width} {style} {color}"})
        return html.Span([sample, f" {text}"], className="me-2 text-nowrap d-inline-block")

    def mark(symbol, text):
        return html.Span([html.Strong(symbol), f" {text}"], className="me-2 text-nowrap d-inline-block")

    dots = html.Span([html.Span("●", style={"color": CLASS_COLORS[k]}) for k in range(len(labels))]
                     + [f" held-out digits {labels[0]}-{labels[-1]}"], className="me-2 text-nowrap d-inline-block")
    return markup(html.Div([dots, line("P = 1/2", "solid", width="1px"),
                            line("valid images reach (tanh: estimated)", "solid", width="2.5px"),
                            line("typical (density check)", "dashed", "#555"), mark("◇", "nearest reachable"),
                            mark("×", "clicked"), mark("●", "your digit"), mark("○", "walked to")],
                           className="small map-key"))


def own_card(state: State) -> dbc.Card:
    """The card 'Your own digit': drawing pad, upload, the digit as the network sees it, the walk."""
    limit = state.res.settings.max_upload
    pad = html.Div([
        html.Canvas(id=ids.MNIST_DRAW, width=280, height=280, className="draw-pad",
                    title=PAD_TITLE),
        html.Div([dbc.Button("clear", id=ids.MNIST_DRAW_CLEAR, size="sm", outline=True, color="secondary",
                             className="me-2"),
                  html.Span("draw here", className="small text-muted")], className="mt-1"),
    ])
    upload = html.Div([
        dcc.Upload(id=ids.MNIST_UPLOAD, accept="image/png,image/jpeg,image/gif", multiple=False, max_size=limit,
                   className="upload-box",
                   children=html.Div(["Drop a picture of a digit here, or ", html.A("choose a file", href="#"),
                                      html.Br(), html.Span(f"PNG, JPEG or GIF, up to {limit / 1e6:.0f} MB",
                                                           className="small text-muted")])),
        html.Div(id=ids.MNIST_UPLOAD_LIMIT, **{"data-max": str(limit)}, hidden=True),
    ])
    walk = html.Div([
        dbc.Label("Walk it away: data radii out along the ray from the training digits' centre", html_for=ids.MNIST_WALK,
                  className="small fw-semibold mb-0"),
        dcc.Slider(id=ids.MNIST_WALK, min=0, max=MAX_T, step=0.1, value=0, updatemode="mouseup",
                   marks={int(v): f"{v:g}" for v in range(0, int(MAX_T) + 1, 2)}, allow_direct_input=False),
    ])
    exports = html.Div([
        html.Span("Save the image: ", className="small text-muted me-1"),
        dbc.Button("PNG 28x28", id=ids.MNIST_EXPORT_PNG, size="sm", outline=True, color="secondary", className="me-1"),
        dbc.Button("PNG 280x280", id=ids.MNIST_EXPORT_PNG_LARGE, size="sm", outline=True, color="secondary",
                   className="me-1"),
        dbc.Button("JSON", id=ids.MNIST_EXPORT_JSON, size="sm", outline=True, color="secondary"),
        html.Span(" (your digit's, when there is one; else the clicked point's)", className="small text-muted"),
        dcc.Download(id=ids.MNIST_DOWNLOAD),
    ], className="mt-2")
    return dbc.Card(dbc.CardBody([
        markup([html.H2("Your own digit", className="h5"), html.P(PREPROCESSING, className="small text-muted mb-2")]),
        dbc.Row([
            dbc.Col(pad, xs=6, md=3, className="mb-2"),
            dbc.Col(upload, xs=6, md=3, className="mb-2"),
            dbc.Col([Digit(id=ids.MNIST_OWN_IMAGE, digit=state.own_blank_digit, className="digit-small"), walk],
                    xs=12, md=6, className="mb-2"),
        ]),
        html.Div(html.P(OWN_IDLE, className="text-muted small"), id=ids.MNIST_OWN_RESULT, className="own-result",
                 **{"aria-live": "polite"}),
        exports,
        dcc.Store(id=ids.MNIST_OWN), PointStore(id=ids.MNIST_OWN_MARKS, graphs=[ids.MNIST_MAP, ids.MNIST_RBF_MAP],
                   fields={"own": "own", "walked": "walked"}, group="own"), dcc.Store(id=ids.MNIST_DRAW_DATA),
        dcc.Store(id=ids.MNIST_UPLOAD_REJECTED),
    ]), className="mb-3 own-digit offscreen-lazy")


def layout(state: State):
    first = state.view("identity")
    text = explain(state)
    head = html.Thead(html.Tr([html.Th("network"), html.Th("held-out accuracy"), html.Th("RBF head"),
                               html.Th("essay")]))
    body = html.Tbody([html.Tr([html.Td(n), html.Td(f"{100 * acc:.1f}% of {n_test}"),
                                html.Td(f"{100 * rbf:.1f}%"),
                                html.Td(f"{100 * essay:.0f}%" if essay else "not reported")])
                       for n, acc, rbf, essay, n_test in state.accuracy_rows])
    presets = [dbc.Button(f"far {d}", id={"type": ids.MNIST_PRESET, "index": k}, size="sm", outline=True,
                          color="secondary", className="me-1 mb-1") for k, d in enumerate(first.labels)]
    controls = html.Div([
        dbc.RadioItems(id=ids.MNIST_NETWORK, value="identity", inline=True,
                       options=[{"label": _LABELS.get(n, n), "value": n} for n in state.networks]),
        html.Div([html.Span("Presets: ", className="small text-muted me-1")] + presets),
        dbc.Checkbox(id=ids.MNIST_VALID, label="keep pixels in [0, 1]", value=False, className="small"),
    ], className="d-flex flex-wrap align-items-center column-gap-4 row-gap-1 mb-2")
    height = "min(430px, 112vw)"
    null = html.Div([
        dbc.Label("Not unique: slide to add a digit the network cannot see", html_for=ids.MNIST_NULL,
                  className="small fw-semibold mb-0"),
        dcc.Slider(id=ids.MNIST_NULL, min=-NULL_MAX, max=NULL_MAX, step=NULL_STEP, value=0,
                   marks={int(v): f"{v:g}" for v in range(-int(NULL_MAX), int(NULL_MAX) + 1)},
                   updatemode="mouseup", allow_direct_input=False),
        html.Div(null_idle(), id=ids.MNIST_NULL_RESULT, className="small", **{"aria-live": "polite"}),
    ], className="mb-2")
    # what no callback reads or writes is static markup: one component each, not one per element
    # (every component is a store subscriber dash-renderer checks on each update of a click)
    return html.Div([
        markup([html.H1("MNIST: click the hidden plane, get an image", className="h3"), html.P(text[0])]),
        controls,
        dbc.Row([
            dbc.Col([graph(ids.MNIST_MAP, first.base_map, height=height), map_key(first.labels),
                     html.P(caption(state, "linear"), className="small text-muted mt-1 accuracy-linear")],
                    xs={"size": 12, "order": 1}, md={"size": 6, "order": 1}, lg={"size": 4, "order": 1},
                    className="mb-3"),
            dbc.Col([graph(ids.MNIST_RBF_MAP, first.rbf_map, height=height),
                     html.P(caption(state, "rbf"), className="small text-muted mt-1 accuracy-rbf")],
                    xs={"size": 12, "order": 3}, md={"size": 6, "order": 3}, lg={"size": 4, "order": 2},
                    className="mb-3"),
            dbc.Col([
                html.Div([Digit(id=ids.MNIST_IMAGE, digit=state.blank_digit),
                          html.Canvas(id=ids.MNIST_HOVER_IMAGE, width=28, height=28)], className="hover-box"),
                html.Div(HOVER_IDLE, id=ids.MNIST_HOVER, className="small mb-1", **{"aria-live": "off"}),
                null,
                # a click sets the block's tree (a prop), not new children
                html.Div(markup(html.P(IDLE, className="text-muted"), id=ids.MNIST_RESULT), **{"aria-live": "polite"}),
            ], xs={"size": 12, "order": 2}, md={"size": 6, "order": 2}, lg={"size": 4, "order": 3},
                className="mb-3"),
        ]),
        PointStore(id=ids.MNIST_POINT, graphs=[ids.MNIST_MAP, ids.MNIST_RBF_MAP]),
        dcc.Store(id=ids.MNIST_NULL_ASK),
        dcc.Store(id=ids.MNIST_HOVER_DATA, data={n: hover_data(state, n) for n in state.networks}),
        own_card(state),
        markup(section("Remedies, and what the outlines mean", *[html.P(t, className="mb-2") for t in remedy_text(state)],
                       html.P(text[1], className="small text-muted")), className="offscreen-lazy"),
        dbc.Row([
            dbc.Col(section("How they learned", graph(ids.MNIST_LOSS, state.loss_figure, height="320px")),
                    xs=12, md=6),
            dbc.Col(section(
                "What they learned from",
                markup(dbc.Table([head, body], size="sm", className="mb-2")),
                dcc.Graph(id=ids.MNIST_SAMPLES, figure=state.samples_figure, style={"height": "200px"},
                          config={"staticPlot": True}),
                lead="Held-out accuracy beside the RBF head's and the essay's, and real held-out "
                     "digits to compare with the inverted images."), xs=12, md=6),
        ], className="offscreen-lazy"),
    ])
