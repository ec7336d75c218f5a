"""Result blocks for the /mnist page (``app.pages.mnist``): what a clicked point, or its
image moved along the null space, shows; built from :mod:`app.mnist_view`'s cached parts.
"""

from __future__ import annotations

import math

import dash_bootstrap_components as dbc
import numpy as np
from dash import html

from fooling.inversion import InversionError
from fooling.network import forward
from fooling.reachable import contains

from . import ids
from .components import message, result_block
from .figures_mnist import patch_digit
from .mnist_view import EXACT, fmt, image_check, image_title, invert, remedies


def _pct(p: float) -> str:
    return f"{100 * float(p):.2f}%"


def density_items(res, name: str, point, image: np.ndarray, *, with_point: bool = True) -> list:
    """Plain-words verdicts of the density checks, as list items."""
    items = []
    if with_point:
        check = remedies(res, name).density
        pc = float(check.percentile(np.asarray(point, dtype=float)[None, :])[0])
        ok = bool(check.in_distribution(np.asarray(point, dtype=float)[None, :])[0])
        items.append(html.Li([html.Strong("Clicked point: " + ("in distribution" if ok else "out of distribution")),
                              f". Its log-density percentile among the training encodings is {pc:.1f} "
                              f"(the check rejects below {check.threshold_percentile:g})."]))
    check = image_check(res)
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


def rbf_line(labels, rbf: np.ndarray) -> html.Div:
    k = int(np.argmax(rbf))
    return html.Div(["RBF head, same hidden point: ", html.Strong(labels[k]),
                     html.Span(f" ({_pct(rbf[k])})", className="confidence")], className="rbf-prediction")


def point_result(res, name: str, point: tuple[float, float], valid: bool):
    """(image patch, result children) for the inversion of ``point``."""
    hp = res.hidden_plane(name)
    rem = remedies(res, name)
    try:
        r, near = invert(res, name, point, valid)
    except InversionError as exc:
        if hp.bounded:
            lo, hi = hp.model.inverter.codomain
            text = (f"The tanh net cannot reach {fmt(point)}: its hidden units only take values "
                    f"strictly between {lo:g} and {hi:g}, so no image lands there. Click inside the square.")
        else:
            text = f"No image for {fmt(point)}: {exc}."
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
    facts = [html.Li(f"clicked (target) hidden point: {fmt(point)}, {dist:.2f} data radii from the "
                     f"held-out digits' centre; {reach}")]
    if near is not None:
        facts.append(html.Li(f"nearest point valid images reach: {fmt(near)}, "
                             f"{math.dist(point, near):.3g} away (◇ on the maps)"))
    facts += [html.Li(f"the image re-propagates to {fmt(r.hidden)}; residual {r.residual:.2e}"),
              html.Li(f"pixels range from {r.pixel_min:.3f} to {r.pixel_max:.3f}")]
    notes = []
    if near is not None:
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
                        html.Ul(density_items(res, name, point, r.image), className="small mb-1 ps-3")],
                       id=ids.MNIST_DENSITY)
    title = image_title(valid, near)
    children = result_block(labels[k], r.confidence, rbf_line(labels, rbf), *notes,
                            _heads_table(labels, r.proba, rbf), html.Ul(facts, className="small mb-2 ps-3"),
                            density)
    return patch_digit(r.image, title=title), children


def null_idle() -> html.P:
    return html.P("Click a point, then move the slider: the image changes, its hidden point does not.",
                  className="text-muted mb-1")


def moved_result(res, name: str, r, t: float, point: tuple[float, float], base_title: str):
    """(image Patch, readout) for inversion ``r`` of ``point`` moved ``t`` along the null space.

    The moved image's hidden point, residual and predictions are computed by propagating
    the moved image forward, not assumed. At ``t == 0``: the unmoved image and the idle text.
    """
    if t == 0:
        return patch_digit(r.image, title=base_title), null_idle()
    m, rem = res.hidden_plane(name).model, remedies(res, name)
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
        html.Li(f"the moved image re-propagates to {fmt(hidden)}, {moved:.1e} from the unmoved "
                f"image's point; residual {float(np.linalg.norm(hidden - r.target)):.2e}"),
        html.Li(f"pixels now range from {float(x.min()):.3f} to {float(x.max()):.3f}"),
        *density_items(res, name, point, x, with_point=False),
    ], className="mb-1 ps-3")
    children = html.Div([lead, *result_block(labels[kk], float(proba[kk]), rbf_line(labels, rbf), facts)],
                        className="border-start border-3 border-secondary ps-2 py-1 mb-2 moved")
    return patch_digit(x, title=f"{base_title}, {t:+g} × a hidden {labels[other]}"), children
