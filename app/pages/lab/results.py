"""What /lab shows of a network: its accuracy, its fooling rates, and the inversion of a point."""

from __future__ import annotations

import math

import dash_bootstrap_components as dbc
import numpy as np
from dash import html

from fooling.inversion import InversionError
from fooling.reachable import contains
from fooling.training import BUNDLE_RS

from ...components import heads_table, message, rbf_line, result_block
from ...images import digit_data
from .compute import BLANK_TITLE, EXACT, LabView
from .text import fmt

__all__ = ["accuracy_block", "key_line", "point_result", "rates_table"]


def _pct(p: float | None, digits: int = 1) -> str:
    return "n/a" if p is None else f"{100 * float(p):.{digits}f}%"


def accuracy_block(view: LabView, how: str) -> list:
    """The network, its train and held-out accuracy, and where it came from (``how``)."""
    t = view.trained
    n_test = len(view.model.split.y_test)
    return [
        html.Div(view.spec.describe(), className="small text-muted mb-1 lab-spec"),
        html.Div(f"train accuracy {_pct(t.train_accuracy)} · held-out accuracy {_pct(t.test_accuracy)} "
                 f"(of {n_test:,} digits) · RBF head held-out {_pct(view.analysis.head_accuracy)}",
                 className="lab-accuracy fw-semibold"),
        html.Div(how, className="small text-muted"),
    ]


def rates_table(view: LabView) -> list:
    """Fooling rates of both heads at R = 1, 2, 5, 10 data radii and the density check's share."""
    head = html.Thead(html.Tr([html.Th("head")] + [html.Th(f"R\u00a0=\u00a0{r}") for r in BUNDLE_RS]
                              + [html.Th("flagged by density"), html.Th("top probability")]))
    rows = []
    for name, label in (("linear", "linear (the network's own)"), ("rbf", "RBF")):
        s = view.rates[name]
        rows.append(html.Tr([html.Td(label)] + [html.Td(_pct(s[f"R{r}"])) for r in BUNDLE_RS]
                            + [html.Td(_pct(s.get("flagged_by_density")) if s.get("flagged_by_density") is not None
                                       else "never confident"), html.Td(_pct(s["max_confidence"], 2))]))
    return [dbc.Table([head, html.Tbody(rows)], size="sm", className="mb-1"),
            html.P("Share of the disc of R data radii around the training encodings where the head answers "
                   "with at least 99% confidence (on a 201 x 201 grid; for tanh and ReLU only the part of the "
                   "disc the hidden units can reach), the share of that confident area a density check on the "
                   "training encodings flags, and the highest probability anywhere within 10 data radii.",
                   className="small text-muted")]


def key_line(view: LabView) -> list:
    """The maps' key: one dot per digit in its colour, and the outlines."""
    dots = [html.Span([html.Span("●", style={"color": c}), f" {label}"], className="me-2 text-nowrap")
            for label, c in zip(view.labels, view.colors)]
    return [html.Span("held-out digits: ", className="me-1")] + dots + [
        html.Span("— P = 1/2 · ━ valid images reach · ┄ typical (density check) · × clicked · ◇ nearest "
                  "reachable", className="text-nowrap")]



def point_result(view: LabView, point: tuple[float, float], valid: bool):
    """(image (:func:`~app.images.digit_data`), result children, nearest point used instead or None) for a clicked point."""
    try:
        r, near = view.invert(point, valid)
    except InversionError as exc:
        return digit_data(None, title="no image"), message(f"No image for {fmt(point)}: {exc}.", "info"), None
    a, labels = view.analysis, view.labels
    k = int(np.argmax(r.proba))
    rbf = a.head.predict_proba(r.hidden[None, :])[0]
    dist = float(np.linalg.norm(np.asarray(point) - a.centroid)) / a.radius
    inside = bool(contains(a.polygon, np.asarray(point)))
    facts = [html.Li(f"clicked point {fmt(point)}, {dist:.2f} data radii from the training encodings' centre; "
                     f"{'inside' if inside else 'outside'} the region valid images reach"
                     f"{'' if a.exact else ' (estimated)'}"),
             html.Li(f"the image re-propagates to {fmt(r.hidden)}; residual {r.residual:.2e}"),
             html.Li(f"pixels range from {r.pixel_min:.3f} to {r.pixel_max:.3f}")]
    notes = []
    if near is not None:
        facts.insert(1, html.Li(f"nearest point reached: {fmt(near)}, {math.dist(point, near):.3g} away (◇)"))
        why = "no image with pixels in [0, 1] reaches it" if valid else "no input reaches it"
        notes.append(message(f"{fmt(point)} cannot be reached: {why}. Shown instead: an image landing on the "
                             f"nearest point reached, {fmt(near)} (◇).", "secondary"))
    elif r.residual > EXACT:
        notes.append(message(f"The nearest image found lands at {fmt(r.hidden)}, {r.residual:.3g} away.",
                             "secondary"))
    if not r.in_range:
        notes.append(message(f"Not a valid image: pixels range from {r.pixel_min:.3f} to {r.pixel_max:.3f}, "
                             "outside [0, 1].", "warning"))
    children = result_block(labels[k], r.confidence, rbf_line(labels, rbf), *notes, heads_table(labels, r.proba, rbf),
                            html.Ul(facts, className="small mb-2 ps-3"))
    title = BLANK_TITLE if not valid else ("valid image, nearest reachable point" if near is not None
                                           else "image with pixels in [0, 1]")
    return digit_data(r.image, title=title), children, near

