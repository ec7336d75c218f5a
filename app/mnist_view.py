"""Per-process cached computations and small helpers for the /mnist page (``app.pages.mnist``).

Everything per network (maps, grids, heads, polygons, density checks, null-space
directions, presets) is built once per process by the cached helpers below (keyed on
the ``Resources`` object, hashed by identity, and plain values; the page's ``register``
fills them before the first request); a click only validates the point, inverts it
(microseconds for the affine identity net, tens of milliseconds for tanh) and gets
``Patch`` updates from the helpers here (result blocks: :mod:`app.mnist_results`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from dash import Patch, html

from fooling.density import DensityCheck, ImageDensityCheck
from fooling.inversion import InversionError
from fooling.reachable import (contains, estimate_reachable, nearest_reachable, null_space_basis, reachable_polygon,
                               support_corner)
from fooling.regions import contour_segments, evaluate_grid
from fooling.heads import fit_rbf_head
from fooling.probes import fooling_points

from .components import BadInput, parse_click
from .figures import CLASS_COLORS, make_loss_figure
from .figures_mnist import blank_digit_figure, make_hidden_map_figure, make_samples_figure

NETWORKS = ("identity", "tanh")
NAMES = ("0", "1", "2", "3")
EXACT = 1e-6
"""Residual under which an inversion lands on the asked-for point."""

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

_BLANK_TITLE = "inverted image"


# ---- built once per process ------------------------------------------------------------

@lru_cache(maxsize=8)
def far_points(res, name: str) -> tuple[dict, ...]:
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
def remedies(res, name: str) -> Remedies:
    hp = res.hidden_plane(name)
    m = hp.model
    inv = m.inverter
    head = fit_rbf_head(m)
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
def image_check(res) -> ImageDensityCheck:
    """The image density check, fitted on the training images (shared by both networks)."""
    return ImageDensityCheck().fit(res.hidden_plane("identity").model.split.X_train)


def _map(res, name: str, grid, title: str, uirevision: str):
    hp = res.hidden_plane(name)
    m, rem = hp.model, remedies(res, name)
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
def base_map(res, name: str):
    """The linear head's map of network ``name`` (with the index of its 'clicked' trace)."""
    return _map(res, name, res.hidden_plane(name).grid, f"{name.capitalize()} net: linear head",
                f"mnist-{name}")


@lru_cache(maxsize=8)
def rbf_map(res, name: str):
    """The RBF head's map of network ``name``: same plane, bounds and held-out points."""
    hp = res.hidden_plane(name)
    grid = evaluate_grid(remedies(res, name).head.predict_proba, hp.bounds, res.grid)
    return _map(res, name, grid, f"{name.capitalize()} net: RBF head", f"mnist-rbf-{name}")


@lru_cache(maxsize=1)
def blank_figure():
    """The image placeholder (a digit figure with nothing in it yet)."""
    return blank_digit_figure(_BLANK_TITLE)


@lru_cache(maxsize=4)
def static_parts(res):
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
    return loss, samples, rows, explain(res)


def certainty(p: float) -> str:
    """How sure ``p`` is, readable when it rounds to 100%."""
    gap = 1.0 - p
    nb = "\u00a0"  # keep the inequality on one line
    text = "P = 1 to machine precision" if gap <= 0 else f"P ≥ 1 − {gap:.0e}" if gap < 5e-5 else f"P ≥ {p:.4f}"
    return text.replace(" ", nb)


def explain(res) -> tuple[str, str]:
    """(what the map shows, what the tanh net changes): 4 sentences, numbers from the models."""
    ident = min(f.get("probability", 0.0) for f in far_points(res, "identity"))
    caps = [(f["label"], f["max_confidence"]) for f in far_points(res, "tanh") if "max_confidence" in f]
    lo, hi = min(caps, key=lambda c: c[1]), max(caps, key=lambda c: c[1])
    return (
        "Each dot is a held-out digit, placed where the network's two-unit last hidden layer puts it; "
        "the colour behind is the digit the network predicts at that point (pale: unsure; black "
        "lines: P = 1/2). The regions run on far beyond the data: click anywhere and the point is "
        "inverted into a 28x28 image that re-propagates to exactly that point. Far out, the identity "
        f"net is certain that image is a digit (its four far presets: {certainty(ident)}), though "
        "it looks like nothing of the kind.",
        "The tanh net squeezes its hidden plane into the square (-1, 1)², and that caps its "
        f"confidence: no digit gets more than {100 * hi[1]:.1f}% anywhere in the square (a {hi[0]}), "
        f"a {lo[0]} at most {100 * lo[1]:.1f}%.",
    )


def _area(polygon: np.ndarray) -> float:
    x, y = np.asarray(polygon, dtype=float).T
    return 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))


