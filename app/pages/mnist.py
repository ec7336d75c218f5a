"""/mnist — click anywhere in a network's 2-unit hidden plane and see the image it inverts to.

Two maps of the same plane: the network's own linear head and an RBF-kernel head fitted
on the same hidden encodings (the first remedy). Both show the region images with
pixels in [0, 1] can reach, and a density check's 'typical' line (the second remedy).
A click on either map inverts the point; a slider moves the image along directions the
network cannot see (the inverse is not unique); every click gets density verdicts.

Everything per network (maps, grids, heads, polygons, density checks, null-space
directions, presets) is built once per process by the cached helpers below (keyed on
the ``Resources`` object, hashed by identity, and plain values; ``register`` fills them
before the first request); a click only validates the point, inverts it (microseconds
for the affine identity net, tens of milliseconds for tanh) and sends ``Patch`` updates.
The browser keeps only the clicked point (a ``dcc.Store``); the slider recomputes the
image from it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import dash_bootstrap_components as dbc
import numpy as np
from dash import ALL, Input, Output, Patch, State, ctx, dcc, html, no_update

from fooling.density import DensityCheck, ImageDensityCheck
from fooling.inversion import InversionError
from fooling.network import forward
from fooling.reachable import (contains, estimate_reachable, nearest_reachable, null_space_basis, reachable_polygon,
                               support_corner)
from fooling.regions import contour_segments, evaluate_grid
from fooling.report import fooling_points

from .. import ids
from ..components import BadInput, graph, message, parse_click, result_block, section
from ..figures import CLASS_COLORS, make_loss_figure
from ..figures_mnist import NEAREST, blank_digit_figure, make_hidden_map_figure, make_samples_figure, patch_digit

__all__ = ["NETWORKS", "NULL_MAX", "NULL_RESULT", "PATH", "PRESET", "POINT", "layout", "register",
           "update_inversion", "update_marks", "update_null"]

PATH = "/mnist"
NETWORKS = ("identity", "tanh")
PRESET = "mnist-preset"  # dict id {"type": PRESET, "index": k}: the far point of class k
POINT = "mnist-point"  # dcc.Store: {"network": name, "point": [x, y]} of the last inversion
NAMES = ("0", "1", "2", "3")
EXACT = 1e-6
"""Residual under which an inversion lands on the asked-for point."""

NULL_RESULT = "mnist-null-result"  # what the null-space slider did to the image
NULL_MAX = 2.0
"""The slider runs over [-NULL_MAX, NULL_MAX]: how strongly the hidden digit is added."""
NULL_STEP = 0.1
REACH_NAMES = {"identity": "valid images reach", "tanh": "valid images reach (estimated)"}
"""Name of the reachable-region outline on each network's maps."""
TYPICAL_NAME = "typical (density check)"
FAR_RADII = 1e3
"""Where 'far from the data' is measured for the RBF head: this many data radii out."""
DIRECTIONS = 256
"""Directions searched for extreme valid images when estimating the tanh net's reachable region."""

_LABELS = {"identity": "identity (unbounded plane)", "tanh": "tanh (bounded to (-1, 1)²)"}
_IDLE = "Click anywhere on either map (far from the dots too) or press a preset."
_BLANK_TITLE = "inverted image"


# ---- built once per process ------------------------------------------------------------

@lru_cache(maxsize=8)
def _far(res, name: str) -> tuple[dict, ...]:
    """:func:`fooling.report.fooling_points` of network ``name``, one per digit."""
    return tuple(fooling_points(res.hidden_plane(name).model))


@dataclass(frozen=True)
class Remedies:
    """What the remedies need for one network, computed once.

    Attributes
    ----------
    head : fooling.heads.RBFHead
        The RBF head on the network's hidden plane.
    head_accuracy : float
        Its held-out accuracy (encoder, then head).
    polygon : ndarray of shape (m, 2)
        Counter-clockwise vertices of the region valid images reach.
    exact : bool
        True for the exact polygon (affine network), False for an estimate.
    density : fooling.density.DensityCheck
        Fitted on the training encodings.
    typical : ndarray of shape (n_segments, 2, 2)
        The density check's threshold contour on the map's grid.
    null_dim : int
        Dimension of the image directions that change nothing downstream.
    directions : ndarray of shape (n_classes, n_inputs)
        Per class, a held-out digit of that class projected onto those directions,
        scaled to a largest pixel of 1.
    """

    head: Any
    head_accuracy: float
    polygon: np.ndarray
    exact: bool
    density: DensityCheck
    typical: np.ndarray
    null_dim: int
    directions: np.ndarray


