"""Figures of /mnist alone: a tiled sample of real held-out digits."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go

from ...images import image_layout

__all__ = ["make_samples_figure"]


def make_samples_figure(images: np.ndarray, col_titles: Sequence[str], *, gap: int = 2,
                        title: str | None = None, uirevision: str = "samples") -> go.Figure:
    """A grid of small digit images drawn as one heatmap.

    Parameters
    ----------
    images : ndarray of shape (n_rows, n_cols, size * size)
        Pixels in [0, 1]; column ``j`` holds examples of class ``col_titles[j]``.
        Missing cells may be NaN (drawn blank). Sent as uint8 grey levels.
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
    # uint8 grey levels 0..254 (black to white); 255 marks the gaps, drawn white like the page
    z = np.where(np.isnan(canvas), 255, np.round(np.clip(canvas, 0, 1) * 254)).astype(np.uint8)[::-1]
    heatmap = dict(type="heatmap", z=z, zmin=0, zmax=255, colorscale=[[0, "black"], [254 / 255, "white"], [1, "white"]],
                         showscale=False, hoverinfo="skip")
    notes = [dict(x=j * step + (size - 1) / 2, y=canvas.shape[0] - 0.5, text=str(name), showarrow=False,
                  yanchor="bottom", font=dict(size=13)) for j, name in enumerate(col_titles)]
    layout = image_layout(title, uirevision, dict(annotations=notes, margin=dict(t=45 if title else 22)))
    return go.Figure(data=[heatmap], layout=layout)