@lru_cache(maxsize=4)
def remedy_text(res) -> tuple[str, ...]:
    """Four paragraphs on the remedies and the outlines, numbers from the models."""
    hp = {n: res.hidden_plane(n) for n in NETWORKS}
    rem = {n: remedies(res, n) for n in NETWORKS}
    ident, tanh = rem["identity"], rem["tanh"]
    far = hp["identity"].centroid + np.array([FAR_RADII * hp["identity"].radius, 0.0])
    p_far = ident.head.predict_proba(far[None, :])[0]
    k = int(np.argmax(p_far))
    lin_acc = hp["identity"].model.trained.test_accuracy

    def share(n):
        x0, x1, y0, y1 = hp[n].bounds
        pct = 100 * _area(rem[n].polygon) / ((x1 - x0) * (y1 - y0))
        return "practically all" if pct >= 99.95 else f"{pct:.1f}%" if n == "tanh" else f"{pct:.0f}%"

    outside = sum(not contains(ident.polygon, np.array(f["hidden"])) for f in far_points(res, "identity"))
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


# ---- captions ---------------------------------------------------------------------------

def caption(res, head: str) -> str:
    accs = {n: (remedies(res, n).head_accuracy if head == "rbf"
                else res.hidden_plane(n).model.trained.test_accuracy) for n in NETWORKS}
    what = ("RBF head on the same two hidden units" if head == "rbf"
            else "Linear head (the network's own output layer)")
    return f"{what}. Held-out accuracy: " + ", ".join(f"{n} net {100 * a:.1f}%" for n, a in accs.items()) + "."


def map_key() -> html.Div:
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


# ---- validation -------------------------------------------------------------------------

def check_network(value: Any) -> str:
    if not isinstance(value, str) or value not in NETWORKS:
        shown = repr(value) if len(repr(value)) < 40 else repr(value)[:37] + "..."
        raise BadInput(f"Unknown network {shown}: choose identity or tanh.")
    return value


def check_valid(value: Any) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise BadInput("'keep pixels in [0, 1]' must be on or off.")
    return value


def check_stored_point(point: Any) -> tuple[str, tuple[float, float]] | None:
    if point is None:
        return None
    if not isinstance(point, dict) or not isinstance(point.get("point"), (list, tuple)) \
            or len(point["point"]) != 2:
        raise BadInput("The remembered point is not a point; click the map again.")
    name = check_network(point.get("network"))
    x, y = parse_click({"points": [{"x": point["point"][0], "y": point["point"][1]}]})
    return name, (x, y)


def check_preset(res, name: str, index: Any) -> tuple[float, float]:
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(NAMES):
        raise BadInput("There are four presets, far 0 to far 3.")
    entry = far_points(res, name)[index]
    return float(entry["hidden"][0]), float(entry["hidden"][1])


def check_shift(value: Any) -> float:
    """The slider's value, checked: a finite number in [-NULL_MAX, NULL_MAX]."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or abs(value) > NULL_MAX + 1e-9:
        raise BadInput(f"The null-space slider runs from {-NULL_MAX:g} to {NULL_MAX:g}.")
    return float(value)


# ---- what a point shows -----------------------------------------------------------------

def fmt(p) -> str:
    return f"({p[0]:.4g}, {p[1]:.4g})"


def nearest(res, name: str, point: tuple[float, float], valid: bool) -> tuple[float, float] | None:
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
    polygon = remedies(res, name).polygon
    if contains(polygon, np.asarray(point)):  # cheap; spares the slow infeasible box solve
        return None
    q = nearest_reachable(polygon, np.asarray(point, dtype=float))
    return float(q[0]), float(q[1])


def image_title(valid: bool, near) -> str:
    """The image's title: which image is shown."""
    if not valid:
        return _BLANK_TITLE
    return "valid image, nearest reachable point" if near is not None else "image with pixels in [0, 1]"


def invert(res, name: str, point: tuple[float, float], valid: bool):
    """(inversion shown for ``point``, the nearest reachable point used instead or None)."""
    near = nearest(res, name, point, valid)
    inv = res.hidden_plane(name).model.inverter
    if near is None:
        return inv.invert(np.array(point), valid=valid), near
    # On the polygon's edge the valid images landing there are the box corner that pushes
    # furthest outward (towards the click) with the edge's few pixels adjusted: start there,
    # or the box solve crawls towards a degenerate solution.
    ref = support_corner(inv.A_, np.subtract(point, near), *inv.pixel_range) if inv.affine_ else None
    return inv.invert(np.array(near), valid=True, ref=ref), near


# ---- map patches -------------------------------------------------------------------------

def click_patch(res, name: str, xy: tuple[float, float]) -> Patch:
    """The linear map's 'clicked' marker moved to ``xy``."""
    marker = Patch()
    _, last = base_map(res, name)
    marker["data"][last]["x"] = [xy[0]]
    marker["data"][last]["y"] = [xy[1]]
    return marker


def marker_patches(res, name: str, xy: tuple[float, float], near) -> tuple[Patch, Patch]:
    """(RBF map Patch, linear map Patch): the clicked point and the nearest reachable one (or none)."""
    nx, ny = near if near is not None else (None, None)
    rbf, linear = Patch(), Patch()
    last = rbf_map(res, name)[1]
    rbf["data"][last]["x"], rbf["data"][last]["y"] = [xy[0]], [xy[1]]
    rbf["data"][last - 1]["x"], rbf["data"][last - 1]["y"] = [nx], [ny]
    last = base_map(res, name)[1]
    linear["data"][last - 1]["x"], linear["data"][last - 1]["y"] = [nx], [ny]
    return rbf, linear