@lru_cache(maxsize=8)
def _remedies(res, name: str) -> Remedies:
    hp = res.hidden_plane(name)
    m = hp.model
    inv = m.inverter
    head = m.rbf_head  # fit_rbf_head(m), once per process (shared with the metrics)
    accuracy = head.score_images(m.split.X_test, m.split.y_test)
    if inv.affine_:
        polygon, exact = reachable_polygon(inv.A_, inv.c_, *inv.pixel_range), True
        seen = inv.A_  # the whole input -> hidden map: d @ A = 0 changes no hidden point
    else:
        polygon, exact = estimate_reachable(inv, DIRECTIONS), False
        seen = m.net.layers[0].W  # d @ W1 = 0 changes nothing after the first layer, any activation
    density = DensityCheck().fit(m.train_hidden)
    gx, gy = np.meshgrid(hp.grid.xs, hp.grid.ys)
    logd = density.log_density(np.column_stack([gx.ravel(), gy.ravel()])).reshape(gx.shape)
    level = np.quantile(density.train_log_density_, density.threshold_percentile / 100)
    typical = contour_segments(logd, hp.grid.xs, hp.grid.ys, float(level))
    basis = null_space_basis(seen)
    X, y = m.split.X_test, m.split.y_test
    directions = []
    for label in m.net.classes:
        pick = X[y == label]
        v = pick[np.argmin(np.linalg.norm(pick - pick.mean(axis=0), axis=1))]  # a typical one
        d = basis @ (basis.T @ v)
        directions.append(d / np.abs(d).max())
    return Remedies(head, float(accuracy), polygon, exact, density, typical, int(basis.shape[1]),
                    np.array(directions))


@lru_cache(maxsize=2)
def _image_check(res) -> ImageDensityCheck:
    """The image density check, fitted on the training images (shared by both networks)."""
    return ImageDensityCheck().fit(res.hidden_plane("identity").model.split.X_train)


def _map(res, name: str, grid, title: str, uirevision: str):
    hp = res.hidden_plane(name)
    m, rem = hp.model, _remedies(res, name)
    labels = np.searchsorted(m.net.classes, m.split.y_test)
    fig = make_hidden_map_figure(
        grid, NAMES, reachable=rem.polygon, reachable_name=REACH_NAMES[name], typical=rem.typical,
        typical_name=TYPICAL_NAME, points=m.test_hidden, labels=labels, half=grid.contours(0.5),
        title=title, axis_titles=("hidden unit 1", "hidden unit 2"), uirevision=uirevision)
    # the key is one line of HTML under the maps (a plotly legend would take half of a narrow map);
    # the title sits just above the plot area, clear of the mode bar
    fig.update_layout(showlegend=False, margin=dict(l=48, r=8, t=58, b=42),
                      title=dict(x=0, xref="paper", y=1, yref="paper", yanchor="bottom", pad=dict(b=6),
                                 font=dict(size=14)))
    return fig, len(fig.data) - 1


@lru_cache(maxsize=8)
def _base(res, name: str):
    """The linear head's map of network ``name`` (with the index of its 'clicked' trace)."""
    return _map(res, name, res.hidden_plane(name).grid, f"{name.capitalize()} net: linear head",
                f"mnist-{name}")


@lru_cache(maxsize=8)
def _rbf_base(res, name: str):
    """The RBF head's map of network ``name``: same plane, bounds and held-out points."""
    hp = res.hidden_plane(name)
    grid = evaluate_grid(_remedies(res, name).head.predict_proba, hp.bounds, res.grid)
    return _map(res, name, grid, f"{name.capitalize()} net: RBF head", f"mnist-rbf-{name}")


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


