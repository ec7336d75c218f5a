"""Figures of /ood alone: finished arrays in, ``go.Figure`` out.

* :func:`make_alpha_ray_figure` — Hein's alpha-ray: one line per model against alpha
  (log axis), optionally a bound drawn as a dotted line.
* :func:`make_examples_figure` — small image tiles of the out-of-distribution sets, one
  heatmap for all of them, each tile captioned with a network's answer.
"""

from __future__ import annotations

from typing import Collection, Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from ...figures import CLASS_COLORS, theme
from ...images import image_layout

__all__ = ["CONFIDENT_COLOR", "GAP", "ROW_GAP", "make_alpha_ray_figure", "make_examples_figure"]

CONFIDENT_COLOR = "#c0392b"
"""Caption colour of a tile answered with at least the 'confident' probability."""
GAP, ROW_GAP = 6, 12
"""Blank pixels between tiles side by side, and below each tile (room for its caption)."""


def make_alpha_ray_figure(curves: Mapping[str, Mapping[str, Sequence[float]]], *,
                          labels: Mapping[str, str] | None = None, colors: Mapping[str, str] | None = None,
                          dashed: Collection[str] = (), y_title: str = "mean top probability",
                          y_range: tuple[float, float] = (0.0, 1.02),
                          bound: tuple[float, str] | None = None, title: str | None = None,
                          uirevision: str = "ood-rays") -> go.Figure:
    """One line per model: a quantity of ``alpha * x`` against ``alpha``.

    Parameters
    ----------
    curves : mapping of str to mapping
        Per model ``alpha`` (m positive floats) and ``y`` (m floats), in legend order.
    labels, colors : mapping of str to str, optional
        Legend text and line colour per model.
    dashed : collection of str
        Models drawn dashed (the RBF heads).
    y_range : (low, high)
        Of the y axis.
    bound : (value, name), optional
        A horizontal dotted line at ``value`` (e.g. the tanh net's largest top probability).

    Returns
    -------
    go.Figure
        One trace per model, in ``curves`` order, then the bound's (if any). The x axis is
        logarithmic over the alphas' range.
    """
    traces, lo, hi = [], np.inf, -np.inf
    for i, (name, c) in enumerate(curves.items()):
        a = np.asarray(c["alpha"], dtype=float)
        y = np.asarray(c["y"], dtype=float)
        lo, hi = min(lo, float(a.min())), max(hi, float(a.max()))
        label = (labels or {}).get(name, name)
        traces.append(dict(type="scatter", x=a.astype(np.float32), y=y.astype(np.float32), mode="lines+markers",
                           name=label, marker=dict(size=4),
                           line=dict(color=(colors or {}).get(name, CLASS_COLORS[i % len(CLASS_COLORS)]),
                                     width=2.2, dash="dash" if name in dashed else "solid"),
                           hovertemplate=f"{label}<br>α = %{{x:.3g}}: %{{y:.3f}}<extra></extra>"))
    if bound is not None and np.isfinite(lo):
        value, name = bound
        traces.append(dict(type="scatter", x=[lo, hi], y=[value, value], mode="lines", name=f"{name} ({value:.3f})",
                           line=dict(color="#555", width=1.2, dash="dot"), hoverinfo="skip"))
    def within(values):
        return [v for v in values if lo * (1 - 1e-9) <= v <= hi * (1 + 1e-9)]

    ticks = within([10.0 ** k for k in range(-3, 7)])
    extra = dict(xaxis=dict(title="α (every pixel times α)", type="log", tickvals=ticks,
                            ticktext=[f"{t:,.10g}" for t in ticks], tickangle=0,
                            minor=dict(tickvals=within([m * 10.0 ** k for k in range(-3, 7) for m in (2, 5)]),
                                       showgrid=True, gridcolor="#f3f3f3"),
                            range=[np.log10(lo), np.log10(hi)] if np.isfinite(lo) else None),
                 yaxis=dict(title=y_title, range=list(y_range)),
                 # under the axis title: on top, the mode bar would cover its right end
                 legend=dict(orientation="h", yanchor="top", y=-0.2, x=0, font=dict(size=11)),
                 margin=dict(t=30, b=45),
                 dragmode="zoom", hovermode="closest")
    return go.Figure(data=traces, layout=theme(title, uirevision, extra))


def make_examples_figure(images: np.ndarray, col_titles: Sequence[str], captions: Sequence[Sequence[str]],
                         confident: np.ndarray | None = None, *, title: str | None = None,
                         uirevision: str = "ood-examples") -> go.Figure:
    """Image tiles in a grid, drawn as one heatmap, each with a caption under it.

    Parameters
    ----------
    images : ndarray of shape (n_rows, n_cols, size * size)
        Grey levels in [0, 1] (black to white), already mapped for display; column ``j``
        holds examples of ``col_titles[j]``. NaN tiles are left blank.
    col_titles : sequence of str
        One heading per column (may hold ``<br>``).
    captions : sequence of sequence of str
        ``captions[i][j]`` is written under tile (i, j) (empty: nothing).
    confident : ndarray of shape (n_rows, n_cols), bool, optional
        Captions drawn in :data:`CONFIDENT_COLOR` (and bold).

    Returns
    -------
    go.Figure
        Trace 0 is the heatmap (uint8: 0-254 grey, 255 the white gaps); the captions are
        the layout's annotations after the column titles.
    """
    imgs = np.asarray(images, dtype=np.float32)
    n_rows, n_cols, n_pix = imgs.shape
    size = int(round(np.sqrt(n_pix)))
    step_x, step_y = size + GAP, size + ROW_GAP
    canvas = np.full((n_rows * step_y, n_cols * step_x - GAP), np.nan, dtype=np.float32)
    for i in range(n_rows):
        for j in range(n_cols):
            canvas[i * step_y:i * step_y + size, j * step_x:j * step_x + size] = imgs[i, j].reshape(size, size)
    z = np.where(np.isnan(canvas), 255, np.round(np.clip(canvas, 0, 1) * 254)).astype(np.uint8)[::-1]
    heatmap = dict(type="heatmap", z=z, zmin=0, zmax=255, showscale=False, hoverinfo="skip",
                   colorscale=[[0, "black"], [254 / 255, "white"], [1, "white"]])
    top = canvas.shape[0] - 0.5
    notes = [dict(x=j * step_x + (size - 1) / 2, y=top, text=str(t), showarrow=False, yanchor="bottom",
                  font=dict(size=11), align="center") for j, t in enumerate(col_titles)]
    sure = np.zeros((n_rows, n_cols), bool) if confident is None else np.asarray(confident, bool)
    for i in range(n_rows):
        for j in range(n_cols):
            text = captions[i][j]
            if not text:
                continue
            notes.append(dict(x=j * step_x + (size - 1) / 2, y=top - i * step_y - size, text=text,
                              showarrow=False, yanchor="top", yshift=-1,
                              font=dict(size=11, color=CONFIDENT_COLOR if sure[i, j] else "#333",
                                        weight="bold" if sure[i, j] else "normal")))
    layout = image_layout(title, uirevision, dict(annotations=notes, margin=dict(t=58 if title else 44, b=2),
                                                  yaxis=dict(constraintoward="top")))
    return go.Figure(data=[heatmap], layout=layout)
