"""Image figures shared by several pages: a 28x28 digit in grey, and its per-click update.

:func:`make_digit_figure` follows :mod:`app.figures` (finished arrays in, ``go.Figure``
out, the shared theme). :func:`patch_digit` is the per-click update of such a figure: a
click changes the picture, not the figure, so it sends only the new pixels (a float32
typed array) and colour range.
"""

from __future__ import annotations

import base64

import numpy as np
import plotly.graph_objects as go
from dash import Patch

from .figures import merged, theme

__all__ = ["blank_digit_figure", "decode_typed_array", "digit_range", "image_layout",
           "make_digit_figure", "patch_digit", "range_title", "typed_array"]


def digit_range(image: np.ndarray, valid_range: tuple[float, float] = (0.0, 1.0)) -> tuple[float, float]:
    """Colour range :func:`make_digit_figure` uses for ``image``.

    The valid pixel range, stretched to the image's own range when pixels fall outside.
    """
    img = np.asarray(image, dtype=float)
    lo, hi = valid_range
    return min(lo, float(img.min())), max(hi, float(img.max()))


def range_title(title: str | None, zmin: float, zmax: float, valid_range: tuple[float, float] = (0.0, 1.0)) -> str | None:
    """``title``, and when the grey scale was stretched past the valid range, to what.

    (Said in the title rather than by a colour bar: a colour bar is a second axis that
    plotly lays out again, with its text measured, every time the pixels change.)
    """
    if zmin >= valid_range[0] and zmax <= valid_range[1]:
        return title
    note = f"<span style='font-size:11px'>grey scale: black {zmin:.2f}, white {zmax:.2f}</span>"
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


def blank_digit_figure(title: str, size: int = 28) -> go.Figure:
    """A digit figure with an all-missing image: shows nothing, but has the trace to patch.

    The axes are fixed to the image's extent (an all-missing heatmap has no extent for
    plotly to autorange on, and a later patch would keep the wrong one).
    """
    extent = dict(range=[-0.5, size - 0.5], autorange=False)
    return make_digit_figure(np.full(size * size, np.nan, dtype=np.float32), title=title, size=size,
                             layout=dict(xaxis=extent, yaxis=extent))


def patch_digit(image: np.ndarray | None, *, title: str, valid_range: tuple[float, float] = (0.0, 1.0),
                size: int = 28) -> Patch:
    """Update a :func:`blank_digit_figure` (or any one-heatmap digit figure) to ``image``.

    Parameters
    ----------
    image : ndarray of shape (size * size,), or None
        Pixels in row order; None blanks the picture.
    title : str
    valid_range : (float, float)
        As in :func:`make_digit_figure`: when the image leaves this range, the title
        says what black and white stand for (:func:`range_title`).

    Returns
    -------
    dash.Patch
        Sets the heatmap's ``z`` (rows bottom-up, as the factory draws them, as a float32
        typed array: see :func:`typed_array`), ``zmin``, ``zmax`` and the title.
    """
    p = Patch()
    if image is None:
        img = np.full((size, size), np.nan)
        zmin, zmax = valid_range
    else:
        img = np.asarray(image, dtype=float).reshape(size, size)
        if not np.all(np.isfinite(img)) or np.abs(img).max() > np.finfo(np.float32).max:
            raise ValueError("image pixels must be finite (in float32)")
        zmin, zmax = digit_range(img, valid_range)
    p["data"][0]["z"] = typed_array(img[::-1])
    p["data"][0]["zmin"] = float(zmin)
    p["data"][0]["zmax"] = float(zmax)
    text = range_title(title, zmin, zmax, valid_range)
    p["layout"]["title"]["text"] = text
    p["layout"]["margin"]["t"] = _top_margin(text)
    return p