def _area(polygon: np.ndarray) -> float:
    x, y = np.asarray(polygon, dtype=float).T
    return 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))


@lru_cache(maxsize=4)
def _remedy_text(res) -> tuple[str, ...]:
    """Four paragraphs on the remedies and the outlines, numbers from the models."""
    hp = {n: res.hidden_plane(n) for n in NETWORKS}
    rem = {n: _remedies(res, n) for n in NETWORKS}
    ident, tanh = rem["identity"], rem["tanh"]
    far = hp["identity"].centroid + np.array([FAR_RADII * hp["identity"].radius, 0.0])
    p_far = ident.head.predict_proba(far[None, :])[0]
    k = int(np.argmax(p_far))
    lin_acc = hp["identity"].model.trained.test_accuracy

    def share(n):
        x0, x1, y0, y1 = hp[n].bounds
        pct = 100 * _area(rem[n].polygon) / ((x1 - x0) * (y1 - y0))
        return "practically all" if pct >= 99.95 else f"{pct:.1f}%" if n == "tanh" else f"{pct:.0f}%"

    outside = sum(not contains(ident.polygon, np.array(f["hidden"])) for f in _far(res, "identity"))
    presets = ("none of the four far presets" if outside == 4 else
               f"{4 - outside} of the four far presets" if outside else "all four far presets")
    return (
        "The first remedy (the map titled 'RBF head'): keep the network up to its two hidden units and "
        "replace its linear output layer by an RBF-kernel SVM fitted on the training encodings. "
        f"Its held-out accuracy is {100 * ident.head_accuracy:.1f}% (the identity net's own head: "
        f"{100 * lin_acc:.1f}%), but far from the data every kernel term fades "
        f"and it gives one fixed, unsure answer everywhere: a {NAMES[k]} at {100 * p_far[k]:.1f}%. "
        "It still names a digit.",
        "The solid outline is where images with every pixel in [0, 1] can land: for the identity "
        f"net exactly the image of the pixel box under its affine map, a polygon of "
        f"{len(ident.polygon):,} corners covering {share('identity')} of the map and containing "
        f"{presets}. Any image landing outside it has impossible pixels. With 'keep pixels in "
        "[0, 1]' ticked, a click inside gets a valid image that lands exactly there; a click "
        "outside gets the nearest point valid images reach (◇) and its image. For the tanh net "
        f"the outline is an estimate (the extreme valid images found in {DIRECTIONS} directions); it "
        f"covers {share('tanh')} of the square.",
        "The inverse is not unique: the identity net maps 784 pixels to 2 numbers through one "
        f"affine map, so {ident.null_dim} independent directions change the image but not the "
        "hidden point (for the tanh net, the "
        f"{tanh.null_dim} directions its first layer ignores: nothing after it changes either). "
        "The slider adds one of them: a held-out digit with what the network can see of it "
        "removed. The picture changes; the hidden point and the prediction do not.",
        "The second remedy, a density check: Gaussian mixtures fitted to the training encodings "
        "and to the training images (784 pixels) say whether a point or an image is anything like "
        "the training data. The dashed line is where the check on the hidden plane changes its mind: "
        "outside it, a point is less typical than 99% of the training encodings. Every click gets "
        "both verdicts.",
    )


# ---- layout -----------------------------------------------------------------------------

def _caption(res, head: str) -> str:
    accs = {n: (_remedies(res, n).head_accuracy if head == "rbf"
                else res.hidden_plane(n).model.trained.test_accuracy) for n in NETWORKS}
    what = ("RBF head on the same two hidden units" if head == "rbf"
            else "Linear head (the network's own output layer)")
    return f"{what}. Held-out accuracy: " + ", ".join(f"{n} net {100 * a:.1f}%" for n, a in accs.items()) + "."


