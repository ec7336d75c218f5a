"""Figures of /neurons alone: signed weight images and histograms of active units."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from ...figures import CLASS_COLORS, merged, theme
from ...images import image_layout

__all__ = ["WEIGHT_COLORSCALE", "make_histogram_figure", "make_weight_figure"]

WEIGHT_COLORSCALE = [[0.0, "#2166ac"], [0.25, "#92c5de"], [0.5, "#ffffff"],
                     [0.75, "#f4a582"], [1.0, "#b2182b"]]
"""Diverging: blue = negative, white = zero, red = positive."""


def make_weight_figure(weights: np.ndarray | None, *, title: str | None = None, size: int = 28,
                       uirevision: str = "weights") -> go.Figure:
    """A signed ``size`` x ``size`` image on a diverging scale centred on zero.

    Parameters
    ----------
    weights : ndarray of shape (size * size,) or (size, size), or None
        E.g. a neuron's effective weight on each pixel. None draws an empty placeholder.
    title : str, optional
    size : int, default=28
        Side of the square image.

    Notes
    -----
    The colour range is symmetric, ``[-peak, peak]`` with ``peak`` the largest finite
    absolute value (1 when there is none), so white is always exactly zero.
    """
    traces = []
    if weights is not None:
        w = np.asarray(weights, dtype=np.float32).reshape(size, size)
        finite = np.abs(w[np.isfinite(w)])
        peak = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
        traces.append(dict(type="heatmap", 
            z=w[::-1], zmin=-peak, zmax=peak, zmid=0.0, colorscale=WEIGHT_COLORSCALE,
            showscale=True, colorbar=dict(thickness=10, len=0.9, tickformat=".2g"),
            hovertemplate="weight %{z:.3g}<extra></extra>"))
    return go.Figure(data=traces, layout=image_layout(title, uirevision))


def make_histogram_figure(counts: dict[str, np.ndarray], *, title: str | None = None,
                          axis_title: str = "neurons", uirevision: str = "hist",
                          layout: dict | None = None) -> go.Figure:
    """Overlaid integer histograms, one per series (e.g. strongly / mildly active)."""
    traces = []
    for i, (name, values) in enumerate(counts.items()):
        v = np.asarray(values)
        edges = np.arange(v.min(initial=0), v.max(initial=0) + 2)
        h, _ = np.histogram(v, bins=edges)
        traces.append(dict(type="bar", x=edges[:-1], y=h, name=name, opacity=0.75, marker_color=CLASS_COLORS[i]))
    extra = merged(dict(barmode="overlay", xaxis=dict(title=axis_title), yaxis=dict(title="images")), layout)
    return go.Figure(data=traces, layout=theme(title, uirevision, extra))
