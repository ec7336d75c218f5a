"""/mnist — click anywhere in a network's 2-unit hidden plane and see the image it inverts to.

Everything per network (base map, presets, placeholder image) is built once per process
by the cached helpers below (keyed on the ``Resources`` object, hashed by identity, and a
network name; ``register`` fills them before the first request); a click only validates the point, inverts it (microseconds
for the affine identity net, tens of milliseconds for tanh) and sends ``Patch`` updates.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import dash_bootstrap_components as dbc
import numpy as np
from dash import ALL, Input, Output, Patch, State, ctx, dcc, html, no_update

from fooling.inversion import InversionError
from fooling.report import fooling_points

from .. import ids
from ..components import BadInput, graph, message, parse_click, probability_table, result_block, section
from ..figures import make_loss_figure, make_region_figure
from ..figures_mnist import blank_digit_figure, make_samples_figure, patch_digit

__all__ = ["NETWORKS", "PATH", "PRESET", "POINT", "layout", "register", "update_inversion"]

PATH = "/mnist"
NETWORKS = ("identity", "tanh")
PRESET = "mnist-preset"  # dict id {"type": PRESET, "index": k}: the far point of class k
POINT = "mnist-point"  # dcc.Store: {"network": name, "point": [x, y]} of the last inversion
NAMES = ("0", "1", "2", "3")
EXACT = 1e-6
"""Residual under which an inversion lands on the asked-for point."""

_LABELS = {"identity": "identity (unbounded plane)", "tanh": "tanh (bounded to (-1, 1)²)"}
_IDLE = "Click anywhere on the map (far from the dots too) or press a preset."
_BLANK_TITLE = "inverted image"


# ---- built once per process ------------------------------------------------------------

@lru_cache(maxsize=8)
def _far(res, name: str) -> tuple[dict, ...]:
    """:func:`fooling.report.fooling_points` of network ``name``, one per digit."""
    return tuple(fooling_points(res.hidden_plane(name).model))


@lru_cache(maxsize=8)
def _base(res, name: str):
    """The map of network ``name`` (with the index of its 'clicked' trace)."""
    hp = res.hidden_plane(name)
    m = hp.model
    labels = np.searchsorted(m.net.classes, m.split.y_test)
    fig = make_region_figure(
        hp.grid, NAMES, points=m.test_hidden, labels=labels, half=hp.grid.contours(0.5),
        title=f"{name.capitalize()} net",
        axis_titles=("hidden unit 1", "hidden unit 2"), uirevision=f"mnist-{name}")
    return fig, len(fig.data) - 1


@lru_cache(maxsize=1)
def _blank():
    """The image placeholder (a digit figure with nothing in it yet)."""
    return blank_digit_figure(_BLANK_TITLE)


@lru_cache(maxsize=4)
def _static(res):
    """Loss curves, accuracies, sample digits and the explanation (network-independent)."""
    planes = {n: res.hidden_plane(n) for n in NETWORKS}
    loss = make_loss_figure({f"{n} net": planes[n].model.trained.loss_curve for n in NETWORKS},
                            title="Training loss (essay figs 6-7)")
    loss.update_layout(legend=dict(y=-0.3), margin=dict(b=80))  # clear of the axis title
    loss.update_yaxes(dtick="D2", tickformat=".1f")
    split = planes["identity"].model.split
    picks = [np.flatnonzero(split.y_test == int(d))[:2] for d in NAMES]
    tiles = np.stack([[split.X_test[p[i]] for p in picks] for i in range(2)])
    samples = make_samples_figure(tiles, NAMES)
    rows = [(n, planes[n].model.trained.test_accuracy, res.essay.get(n, {}).get("accuracy"),
             len(planes[n].model.split.y_test)) for n in NETWORKS]
    return loss, samples, rows, _explain(res)


def _certainty(p: float) -> str:
    """How sure ``p`` is, readable when it rounds to 100%."""
    gap = 1.0 - p
    nb = "\u00a0"  # keep the inequality on one line
    text = "P = 1 to machine precision" if gap <= 0 else f"P ≥ 1 − {gap:.0e}" if gap < 5e-5 else f"P ≥ {p:.4f}"
    return text.replace(" ", nb)


def _explain(res) -> tuple[str, str]:
    """(what the map shows, what the tanh net changes): 4 sentences, numbers from the models."""
    ident = min(f.get("probability", 0.0) for f in _far(res, "identity"))
    caps = [(f["label"], f["max_confidence"]) for f in _far(res, "tanh") if "max_confidence" in f]
    lo, hi = min(caps, key=lambda c: c[1]), max(caps, key=lambda c: c[1])
    return (
        "Each dot is a held-out digit, placed where the network's two-unit last hidden layer puts it; "
        "the colour behind is the digit the network predicts at that point (pale: unsure; black "
        "lines: P = 1/2). The regions run on far beyond the data: click anywhere and the point is "
        "inverted into a 28x28 image that re-propagates to exactly that point. Far out, the identity "
        f"net is certain that image is a digit (its four far presets: {_certainty(ident)}), though "
        "it looks like nothing of the kind.",
        "The tanh net squeezes its hidden plane into the square (-1, 1)², and that caps its "
        f"confidence: no digit gets more than {100 * hi[1]:.1f}% anywhere in the square (a {hi[0]}), "
        f"a {lo[0]} at most {100 * lo[1]:.1f}%.",
    )


# ---- layout -----------------------------------------------------------------------------

def layout(res):
    loss, samples, rows, text = _static(res)
    fig, _ = _base(res, "identity")
    head = html.Thead(html.Tr([html.Th("network"), html.Th("held-out accuracy"), html.Th("essay")]))
    body = html.Tbody([html.Tr([html.Td(n), html.Td(f"{100 * acc:.1f}% of {n_test}"),
                                html.Td(f"{100 * essay:.0f}%" if essay else "not reported")])
                       for n, acc, essay, n_test in rows])
    presets = [dbc.Button(f"far {d}", id={"type": PRESET, "index": k}, size="sm", outline=True,
                          color="secondary", className="me-1 mb-1") for k, d in enumerate(NAMES)]
    controls = html.Div([
        dbc.RadioItems(id=ids.MNIST_NETWORK, value="identity", inline=True, className="mb-1",
                       options=[{"label": _LABELS[n], "value": n} for n in NETWORKS]),
        html.Div([html.Span("Presets: ", className="small text-muted me-1")] + presets),
        dbc.Checkbox(id=ids.MNIST_VALID, label="keep pixels in [0, 1]", value=False, className="small"),
    ], className="mb-2")
    return html.Div([
        html.H1("MNIST: click the hidden plane, get an image", className="h3"),
        html.P(text[0]),
        dbc.Row([
            dbc.Col([controls, graph(ids.MNIST_MAP, fig, height="520px"),
                     html.P(text[1], className="small text-muted mt-1")], xs=12, lg=7, className="mb-3"),
            dbc.Col([
                dcc.Loading(dcc.Graph(id=ids.MNIST_IMAGE, figure=_blank(), style={"height": "260px"},
                                      config={"displayModeBar": False}), type="circle", delay_show=300),
                html.Div(html.P(_IDLE, className="text-muted"), id=ids.MNIST_RESULT, **{"aria-live": "polite"}),
            ], xs=12, lg=5, className="mb-3"),
        ]),
        dcc.Store(id=POINT),
        dbc.Row([
            dbc.Col(section("How they learned", graph(ids.MNIST_LOSS, loss, height="320px")), xs=12, md=6),
            dbc.Col(section(
                "What they learned from",
                dbc.Table([head, body], size="sm", className="mb-2"),
                dcc.Graph(id=ids.MNIST_SAMPLES, figure=samples, style={"height": "200px"},
                          config={"staticPlot": True}),
                lead="Held-out accuracy beside the essay's, and real held-out digits to compare "
                     "with the inverted images."), xs=12, md=6),
        ]),
    ])


# ---- the click --------------------------------------------------------------------------

def _network(value: Any) -> str:
    if not isinstance(value, str) or value not in NETWORKS:
        shown = repr(value) if len(repr(value)) < 40 else repr(value)[:37] + "..."
        raise BadInput(f"Unknown network {shown}: choose identity or tanh.")
    return value


def _valid(value: Any) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise BadInput("'keep pixels in [0, 1]' must be on or off.")
    return value


def _stored_point(point: Any) -> tuple[str, tuple[float, float]] | None:
    if point is None:
        return None
    if not isinstance(point, dict) or not isinstance(point.get("point"), (list, tuple)) \
            or len(point["point"]) != 2:
        raise BadInput("The remembered point is not a point; click the map again.")
    name = _network(point.get("network"))
    x, y = parse_click({"points": [{"x": point["point"][0], "y": point["point"][1]}]})
    return name, (x, y)


def _preset(res, name: str, index: Any) -> tuple[float, float]:
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(NAMES):
        raise BadInput("There are four presets, far 0 to far 3.")
    entry = _far(res, name)[index]
    return float(entry["hidden"][0]), float(entry["hidden"][1])


def _fmt(p) -> str:
    return f"({p[0]:.4g}, {p[1]:.4g})"


def _result(res, name: str, point: tuple[float, float], valid: bool):
    """(image patch, result children) for the inversion of ``point``."""
    hp = res.hidden_plane(name)
    try:
        r = hp.model.inverter.invert(np.array(point), valid=valid)
    except InversionError as exc:
        if hp.bounded:
            lo, hi = hp.model.inverter.codomain
            text = (f"The tanh net cannot reach {_fmt(point)}: its hidden units only take values "
                    f"strictly between {lo:g} and {hi:g}, so no image lands there. Click inside the square.")
        else:
            text = f"No image for {_fmt(point)}: {exc}."
        return patch_digit(None, title="no image"), message(text, "info")
    labels = [str(c) for c in hp.model.net.classes]
    k = int(np.argmax(r.proba))
    dist = float(np.linalg.norm(np.asarray(point) - hp.centroid)) / hp.radius
    facts = html.Ul([
        html.Li(f"clicked (target) hidden point: {_fmt(r.target)}, {dist:.2f} data radii from the "
                "held-out digits' centre"),
        html.Li(f"the image re-propagates to {_fmt(r.hidden)}; residual {r.residual:.2e}"),
        html.Li(f"pixels range from {r.pixel_min:.3f} to {r.pixel_max:.3f}"),
    ], className="small mb-2 ps-3")
    notes = []
    if r.residual > EXACT:
        what = "No image with pixels in [0, 1] reaches" if valid else "The inversion did not reach"
        notes.append(message(f"{what} this point exactly: the nearest image lands at {_fmt(r.hidden)}, "
                             f"{r.residual:.3g} away; the prediction is for that image.", "secondary"))
    if not r.in_range:
        notes.append(message(f"Not a valid image: pixels range from {r.pixel_min:.3f} to "
                             f"{r.pixel_max:.3f}, outside [0, 1].", "warning"))
    title = "nearest image with pixels in [0, 1]" if valid else _BLANK_TITLE
    children = result_block(labels[k], r.confidence, *notes, probability_table(labels, r.proba, k), facts)
    return patch_digit(r.image, title=title), children


def update_inversion(res, network: Any, trigger: str, *, click_data: Any = None, preset: Any = None,
                     valid: Any = False, point: Any = None) -> tuple:
    """Everything the page shows after ``trigger``; never raises for bad input.

    Parameters
    ----------
    res : app.resources.Resources
    network : any
        The network toggle's value (``identity`` or ``tanh``; anything else is a message).
    trigger : {'network', 'click', 'preset', 'valid'}
        What changed.
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
        name = _network(network)
        if trigger == "network":
            fig, _ = _base(res, name)
            return fig, _blank(), html.P(_IDLE, className="text-muted"), None
        pixels_valid = _valid(valid)
        if trigger == "click":
            xy = parse_click(click_data)
        elif trigger == "preset":
            xy = _preset(res, name, preset)
        elif trigger == "valid":
            stored = _stored_point(point)
            if stored is None or stored[0] != name:
                return no_update, no_update, no_update, no_update
            xy = stored[1]
        else:
            return no_update, no_update, no_update, no_update
    except BadInput as exc:
        return no_update, no_update, message(str(exc)), no_update
    image, children = _result(res, name, xy, pixels_valid)
    marker = Patch()
    _, last = _base(res, name)
    marker["data"][last]["x"] = [xy[0]]
    marker["data"][last]["y"] = [xy[1]]
    return marker, image, children, {"network": name, "point": [xy[0], xy[1]]}


def register(app, res):
    for name in NETWORKS:  # build before the first request (and before gunicorn forks)
        _base(res, name)
    _static(res)
    _blank()

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
