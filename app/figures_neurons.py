"""Figure factories of the /neurons page: finished arrays in, ``go.Figure`` out.

Same theme as :mod:`app.figures`; kept apart so that page owns its factories.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from .figures import finish_image_figure

__all__ = ["WEIGHT_COLORSCALE", "make_weight_figure"]

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
    fig = go.Figure()
    if weights is not None:
        w = np.asarray(weights, dtype=np.float32).reshape(size, size)
        finite = np.abs(w[np.isfinite(w)])
        peak = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
        fig.add_trace(go.Heatmap(
            z=w[::-1], zmin=-peak, zmax=peak, zmid=0.0, colorscale=WEIGHT_COLORSCALE,
            showscale=True, colorbar=dict(thickness=10, len=0.9, tickformat=".2g"),
            hovertemplate="weight %{z:.3g}<extra></extra>"))
    return finish_image_figure(fig, title, uirevision)
