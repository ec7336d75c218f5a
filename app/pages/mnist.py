"""/mnist — click anywhere in a network's 2-unit hidden plane and see the image it inverts to.

Two maps of the same plane: the network's own linear head and an RBF-kernel head fitted
on the same hidden encodings (the first remedy). Both show the region images with
pixels in [0, 1] can reach, and a density check's 'typical' line (the second remedy).
A click on either map inverts the point; a slider moves the image along directions the
network cannot see (the inverse is not unique); every click gets density verdicts.

Everything per network (maps, grids, heads, polygons, density checks, null-space
directions, presets) is built once per process by the cached helpers in
:mod:`app.mnist_view` (keyed on the ``Resources`` object, hashed by identity, and plain
values; ``register`` fills them before the first request); result blocks come from
:mod:`app.mnist_results`; a click only validates the point, inverts it (microseconds
for the affine identity net, tens of milliseconds for tanh) and sends ``Patch`` updates.
The browser keeps only the clicked point (a ``dcc.Store``); the slider recomputes the
image from it.
"""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, ctx, dcc, html, no_update

from fooling.inversion import InversionError

from .. import ids
from .. import mnist_results as results
from .. import mnist_view as view
from ..components import BadInput, graph, link_zoom, message, parse_click, section
from ..mnist_view import NAMES, NETWORKS, NULL_MAX, NULL_STEP

__all__ = ["NETWORKS", "NULL_MAX", "NULL_RESULT", "PATH", "PRESET", "POINT", "layout", "register",
           "update_inversion", "update_marks", "update_null"]

PATH = "/mnist"
PRESET = "mnist-preset"  # dict id {"type": PRESET, "index": k}: the far point of class k
POINT = "mnist-point"  # dcc.Store: {"network": name, "point": [x, y]} of the last inversion
NULL_RESULT = "mnist-null-result"  # what the null-space slider did to the image

_LABELS = {"identity": "identity (unbounded plane)", "tanh": "tanh (bounded to (-1, 1)²)"}
_IDLE = "Click anywhere on either map (far from the dots too) or press a preset."


# ---- layout -----------------------------------------------------------------------------

def layout(res):
    loss, samples, rows, text = view.static_parts(res)
    fig, _ = view.base_map(res, "identity")
    rbf, _ = view.rbf_map(res, "identity")
    remedies = view.remedy_text(res)
    head = html.Thead(html.Tr([html.Th("network"), html.Th("held-out accuracy"), html.Th("RBF head"),
                               html.Th("essay")]))
    body = html.Tbody([html.Tr([html.Td(n), html.Td(f"{100 * acc:.1f}% of {n_test}"),
                                html.Td(f"{100 * view.remedies(res, n).head_accuracy:.1f}%"),
                                html.Td(f"{100 * essay:.0f}%" if essay else "not reported")])
                       for n, acc, essay, n_test in rows])
    presets = [dbc.Button(f"far {d}", id={"type": PRESET, "index": k}, size="sm", outline=True,
                          color="secondary", className="me-1 mb-1") for k, d in enumerate(NAMES)]
    controls = html.Div([
        dbc.RadioItems(id=ids.MNIST_NETWORK, value="identity", inline=True,
                       options=[{"label": _LABELS[n], "value": n} for n in NETWORKS]),
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
        html.Div(results.null_idle(), id=NULL_RESULT, className="small", **{"aria-live": "polite"}),
    ], className="mb-2")
    return html.Div([
        html.H1("MNIST: click the hidden plane, get an image", className="h3"),
        html.P(text[0]),
        controls,
        dbc.Row([
            dbc.Col([graph(ids.MNIST_MAP, fig, height=height), view.map_key(),
                     html.P(view.caption(res, "linear"), className="small text-muted mt-1 accuracy-linear")],
                    xs={"size": 12, "order": 1}, md={"size": 6, "order": 1}, lg={"size": 4, "order": 1},
                    className="mb-3"),
            dbc.Col([graph(ids.MNIST_RBF_MAP, rbf, height=height),
                     html.P(view.caption(res, "rbf"), className="small text-muted mt-1 accuracy-rbf")],
                    xs={"size": 12, "order": 3}, md={"size": 6, "order": 3}, lg={"size": 4, "order": 2},
                    className="mb-3"),
            dbc.Col([
                dcc.Loading(dcc.Graph(id=ids.MNIST_IMAGE, figure=view.blank_figure(), style={"height": "250px"},
                                      config={"displayModeBar": False}), type="circle", delay_show=300),
                null,
                html.Div(html.P(_IDLE, className="text-muted"), id=ids.MNIST_RESULT, **{"aria-live": "polite"}),
            ], xs={"size": 12, "order": 2}, md={"size": 6, "order": 2}, lg={"size": 4, "order": 3},
                className="mb-3"),
        ]),
        dcc.Store(id=POINT),
        section("Remedies, and what the outlines mean", *[html.P(t, className="mb-2") for t in remedies],
                html.P(text[1], className="small text-muted")),
        dbc.Row([
            dbc.Col(section("How they learned", graph(ids.MNIST_LOSS, loss, height="320px")), xs=12, md=6),
            dbc.Col(section(
                "What they learned from",
                dbc.Table([head, body], size="sm", className="mb-2"),
                dcc.Graph(id=ids.MNIST_SAMPLES, figure=samples, style={"height": "200px"},
                          config={"staticPlot": True}),
                lead="Held-out accuracy beside the RBF head's and the essay's, and real held-out "
                     "digits to compare with the inverted images."), xs=12, md=6),
        ]),
    ])


