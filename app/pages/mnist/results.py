"""What a point of the hidden plane shows on /mnist: the result block of its inversion, of its
image moved along the null space, and the density checks' verdicts."""

from __future__ import annotations

import math

import numpy as np
from dash import html

from fooling.inversion import InversionError
from fooling.network import forward
from fooling.reachable import contains

from ... import ids
from ...components import heads_table, message, rbf_line, result_block
from ...images import digit_data
from .compute import BLANK_TITLE, EXACT, State
from .text import fmt

__all__ = ["density_items", "image_title", "moved_result", "null_idle", "point_result"]


def image_title(valid: bool, near) -> str:
    """The image's title: which image is shown."""
    if not valid:
        return BLANK_TITLE
    return "valid image, nearest reachable point" if near is not None else "image with pixels in [0, 1]"


def density_items(state: State, name: str, point, image: np.ndarray, *, with_point: bool = True,
                  point_label: str = "Clicked point") -> list:
    """Plain-words verdicts of the density checks, as list items."""
    items = []
    if with_point:
        check = state.view(name).analysis.density
        P = np.asarray(point, dtype=float)[None, :]
        pc = float(check.percentile(P)[0])
        ok = bool(check.in_distribution(P)[0])
        items.append(html.Li([html.Strong(f"{point_label}: " + ("in distribution" if ok else "out of distribution")),
                              f". Its log-density percentile among the training encodings is {pc:.1f} "
                              f"(the check rejects below {check.threshold_percentile:g})."]))
    check = state.image_check
    img = np.asarray(image, dtype=float)[None, :]
    pc = float(check.percentile(img)[0])
    ok = bool(check.in_distribution(img)[0])
    lo, hi = check.threshold_percentile, 100 - check.threshold_percentile
    verdict = html.Strong("Image: " + ("in distribution" if ok else "out of distribution"))
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




def point_result(state: State, name: str, point: tuple[float, float], valid: bool):
    """(image (:func:`~app.images.digit_data`), result children, nearest reachable point or None) for the inversion of ``point``."""
    v = state.view(name)
    a = v.analysis
    try:
        r, near = v.invert(point, valid)
    except InversionError as exc:
        if a.bounded:
            lo, hi = v.inverter.codomain
            text = (f"The {name} net cannot reach {fmt(point)}: its hidden units only take values "
                    f"strictly between {lo:g} and {hi:g}, so no image lands there. Click inside the square.")
        else:
            text = f"No image for {fmt(point)}: {exc}."
        return digit_data(None, title="no image"), message(text, "info"), None
    labels = v.labels
    k = int(np.argmax(r.proba))
    rbf = a.head.predict_proba(r.hidden)[0]
    dist = float(np.linalg.norm(np.asarray(point) - a.centroid)) / a.radius
    region = "the region valid images reach" + ("" if a.exact else " (estimated)")
    if contains(a.polygon, np.asarray(point)):
        reach = f"inside {region}"
    else:
        reach = f"outside {region}: " + ("every image landing there has pixels outside [0, 1]" if a.exact
                                         else "no valid image found lands there")
    facts = [html.Li(f"clicked (target) hidden point: {fmt(point)}, {dist:.2f} data radii from the "
                     f"held-out digits' centre; {reach}")]
    if near is not None:
        facts.append(html.Li(f"nearest point {'valid images' if valid else 'images'} reach: {fmt(near)}, "
                             f"{math.dist(point, near):.3g} away (◇ on the maps)"))
    facts += [html.Li(f"the image re-propagates to {fmt(r.hidden)}; residual {r.residual:.2e}"),
              html.Li(f"pixels range from {r.pixel_min:.3f} to {r.pixel_max:.3f}")]
    notes = []
    if near is not None and not valid:
        notes.append(message(f"No image at all reaches this point: a ReLU layer outputs only values ≥ 0, "
                             "and not every point of the quadrant is reachable either. Shown instead: an "
                             f"image landing exactly on the nearest point that is, {fmt(near)} (◇); the "
                             "predictions are for that image.", "secondary"))
    elif near is not None:
        notes.append(message(f"No image with pixels in [0, 1] reaches this point: it lies outside the "
                             f"outlined {region.removeprefix('the ')}. Shown instead: a valid image "
                             f"landing on the nearest point they reach, {fmt(near)} (◇); the "
                             "predictions are for that image.", "secondary"))
    if r.residual > EXACT:
        what = "No image with pixels in [0, 1] reaches" if valid else "The inversion did not reach"
        notes.append(message(f"{what} this point exactly: the nearest image lands at {fmt(r.hidden)}, "
                             f"{r.residual:.3g} away; the prediction is for that image.", "secondary"))
    if not r.in_range:
        notes.append(message(f"Not a valid image: pixels range from {r.pixel_min:.3f} to "
                             f"{r.pixel_max:.3f}, outside [0, 1].", "warning"))
    density = html.Div([html.H3("Density check", className="h6 mt-2 mb-1"),
                        html.Ul(density_items(state, name, point, r.image), className="small mb-1 ps-3")],
                       id=ids.MNIST_DENSITY)
    children = result_block(labels[k], r.confidence, rbf_line(labels, rbf), *notes,
                            heads_table(labels, r.proba, rbf), html.Ul(facts, className="small mb-2 ps-3"),
                            density)
    return digit_data(r.image, title=image_title(valid, near)), children, near


def null_idle() -> html.P:
    return html.P("Click a point, then move the slider: the image changes, its hidden point does not.",
                  className="text-muted mb-1")


def moved_result(state: State, name: str, r, t: float, point: tuple[float, float], base_title: str):
    """(image (:func:`~app.images.digit_data`), readout) for inversion ``r`` of ``point`` moved ``t`` along the null space.

    The moved image's hidden point, residual and predictions are computed by propagating
    the moved image forward, not assumed. At ``t == 0``: the unmoved image and the idle text.
    """
    if t == 0:
        return digit_data(r.image, title=base_title), null_idle()
    v = state.view(name)
    m, a = v.model, v.analysis
    labels = v.labels
    k = int(np.argmax(r.proba))
    other = (k + 2) % len(labels)  # add a digit the network does not predict here
    x = r.image + t * a.directions[other]
    hidden = forward(m.net, x, m.hidden_layer)
    proba = forward(m.net, hidden, start=m.hidden_layer)
    rbf = a.head.predict_proba(hidden)[0]
    kk = int(np.argmax(proba))
    moved = float(np.linalg.norm(hidden - r.hidden))
    same = kk == k and abs(float(proba[kk]) - r.confidence) < 1e-9
    lead = html.P([html.Strong(f"Moved image, t = {t:+.1f}. "),
                   f"It adds {t:g} × a held-out {labels[other]}, minus what the network can see of it. ",
                   html.Strong("Same hidden point, same prediction:" if same else "The prediction moved:")],
                  className="mb-1")
    facts = html.Ul([
        html.Li(f"the moved image re-propagates to {fmt(hidden)}, {moved:.1e} from the unmoved "
                f"image's point; residual {float(np.linalg.norm(hidden - r.target)):.2e}"),
        html.Li(f"pixels now range from {float(x.min()):.3f} to {float(x.max()):.3f}"),
        *density_items(state, name, point, x, with_point=False),
    ], className="mb-1 ps-3")
    children = html.Div([lead, *result_block(labels[kk], float(proba[kk]), rbf_line(labels, rbf), facts)],
                        className="border-start border-3 border-secondary ps-2 py-1 mb-2 moved")
    return digit_data(x, title=f"{base_title}, {t:+g} × a hidden {labels[other]}"), children
