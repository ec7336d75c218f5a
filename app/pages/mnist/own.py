"""Your own digit on /mnist: a drawing or an uploaded image, made the way MNIST's digits were,
placed on the network's hidden plane, and walked away from the data.

The browser keeps the digit as its URL code (784 grey levels, ~1 kB: ``fooling.digits``);
every answer is recomputed from it: the digit's hidden point, the ray from the training
encodings' centroid through it, and the smallest change to the digit that lands ``t`` data
radii out (:func:`fooling.walk.walk`), measured by propagating the moved image forward.
"""

from __future__ import annotations

import base64
import math
from typing import Any

import numpy as np
from dash import html

from fooling.digits import DigitError, decode_digit, encode_digit
from fooling.inversion import InversionError
from fooling.uploads import digit_from_data_url, grey_from_bytes
from fooling.walk import MAX_T, trace_ray, walk

from ...components import BadInput, message, rbf_line, result_block
from ...images import digit_data
from .compute import State
from .results import density_items
from .text import fmt

__all__ = ["DOT", "MAX_T", "OWN_IDLE", "PAD_SHOWS", "PAD_TITLE", "PREPROCESSING", "code_of", "digit_from_drawing", "digit_from_upload",
           "own_view", "parse_code", "parse_walk"]

OWN_IDLE = "Draw a digit in the box or drop an image of one: it is placed on the map (●) and can be walked away."
PREPROCESSING = ("Made the way MNIST's digits were: grey levels in [0, 1] with the ink bright, the ink's bounding "
                 "box scaled to fit 20x20 pixels keeping its shape, then centred by its centre of mass in the "
                 "28x28 field.")
PAD_TITLE = "draw a digit: mouse, pen or finger"
"""The drawing pad's tooltip while it holds a drawing (or nothing)."""
PAD_SHOWS = "your digit as the network sees it (28x28, before the walk): draw on it to change it"
"""The pad's tooltip while it shows an uploaded or linked digit."""


def digit_from_upload(contents: Any, max_bytes: int) -> np.ndarray:
    """The digit of a ``dcc.Upload``'s contents (a data URL), or :class:`BadInput` saying why not."""
    if not isinstance(contents, str) or not contents:
        raise BadInput("That upload carried no file.")
    if len(contents) > 4 * max_bytes // 3 + 200:
        raise BadInput(f"That file is larger than {max_bytes / 1e6:.1f} MB; send a smaller picture.")
    try:
        return digit_from_data_url(contents, max_bytes=max_bytes)
    except DigitError as exc:
        raise BadInput(f"That file was not used: {exc}.") from None


DOT = 0.16
"""A drawing whose ink spans less than this share of the pad (both ways) is a dot, not a digit:
a tap paints one pen-wide dot, which MNIST's preprocessing would blow up to a 20x20 disc."""


def _ink_span(url: str) -> float:
    """The larger side of the ink's bounding box, as a share of the pad's larger side."""
    grey = grey_from_bytes(base64.b64decode(url.partition(",")[2]), max_bytes=300_000)
    border = float(np.median(np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])))
    rows, cols = np.nonzero(np.abs(grey - border) > 0.5)
    if rows.size == 0:
        return 0.0
    return max(int(rows.max() - rows.min()) + 1, int(cols.max() - cols.min()) + 1) / max(grey.shape)


def digit_from_drawing(data: Any) -> np.ndarray:
    """The digit of the drawing pad's canvas (a PNG data URL), or :class:`BadInput`."""
    if not isinstance(data, dict) or not isinstance(data.get("png"), str):
        raise BadInput("The drawing could not be read; draw again.")
    if len(data["png"]) > 400_000:
        raise BadInput("The drawing is too large to read; clear it and draw again.")
    try:
        x = digit_from_data_url(data["png"], max_bytes=300_000)
        if _ink_span(data["png"]) < DOT:
            raise BadInput("That is a dot, not a digit: clear the pad and draw the whole digit "
                           "(a 1 is one stroke from top to bottom).")
        return x
    except DigitError as exc:
        raise BadInput(f"That drawing was not used: {exc}.") from None


