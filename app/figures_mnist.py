"""Figures of the /mnist page: the hidden-plane map, a tiled sample of real digits, and the digit patch.

:func:`make_hidden_map_figure` and :func:`make_samples_figure` follow :mod:`app.figures`
(finished arrays in, ``go.Figure`` out). :func:`patch_digit` is the per-click update of a
figure made by :func:`app.figures.make_digit_figure`: a click changes the picture, not the
figure, so it sends only the new pixels and colour range instead of a whole new figure.
"""

from __future__ import annotations

import base64
from typing import Sequence

import numpy as np
import plotly.graph_objects as go
from dash import Patch

from fooling.regions import segments_to_path

from .figures import _theme, make_digit_figure, make_region_figure

__all__ = ["NEAREST", "blank_digit_figure", "decode_typed_array", "digit_range", "make_hidden_map_figure",
           "make_samples_figure", "patch_digit", "typed_array"]

NEAREST = "nearest reachable"
"""Name of the map trace marking the nearest point valid images reach (second to last)."""


def digit_range(image: np.ndarray, valid_range: tuple[float, float] = (0.0, 1.0)) -> tuple[float, float]:
    """Colour range :func:`~app.figures.make_digit_figure` uses for ``image``.

    The valid pixel range, stretched to the image's own range when pixels fall outside.
    """
    img = np.asarray(image, dtype=float)
    lo, hi = valid_range
    return min(lo, float(img.min())), max(hi, float(img.max()))


def typed_array(a: np.ndarray) -> dict:
    """``a`` as plotly.js's typed-array spec (float32, base64): one string instead of a list
    of numbers to serialise; missing values (NaN) stay missing."""
    a = np.ascontiguousarray(a, dtype="<f4")
    return {"dtype": "f4", "bdata": base64.b64encode(a.tobytes()).decode("ascii"),
            "shape": ", ".join(str(n) for n in a.shape)}


def decode_typed_array(spec: dict) -> np.ndarray:
    """Inverse of :func:`typed_array` (for tests and tools)."""
    a = np.frombuffer(base64.b64decode(spec["bdata"]), dtype="<" + spec["dtype"])
    return a.reshape([int(n) for n in spec["shape"].split(",")]) if "shape" in spec else a


def blank_digit_figure(title: str, size: int = 28) -> go.Figure:
    """A digit figure with an all-missing image: shows nothing, but has the trace to patch.

    The axes are fixed to the image's extent (an all-missing heatmap has no extent for
    plotly to autorange on, and a later patch would keep the wrong one).
    """
    fig = make_digit_figure(np.full(size * size, np.nan, dtype=np.float32), title=title, size=size)
    fig.update_xaxes(range=[-0.5, size - 0.5], autorange=False)
    fig.update_yaxes(range=[-0.5, size - 0.5], autorange=False)
    return fig


def patch_digit(image: np.ndarray | None, *, title: str, valid_range: tuple[float, float] = (0.0, 1.0),
                size: int = 28) -> Patch:
    """Update a :func:`blank_digit_figure` (or any one-heatmap digit figure) to ``image``.

    Parameters
    ----------
    image : ndarray of shape (size * size,), or None
        Pixels in row order; None blanks the picture.
    title : str
    valid_range : (float, float)
        As in :func:`~app.figures.make_digit_figure`: the colour bar appears when the
        image leaves this range.

    Returns
    -------
    dash.Patch
        Sets the heatmap's ``z`` (rows bottom-up, as the factory draws them, as a float32
        typed array: see :func:`typed_array`), ``zmin``, ``zmax``, ``showscale`` and the title.
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
    p["data"][0]["showscale"] = bool(zmin < valid_range[0] or zmax > valid_range[1])
    p["layout"]["title"]["text"] = title
    return p


def make_samples_figure(images: np.ndarray, col_titles: Sequence[str], *, gap: int = 2,
                        title: str | None = None, uirevision: str = "samples") -> go.Figure:
    """A grid of small digit images drawn as one heatmap.

    Parameters
    ----------
    images : ndarray of shape (n_rows, n_cols, size * size)
        Pixels in [0, 1]; column ``j`` holds examples of class ``col_titles[j]``.
        Missing cells may be NaN (drawn blank).
    col_titles : sequence of str
        One heading per column.
    gap : int
        Blank pixels between images.
    """
    imgs = np.asarray(images, dtype=np.float32)
    n_rows, n_cols, n_pix = imgs.shape
    size = int(round(np.sqrt(n_pix)))
    step = size + gap
    canvas = np.full((n_rows * step - gap, n_cols * step - gap), np.nan, dtype=np.float32)
    for i in range(n_rows):
        for j in range(n_cols):
            canvas[i * step:i * step + size, j * step:j * step + size] = imgs[i, j].reshape(size, size)
    fig = go.Figure(go.Heatmap(z=canvas[::-1], zmin=0, zmax=1, colorscale="gray", showscale=False,
                               hoverinfo="skip"))
    for j, name in enumerate(col_titles):
        fig.add_annotation(x=j * step + (size - 1) / 2, y=canvas.shape[0] - 0.5, text=str(name),
                           showarrow=False, yanchor="bottom", font=dict(size=13))
    fig.update_xaxes(visible=False, constrain="domain")
    fig.update_yaxes(visible=False, scaleanchor="x", constrain="domain")
    _theme(fig, title, uirevision)
    fig.update_layout(margin=dict(l=5, r=5, t=45 if title else 22, b=5), dragmode=False)
    return fig


def make_hidden_map_figure(grid, names: Sequence[str], *, reachable: np.ndarray | None = None,
                           reachable_name: str = "valid images reach", typical: np.ndarray | None = None,
                           typical_name: str = "typical of the training data", **region) -> go.Figure:
    """A hidden-plane map: :func:`~app.figures.make_region_figure` plus two outlines and a marker.

    Parameters
    ----------
    grid : fooling.regions.RegionGrid
    names : sequence of str
    reachable : ndarray of shape (m, 2), optional
        Vertices of the region valid images reach, in order; drawn as one closed outline
        named ``reachable_name``.
    typical : ndarray of shape (n_segments, 2, 2), optional
        Contour segments of a density check's threshold (drawn dashed, ``typical_name``).
    **region
        Passed to :func:`~app.figures.make_region_figure` (points, labels, half, title, ...).

    Returns
    -------
    go.Figure
        The last trace is ``clicked`` (as in ``make_region_figure``); the one before it is
        :data:`NEAREST`, empty until a callback moves it.
    """
    fig = make_region_figure(grid, names, **region)
    extra = []
    if reachable is not None and len(reachable):
        ring = np.vstack([reachable, reachable[:1]]).astype(float)
        extra.append(go.Scatter(x=ring[:, 0], y=ring[:, 1], mode="lines", name=reachable_name,
                                hoverinfo="skip", line=dict(color="#111", width=2.2)))
    if typical is not None and len(typical):
        x, y = segments_to_path(typical)
        extra.append(go.Scatter(x=x, y=y, mode="lines", name=typical_name, hoverinfo="skip",
                                line=dict(color="#555", width=1.5, dash="dash")))
    extra.append(go.Scatter(x=[None], y=[None], mode="markers", name=NEAREST, showlegend=False,
                            hoverinfo="skip", marker=dict(symbol="diamond", size=12, color="white",
                                                          line=dict(color="black", width=2))))
    n = len(fig.data)
    fig.add_traces(extra)
    order = list(range(n - 1)) + list(range(n, n + len(extra))) + [n - 1]  # 'clicked' stays last
    fig.data = [fig.data[i] for i in order]
    return fig
