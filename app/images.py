"""Images shared by several pages: a 28x28 digit in grey, as a figure or as a canvas.

:func:`make_digit_figure` follows :mod:`app.figures` (finished arrays in, ``go.Figure``
out, the shared theme): for images drawn once (the neurons' averages), with plotly's
hover. An image that changes with every click is a :class:`Digit` instead, drawn on a
canvas by ``assets/digit.js``: a click sends :func:`digit_data` (the pixels as a float32
typed array, the grey range and the caption), and the browser draws them in the same
frame as the click's result; a plotly figure would be rebuilt for each click, a frame
or more later.
"""

from __future__ import annotations

import base64

import numpy as np
import plotly.graph_objects as go

from .figures import merged, theme
from .scripted import Scripted

__all__ = ["Digit", "decode_typed_array", "digit_data", "digit_range", "image_layout", "make_digit_figure",
           "range_note", "range_title", "typed_array"]


def digit_range(image: np.ndarray, valid_range: tuple[float, float] = (0.0, 1.0)) -> tuple[float, float]:
    """Colour range :func:`make_digit_figure` uses for ``image``.

    The valid pixel range, stretched to the image's own range when pixels fall outside.
    """
    img = np.asarray(image, dtype=float)
    lo, hi = valid_range
    return min(lo, float(img.min())), max(hi, float(img.max()))


def range_note(zmin: float, zmax: float, valid_range: tuple[float, float] = (0.0, 1.0)) -> str | None:
    """What black and white stand for when the grey scale was stretched past the valid
    range (None when it was not)."""
    if zmin >= valid_range[0] and zmax <= valid_range[1]:
        return None
    return f"grey scale: black {zmin:.2f}, white {zmax:.2f}"


def range_title(title: str | None, zmin: float, zmax: float, valid_range: tuple[float, float] = (0.0, 1.0)) -> str | None:
    """``title``, and when the grey scale was stretched past the valid range, to what.

    (Said in the title rather than by a colour bar: a colour bar is a second axis that
    plotly lays out again, with its text measured, every time the pixels change.)
    """
    note = range_note(zmin, zmax, valid_range)
    if note is None:
        return title
    note = f"<span style='font-size:11px'>{note}</span>"
    return f"{title}<br>{note}" if title else note


def _top_margin(title: str | None) -> int:
    """Room above the image for a title of one line, or two (the grey scale's)."""
    return 5 if not title else 44 if "<br>" in title else 30


def typed_array(a: np.ndarray) -> dict:
    """``a`` as plotly.js's typed-array spec (float32, base64): one string instead of a list
    of numbers to serialise; missing values (NaN) stay missing."""
    a = np.ascontiguousarray(a, dtype="<f4")
    return {"dtype": "f4", "bdata": base64.b64encode(a.tobytes()).decode("ascii"),
            "shape": ", ".join(str(n) for n in a.shape)}


def decode_typed_array(spec: dict) -> np.ndarray:
    """Inverse of :func:`typed_array` (any plotly typed-array spec; for tests and tools)."""
    a = np.frombuffer(base64.b64decode(spec["bdata"]), dtype="<" + spec["dtype"])
    return a.reshape([int(n) for n in spec["shape"].split(",")]) if "shape" in spec else a


def image_layout(title: str | None, uirevision: str, extra: dict | None = None) -> dict:
    """The layout of an image figure: square pixels, no axes, tight margins, the shared theme."""
    base = dict(xaxis=dict(visible=False, constrain="domain"),
                yaxis=dict(visible=False, scaleanchor="x", constrain="domain"),
                margin=dict(l=5, r=5, t=_top_margin(title), b=5), dragmode=False)
    return theme(title, uirevision, merged(base, extra))


def make_digit_figure(image: np.ndarray | None, *, title: str | None = None,
                      valid_range: tuple[float, float] = (0.0, 1.0), size: int = 28,
                      uirevision: str = "digit", layout: dict | None = None) -> go.Figure:
    """A ``size`` x ``size`` image in grey (white = high), or an empty placeholder.

    The colour range is the valid pixel range, stretched to the image's own range when
    pixels fall outside it (the title then says so: :func:`range_title`).
    """
    traces = []
    if image is not None:
        img = np.asarray(image, dtype=np.float32).reshape(size, size)
        zmin, zmax = (valid_range if not np.isfinite(img).any() else digit_range(img[np.isfinite(img)], valid_range))
        traces.append(dict(type="heatmap", z=img[::-1], zmin=zmin, zmax=zmax, colorscale="gray",
                           showscale=False, hovertemplate="pixel %{z:.3f}<extra></extra>"))
        title = range_title(title, zmin, zmax, valid_range)
    return go.Figure(data=traces, layout=image_layout(title, uirevision, layout))


class Digit(Scripted):
    """A grey image drawn on a canvas in the browser (``assets/digit.js``), with its caption.

    Keyword arguments:

    - digit (dict; optional): :func:`digit_data`'s value: ``title``, ``note``, ``pixels``
      (float32 typed-array spec, rows top-down, or None for an empty image), ``zmin``,
      ``zmax`` (black and white) and ``size``.
    - id (string; optional)
    - className (string; optional)
    - style (dict; optional)
    """

    _namespace = "fooling_digit"
    _type = "Digit"
    _PROPS = ("id", "className", "style", "digit")

    def __init__(self, digit: dict | None = None, id: str | None = None, className: str | None = None,
                 style: dict | None = None, **kwargs):
        super().__init__(digit=digit, id=id, className=className, style=style, **kwargs)


def digit_data(image: np.ndarray | None, *, title: str, valid_range: tuple[float, float] = (0.0, 1.0),
               size: int = 28) -> dict:
    """What a :class:`Digit` draws for ``image``: a click's whole image update.

    Parameters
    ----------
    image : ndarray of shape (size * size,), or None
        Pixels in row order, top row first; None for an empty image.
    title : str
    valid_range : (float, float)
        Black and white, stretched to the image's own range when it leaves this one (the
        ``note`` then says to what: :func:`range_note`).

    Returns
    -------
    dict
        ``title``, ``note`` (str or None), ``pixels`` (:func:`typed_array` of float32, or
        None), ``zmin``, ``zmax`` and ``size``.

    Raises
    ------
    ValueError
        When a pixel is not finite in float32.
    """
    if image is None:
        zmin, zmax = valid_range
        return {"title": title, "note": None, "pixels": None, "zmin": float(zmin), "zmax": float(zmax),
                "size": size}
    img = np.asarray(image, dtype=float).reshape(size * size)
    if not np.all(np.isfinite(img)) or np.abs(img).max() > np.finfo(np.float32).max:
        raise ValueError("image pixels must be finite (in float32)")
    zmin, zmax = digit_range(img, valid_range)
    return {"title": title, "note": range_note(zmin, zmax, valid_range),
            "pixels": typed_array(img.reshape(size, size)),
            "zmin": float(zmin), "zmax": float(zmax), "size": size}