# ---- callbacks (plain functions, testable without a browser) ------------------------------

def update_inversion(res, network: Any, trigger: str, *, click_data: Any = None, preset: Any = None,
                     valid: Any = False, point: Any = None) -> tuple:
    """Everything the page shows after ``trigger``; never raises for bad input.

    Parameters
    ----------
    res : app.resources.Resources
    network : any
        The network toggle's value (``identity`` or ``tanh``; anything else is a message).
    trigger : {'network', 'click', 'preset', 'valid'}
        What changed. A click on the RBF map arrives as a click on the linear map.
    click_data : any
        The map's ``clickData`` (for ``click``).
    preset : any
        The preset's index 0-3 (for ``preset``).
    valid : any
        The checkbox: keep pixels in [0, 1].
    point : any
        The remembered ``{"network", "point"}`` (for ``valid``).

    Returns
    -------
    (map figure or Patch, image figure or Patch, result children, remembered point)
        ``dash.no_update`` where nothing changes.
    """
    try:
        name = view.check_network(network)
        if trigger == "network":
            fig, _ = view.base_map(res, name)
            return fig, view.blank_figure(), html.P(_IDLE, className="text-muted"), None
        pixels_valid = view.check_valid(valid)
        if trigger == "click":
            xy = parse_click(click_data)
        elif trigger == "preset":
            xy = view.check_preset(res, name, preset)
        elif trigger == "valid":
            stored = view.check_stored_point(point)
            if stored is None or stored[0] != name:
                return no_update, no_update, no_update, no_update
            xy = stored[1]
        else:
            return no_update, no_update, no_update, no_update
    except BadInput as exc:
        return no_update, no_update, message(str(exc)), no_update
    image, children = results.point_result(res, name, xy, pixels_valid)
    return view.click_patch(res, name, xy), image, children, {"network": name, "point": [xy[0], xy[1]]}


def update_marks(res, network: Any, point: Any, valid: Any, current: Any, network_changed: bool) -> tuple:
    """The maps' markers and the slider after the remembered point (or the network) changed.

    Parameters
    ----------
    network, point, valid : any
        As in :func:`update_inversion`.
    current : any
        The slider's value now (reset to 0 unless it is 0 already).
    network_changed : bool
        The network toggle triggered: the RBF map gets that network's whole figure.

    Returns
    -------
    (RBF map figure or Patch, linear map Patch, slider value)
        ``dash.no_update`` where nothing changes; never raises for bad input.
    """
    reset = no_update if current == 0 and not isinstance(current, bool) else 0
    try:
        name = view.check_network(network)
        if network_changed:
            return view.rbf_map(res, name)[0], no_update, reset
        stored = view.check_stored_point(point)
        pixels_valid = view.check_valid(valid)
    except BadInput:
        return no_update, no_update, reset
    if stored is None or stored[0] != name:
        return no_update, no_update, reset
    xy = stored[1]
    try:
        near = view.nearest(res, name, xy, pixels_valid)
    except InversionError:
        near = None
    rbf, linear = view.marker_patches(res, name, xy, near)
    return rbf, linear, reset