def parse_code(code: Any) -> np.ndarray:
    """The digit stored as its URL code, or :class:`BadInput`."""
    if not isinstance(code, str):
        raise BadInput("The stored digit could not be read; draw or upload it again.")
    try:
        return decode_digit(code)
    except DigitError as exc:
        raise BadInput(str(exc)) from None


def parse_walk(value: Any) -> float:
    """The walk slider's value: a finite number in [0, MAX_T] data radii."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or not 0 <= value <= MAX_T + 1e-9:
        raise BadInput(f"The walk slider runs from 0 to {MAX_T:g} data radii.")
    return float(value)


def own_view(state: State, name: str, x: np.ndarray, t: float, valid: bool) -> tuple:
    """(image (:func:`~app.images.digit_data`), result children, marks ``{"own": [x, y], "walked": [x, y] or None}``)
    for digit ``x`` walked ``t`` data radii on network ``name``."""
    v = state.view(name)
    ray = trace_ray(v.model, x)
    own = [float(ray.start[0]), float(ray.start[1])]
    if t > 0 and t >= ray.t_max:
        lo, hi = v.inverter.codomain
        text = (f"On the {name} net this digit's hidden point {fmt(ray.start)} sits {ray.t_max:.2g} data radii "
                f"from the edge of what the hidden units can take (they stay in ({lo:g}, {hi:g})), so the walk "
                "stops there. Move the slider back below that, or try the identity net.")
        return digit_data(x, title="your digit"), [message(text, "info")], {"own": own, "walked": None}
    try:
        mv = walk(v.model, x, t, valid=valid, head=v.analysis.head, ray=ray)
    except (InversionError, DigitError) as exc:
        return digit_data(x, title="your digit"), [message(f"No image for that walk: {exc}.", "info")], \
            {"own": own, "walked": None}
    labels = v.labels
    k = int(np.argmax(mv.proba))
    head = mv.head_proba if mv.head_proba is not None else v.analysis.head.predict_proba(mv.hidden)[0]
    moved = t > 0
    facts = [html.Li(f"your digit's hidden point: {fmt(ray.start)}, "
                     f"{float(np.linalg.norm(ray.start - ray.centroid)) / ray.radius:.2f} data radii from the "
                     "training digits' centre")]
    if moved:
        facts += [
            html.Li(f"walked {t:g} data radii further out, to {fmt(mv.target)}; the moved image lands on "
                    f"{fmt(mv.hidden)} (residual {mv.residual:.2e})"),
            html.Li([html.Strong(f"pixel change: L2 {mv.change_l2:.3f}, largest {mv.change_max:.3f}"),
                     f" (a pixel runs from 0 to 1; the digit's own L2 size is {float(np.linalg.norm(x)):.2f})"]),
        ]
    facts.append(html.Li("still a valid image (every pixel in [0, 1])" if mv.valid else
                         f"not a valid image any more: pixels from {float(mv.image.min()):.3f} to "
                         f"{float(mv.image.max()):.3f}"))
    notes = []
    if not mv.reached:
        notes.append(message(f"No image with pixels in [0, 1] lands there: shown is the nearest image to yours "
                             f"landing on the nearest point they reach, {fmt(mv.hidden)}.", "secondary"))
    lead = html.P(html.Strong(f"Your digit, walked {t:g} data radii out" if moved else "Your digit"),
                  className="mb-1")
    children = [lead, *result_block(labels[k], mv.confidence, rbf_line(labels, head), *notes,
                                    html.Ul(facts, className="small mb-1 ps-3"),
                                    html.Ul(density_items(state, name, mv.hidden, mv.image,
                                                          point_label="Its hidden point"),
                                            className="small mb-1 ps-3"))]
    title = f"your digit, {t:g} radii out" if moved else "your digit"
    walked = [float(mv.target[0]), float(mv.target[1])] if moved else None
    return digit_data(mv.image, title=title), children, {"own": own, "walked": walked}


def code_of(x: np.ndarray) -> str:
    """The URL code of a digit."""
    return encode_digit(x)