def _key() -> html.Div:
    """The maps' key (both maps draw the same marks)."""
    def line(text, style, color="#111", width="2px"):
        sample = html.Span(style={"display": "inline-block", "width": "1.4em", "verticalAlign": "middle",
                                  "borderTop": f"{width} {style} {color}"})
        return html.Span([sample, f" {text}"], className="me-2 text-nowrap d-inline-block")

    def mark(symbol, text):
        return html.Span([html.Strong(symbol), f" {text}"], className="me-2 text-nowrap d-inline-block")

    dots = html.Span([html.Span("●", style={"color": CLASS_COLORS[k]}) for k in range(len(NAMES))]
                     + [" held-out digits 0-3"], className="me-2 text-nowrap d-inline-block")
    return html.Div([dots, line("P = 1/2", "solid", width="1px"),
                     line("valid images reach (tanh: estimated)", "solid", width="2.5px"),
                     line("typical (density check)", "dashed", "#555"), mark("◇", "nearest reachable"),
                     mark("×", "clicked")], className="small map-key")


def layout(res):
    loss, samples, rows, text = _static(res)
    fig, _ = _base(res, "identity")
    rbf, _ = _rbf_base(res, "identity")
    remedies = _remedy_text(res)
    head = html.Thead(html.Tr([html.Th("network"), html.Th("held-out accuracy"), html.Th("RBF head"),
                               html.Th("essay")]))
    body = html.Tbody([html.Tr([html.Td(n), html.Td(f"{100 * acc:.1f}% of {n_test}"),
                                html.Td(f"{100 * _remedies(res, n).head_accuracy:.1f}%"),
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
        html.Div(_null_idle(), id=NULL_RESULT, className="small", **{"aria-live": "polite"}),
    ], className="mb-2")
    return html.Div([
        html.H1("MNIST: click the hidden plane, get an image", className="h3"),
        html.P(text[0]),
        controls,
        dbc.Row([
            dbc.Col([graph(ids.MNIST_MAP, fig, height=height), _key(),
                     html.P(_caption(res, "linear"), className="small text-muted mt-1 accuracy-linear")],
                    xs={"size": 12, "order": 1}, md={"size": 6, "order": 1}, lg={"size": 4, "order": 1},
                    className="mb-3"),
            dbc.Col([graph(ids.MNIST_RBF_MAP, rbf, height=height),
                     html.P(_caption(res, "rbf"), className="small text-muted mt-1 accuracy-rbf")],
                    xs={"size": 12, "order": 3}, md={"size": 6, "order": 3}, lg={"size": 4, "order": 2},
                    className="mb-3"),
            dbc.Col([
                dcc.Loading(dcc.Graph(id=ids.MNIST_IMAGE, figure=_blank(), style={"height": "250px"},
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


# ---- validation -------------------------------------------------------------------------

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


def _shift(value: Any) -> float:
    """The slider's value, checked: a finite number in [-NULL_MAX, NULL_MAX]."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or abs(value) > NULL_MAX + 1e-9:
        raise BadInput(f"The null-space slider runs from {-NULL_MAX:g} to {NULL_MAX:g}.")
    return float(value)


# ---- what a point shows -----------------------------------------------------------------

def _fmt(p) -> str:
    return f"({p[0]:.4g}, {p[1]:.4g})"


def _pct(p: float) -> str:
    return f"{100 * float(p):.2f}%"


def _nearest(res, name: str, point: tuple[float, float], valid: bool) -> tuple[float, float] | None:
    """The nearest point valid images reach, when ``valid`` and ``point`` lies outside that region.

    Raises
    ------
    InversionError
        ``point`` lies outside a bounded network's codomain (no image at all reaches it).
    """
    hp = res.hidden_plane(name)
    lo, hi = hp.model.inverter.codomain
    if not all(lo < v < hi for v in point):
        raise InversionError("outside the codomain")
    if not valid:
        return None
    polygon = _remedies(res, name).polygon
    if contains(polygon, np.asarray(point)):  # cheap; spares the slow infeasible box solve
        return None
    q = nearest_reachable(polygon, np.asarray(point, dtype=float))
    return float(q[0]), float(q[1])


def _title(valid: bool, near) -> str:
    """The image's title: which image is shown."""
    if not valid:
        return _BLANK_TITLE
    return "valid image, nearest reachable point" if near is not None else "image with pixels in [0, 1]"


def _invert(res, name: str, point: tuple[float, float], valid: bool):
    """(inversion shown for ``point``, the nearest reachable point used instead or None)."""
    near = _nearest(res, name, point, valid)
    inv = res.hidden_plane(name).model.inverter
    if near is None:
        return inv.invert(np.array(point), valid=valid), near
    # On the polygon's edge the valid images landing there are the box corner that pushes
    # furthest outward (towards the click) with the edge's few pixels adjusted: start there,
    # or the box solve crawls towards a degenerate solution.
    ref = support_corner(inv.A_, np.subtract(point, near), *inv.pixel_range) if inv.affine_ else None
    return inv.invert(np.array(near), valid=True, ref=ref), near


def _density_items(res, name: str, point, image: np.ndarray, *, with_point: bool = True) -> list:
    """Plain-words verdicts of the density checks, as list items."""
    items = []
    if with_point:
        check = _remedies(res, name).density
        pc = float(check.percentile(np.asarray(point, dtype=float)[None, :])[0])
        ok = bool(check.in_distribution(np.asarray(point, dtype=float)[None, :])[0])
        items.append(html.Li([html.Strong("Clicked point: " + ("in distribution" if ok else "out of distribution")),
                              f". Its log-density percentile among the training encodings is {pc:.1f} "
                              f"(the check rejects below {check.threshold_percentile:g})."]))
    check = _image_check(res)
    img = np.asarray(image, dtype=float)[None, :]
    pc = float(check.percentile(img)[0])
    ok = bool(check.in_distribution(img)[0])
    verdict = html.Strong("Image: " + ("in distribution" if ok else "out of distribution"))
    lo, hi = check.threshold_percentile, 100 - check.threshold_percentile
    if not np.isfinite(check.log_density(img)[0]):
        why = ": it has pixels outside [0, 1], which no training digit has."
    elif pc > hi:
        why = (f". Its log-density percentile among the training images is {pc:.1f}: more 'likely' "
               "than nearly every real digit, which in 784 dimensions means too plain to be one.")
    else:
        why = (f". Its log-density percentile among the training images is {pc:.1f} (the check "
               f"accepts {lo:g} to {hi:g}).")
    items.append(html.Li([verdict, why]))
    return items


def _heads_table(labels, linear: np.ndarray, rbf: np.ndarray) -> dbc.Table:
    """Both heads' class probabilities, each head's top class in bold."""
    kl, kr = int(np.argmax(linear)), int(np.argmax(rbf))
    rows = [html.Tr([html.Td(n), html.Td(_pct(p), style={"fontWeight": "bold"} if i == kl else {}),
                     html.Td(_pct(q), style={"fontWeight": "bold"} if i == kr else {})])
            for i, (n, p, q) in enumerate(zip(labels, linear, rbf))]
    return dbc.Table([html.Thead(html.Tr([html.Th("class"), html.Th("linear head"), html.Th("RBF head")])),
                      html.Tbody(rows)], size="sm", className="mb-1", bordered=False)


def _rbf_line(labels, rbf: np.ndarray) -> html.Div:
    k = int(np.argmax(rbf))
    return html.Div(["RBF head, same hidden point: ", html.Strong(labels[k]),
                     html.Span(f" ({_pct(rbf[k])})", className="confidence")], className="rbf-prediction")


def _result(res, name: str, point: tuple[float, float], valid: bool):
    """(image patch, result children) for the inversion of ``point``."""
    hp = res.hidden_plane(name)
    rem = _remedies(res, name)
    try:
        r, near = _invert(res, name, point, valid)
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
    rbf = rem.head.predict_proba(r.hidden)[0]
    dist = float(np.linalg.norm(np.asarray(point) - hp.centroid)) / hp.radius
    region = "the region valid images reach" + ("" if rem.exact else " (estimated)")
    if contains(rem.polygon, np.asarray(point)):
        reach = f"inside {region}"
    else:
        reach = f"outside {region}: " + ("every image landing there has pixels outside [0, 1]" if rem.exact
                                         else "no valid image found lands there")
    facts = [html.Li(f"clicked (target) hidden point: {_fmt(point)}, {dist:.2f} data radii from the "
                     f"held-out digits' centre; {reach}")]
    if near is not None:
        facts.append(html.Li(f"nearest point valid images reach: {_fmt(near)}, "
                             f"{math.dist(point, near):.3g} away (◇ on the maps)"))
    facts += [html.Li(f"the image re-propagates to {_fmt(r.hidden)}; residual {r.residual:.2e}"),
              html.Li(f"pixels range from {r.pixel_min:.3f} to {r.pixel_max:.3f}")]
    notes = []
    if near is not None:
        notes.append(message(f"No image with pixels in [0, 1] reaches this point: it lies outside the "
                             f"outlined {region.removeprefix('the ')}. Shown instead: a valid image "
                             f"landing on the nearest point they reach, {_fmt(near)} (◇); the "
                             "predictions are for that image.", "secondary"))
    if r.residual > EXACT:
        what = "No image with pixels in [0, 1] reaches" if valid else "The inversion did not reach"
        notes.append(message(f"{what} this point exactly: the nearest image lands at {_fmt(r.hidden)}, "
                             f"{r.residual:.3g} away; the prediction is for that image.", "secondary"))
    if not r.in_range:
        notes.append(message(f"Not a valid image: pixels range from {r.pixel_min:.3f} to "
                             f"{r.pixel_max:.3f}, outside [0, 1].", "warning"))
    density = html.Div([html.H3("Density check", className="h6 mt-2 mb-1"),
                        html.Ul(_density_items(res, name, point, r.image), className="small mb-1 ps-3")],
                       id=ids.MNIST_DENSITY)
    title = _title(valid, near)
    children = result_block(labels[k], r.confidence, _rbf_line(labels, rbf), *notes,
                            _heads_table(labels, r.proba, rbf), html.Ul(facts, className="small mb-2 ps-3"),
                            density)
    return patch_digit(r.image, title=title), children


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
        name = _network(network)
        if network_changed:
            return _rbf_base(res, name)[0], no_update, reset
        stored = _stored_point(point)
        pixels_valid = _valid(valid)
    except BadInput:
        return no_update, no_update, reset
    if stored is None or stored[0] != name:
        return no_update, no_update, reset
    xy = stored[1]
    try:
        near = _nearest(res, name, xy, pixels_valid)
    except InversionError:
        near = None
    nx, ny = near if near is not None else (None, None)
    rbf, linear = Patch(), Patch()
    last = _rbf_base(res, name)[1]
    rbf["data"][last]["x"], rbf["data"][last]["y"] = [xy[0]], [xy[1]]
    rbf["data"][last - 1]["x"], rbf["data"][last - 1]["y"] = [nx], [ny]
    last = _base(res, name)[1]
    linear["data"][last - 1]["x"], linear["data"][last - 1]["y"] = [nx], [ny]
    return rbf, linear, reset


def _null_idle() -> html.P:
    return html.P("Click a point, then move the slider: the image changes, its hidden point does not.",
                  className="text-muted mb-1")


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
        t = _shift(value)
        name = _network(network)
        pixels_valid = _valid(valid)
        stored = _stored_point(point)
    except BadInput as exc:
        return no_update, message(str(exc))
    if stored is None or stored[0] != name:
        return no_update, (_null_idle() if t == 0 else
                           message("Click the map (or press a preset) first: the slider moves that "
                                   "point's image.", "info"))
    try:
        r, near = _invert(res, name, stored[1], pixels_valid)
    except InversionError:
        return no_update, (_null_idle() if t == 0 else
                           message("No image reaches this point, so there is nothing to move.", "info"))
    base_title = _title(pixels_valid, near)
    if t == 0:
        return patch_digit(r.image, title=base_title), _null_idle()
    m, rem = res.hidden_plane(name).model, _remedies(res, name)
    labels = [str(c) for c in m.net.classes]
    k = int(np.argmax(r.proba))
    other = (k + 2) % len(labels)  # add a digit the network does not predict here
    x = r.image + t * rem.directions[other]
    hidden = forward(m.net, x, m.hidden_layer)
    proba = forward(m.net, hidden, start=m.hidden_layer)
    rbf = rem.head.predict_proba(hidden)[0]
    kk = int(np.argmax(proba))
    moved = float(np.linalg.norm(hidden - r.hidden))
    same = kk == k and abs(float(proba[kk]) - r.confidence) < 1e-9
    lead = html.P([html.Strong(f"Moved image, t = {t:+.1f}. "),
                   f"It adds {t:g} × a held-out {labels[other]}, minus what the network can see of it. ",
                   html.Strong("Same hidden point, same prediction:" if same else "The prediction moved:")],
                  className="mb-1")
    facts = html.Ul([
        html.Li(f"the moved image re-propagates to {_fmt(hidden)}, {moved:.1e} from the unmoved "
                f"image's point; residual {float(np.linalg.norm(hidden - r.target)):.2e}"),
        html.Li(f"pixels now range from {float(x.min()):.3f} to {float(x.max()):.3f}"),
        *_density_items(res, name, stored[1], x, with_point=False),
    ], className="mb-1 ps-3")
    children = html.Div([lead, *result_block(labels[kk], float(proba[kk]), _rbf_line(labels, rbf), facts)],
                        className="border-start border-3 border-secondary ps-2 py-1 mb-2 moved")
    return patch_digit(x, title=f"{base_title}, {t:+g} × a hidden {labels[other]}"), children


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

# Linked zoom and pan (as on /svm): copies the moved map's axis ranges to the other one.
_LINK_JS = """
function(relA, relB) {
    const dc = window.dash_clientside, nu = dc.no_update;
    const trig = (dc.callback_context.triggered || [])[0];
    const src = trig ? String(trig.prop_id).split('.')[0] : null;
    const rel = src === '%(a)s' ? relA : (src === '%(b)s' ? relB : null);
    if (!rel || typeof rel !== 'object') { return [nu, nu]; }
    const other = src === '%(a)s' ? '%(b)s' : '%(a)s';
    const gd = document.querySelector('#' + other + ' .js-plotly-plot');
    const full = gd && gd._fullLayout ? gd._fullLayout : {};
    const patch = new dc.Patch();
    let changed = false;
    for (const ax of ['xaxis', 'yaxis']) {
        let r = rel[ax + '.range'];
        if (!Array.isArray(r) && (ax + '.range[0]') in rel && (ax + '.range[1]') in rel) {
            r = [rel[ax + '.range[0]'], rel[ax + '.range[1]']];
        }
        const cur = full[ax] || {};
        if (Array.isArray(r) && r.length === 2 && r.every(Number.isFinite)) {
            const same = Array.isArray(cur.range) && !cur.autorange &&
                         cur.range[0] === r[0] && cur.range[1] === r[1];
            if (!same) {
                patch.assign(['layout', ax, 'range'], [r[0], r[1]]);
                patch.assign(['layout', ax, 'autorange'], false);
                changed = true;
            }
        } else if (rel[ax + '.autorange'] === true && !cur.autorange) {
            patch.assign(['layout', ax, 'autorange'], true);
            changed = true;
        }
    }
    if (!changed) { return [nu, nu]; }
    patch.assign(['layout', 'uirevision'], other + '-' + Date.now() + '-' + Math.random());
    const out = patch.build();
    return src === '%(a)s' ? [nu, out] : [out, nu];
}
""" % {"a": ids.MNIST_MAP, "b": ids.MNIST_RBF_MAP}


def register(app, res):
    for name in NETWORKS:  # build before the first request (and before gunicorn forks)
        _base(res, name)
        _rbf_base(res, name)
    _image_check(res)
    _static(res)
    _remedy_text(res)
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
    app.clientside_callback(
        _LINK_JS,
        Output(ids.MNIST_MAP, "figure", allow_duplicate=True),
        Output(ids.MNIST_RBF_MAP, "figure", allow_duplicate=True),
        Input(ids.MNIST_MAP, "relayoutData"), Input(ids.MNIST_RBF_MAP, "relayoutData"),
        prevent_initial_call=True)