def update_null(res, value: Any, network: Any, valid: Any, point: Any) -> tuple:
    """The remembered point's image moved ``value`` along the null space, and what it does.

    The base inversion is recomputed from the remembered point (the browser keeps the
    point, not the image); the moved image's hidden point, residual and predictions
    are computed by propagating the moved image forward, not assumed.

    Returns
    -------
    (image Patch or no_update, children of :data:`NULL_RESULT`); never raises for bad input.
    """
    try:
        t = view.check_shift(value)
        name = view.check_network(network)
        pixels_valid = view.check_valid(valid)
        stored = view.check_stored_point(point)
    except BadInput as exc:
        return no_update, message(str(exc))
    if stored is None or stored[0] != name:
        return no_update, (results.null_idle() if t == 0 else
                           message("Click the map (or press a preset) first: the slider moves that "
                                   "point's image.", "info"))
    try:
        r, near = view.invert(res, name, stored[1], pixels_valid)
    except InversionError:
        return no_update, (results.null_idle() if t == 0 else
                           message("No image reaches this point, so there is nothing to move.", "info"))
    return results.moved_result(res, name, r, t, stored[1], view.image_title(pixels_valid, near))


# ---- registration -----------------------------------------------------------------------

# A click on the RBF map is relayed as a click on the linear map: one inversion callback.
_RELAY_JS = """
function(click) {
    const nu = window.dash_clientside.no_update;
    if (!click || !Array.isArray(click.points) || !click.points.length) { return nu; }
    const p = click.points[0];
    return {points: [{x: p.x, y: p.y}]};
}
"""

def register(app, res):
    for name in NETWORKS:  # build before the first request (and before gunicorn forks)
        view.base_map(res, name)
        view.rbf_map(res, name)
    view.image_check(res)
    view.static_parts(res)
    view.remedy_text(res)
    view.blank_figure()

    @app.callback(
        Output(ids.MNIST_MAP, "figure"), Output(ids.MNIST_IMAGE, "figure"),
        Output(ids.MNIST_RESULT, "children"), Output(POINT, "data"),
        Input(ids.MNIST_NETWORK, "value"), Input(ids.MNIST_MAP, "clickData"),
        Input({"type": PRESET, "index": ALL}, "n_clicks"), Input(ids.MNIST_VALID, "value"),
        State(POINT, "data"), prevent_initial_call=True)
    def update_mnist(network, click_data, _presets, valid, point):
        trigger, preset = "none", None
        try:
            tid = ctx.triggered_id
        except Exception:  # a malformed changedPropIds: treat as no trigger
            tid = None
        if tid == ids.MNIST_NETWORK:
            trigger = "network"
        elif tid == ids.MNIST_MAP:
            trigger = "click"
        elif tid == ids.MNIST_VALID:
            trigger = "valid"
        elif isinstance(tid, dict) and tid.get("type") == PRESET:
            trigger, preset = "preset", tid.get("index")
        return update_inversion(res, network, trigger, click_data=click_data, preset=preset,
                                valid=valid, point=point)

    @app.callback(
        Output(ids.MNIST_RBF_MAP, "figure"), Output(ids.MNIST_MAP, "figure", allow_duplicate=True),
        Output(ids.MNIST_NULL, "value"),
        Input(POINT, "data"), Input(ids.MNIST_NETWORK, "value"), Input(ids.MNIST_VALID, "value"),
        State(ids.MNIST_NULL, "value"), prevent_initial_call=True)
    def update_mnist_marks(point, network, valid, current):
        try:
            changed = f"{ids.MNIST_NETWORK}.value" in ctx.triggered_prop_ids
        except Exception:  # a malformed changedPropIds
            changed = False
        return update_marks(res, network, point, valid, current, changed)

    @app.callback(
        Output(ids.MNIST_IMAGE, "figure", allow_duplicate=True), Output(NULL_RESULT, "children"),
        Input(ids.MNIST_NULL, "value"), State(ids.MNIST_NETWORK, "value"), State(ids.MNIST_VALID, "value"),
        State(POINT, "data"), prevent_initial_call=True)
    def update_mnist_null(value, network, valid, point):
        return update_null(res, value, network, valid, point)

    app.clientside_callback(_RELAY_JS, Output(ids.MNIST_MAP, "clickData"),
                            Input(ids.MNIST_RBF_MAP, "clickData"), prevent_initial_call=True)
    link_zoom(app, ids.MNIST_MAP, ids.MNIST_RBF_MAP)
