"""Figure factories: finished arrays in, ``go.Figure`` out. No statistics computed here.

One theme for every figure: the class colours below, a white plot background and
``uirevision`` set so that a user's zoom survives updates.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go

from fooling.regions import RegionGrid, segments_to_path

__all__ = [
    "CLASS_COLORS",
    "make_curve_figure",
    "make_digit_figure",
    "make_histogram_figure",
    "make_loss_figure",
    "make_region_figure",
    "finish_image_figure",
    "region_colorscale",
]

CLASS_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e",
                "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")
"""Colour of class k (colour-blind-aware order for the first four)."""

_FONT = dict(family="system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", size=13)
_MARGIN = dict(l=50, r=20, t=40, b=45)


def _theme(fig: go.Figure, title: str | None, uirevision: str) -> go.Figure:
    fig.update_layout(
        title=dict(text=title, x=0.01, font=dict(size=15)) if title else None,
        font=_FONT, margin=_MARGIN, plot_bgcolor="white", paper_bgcolor="white",
        uirevision=uirevision, legend=dict(orientation="h", y=-0.15, x=0),
        dragmode="pan", hovermode="closest")
    return fig


def _mix(hex_color: str, weight: float) -> str:
    """``hex_color`` blended toward white; weight 1 = full colour."""
    rgb = np.array([int(hex_color[i:i + 2], 16) for i in (1, 3, 5)], dtype=float)
    out = 255 - weight * (255 - rgb)
    return "rgb({:.0f},{:.0f},{:.0f})".format(*out)


def region_colorscale(n_classes: int) -> list[list]:
    """A stepped colourscale: band k runs from pale to full class-k colour.

    Used with ``z = k + c`` where k is the predicted class and c in [0, 1) the
    confidence above chance (see :func:`make_region_figure`).
    """
    scale = []
    for k in range(n_classes):
        lo, hi = k / n_classes, (k + 1) / n_classes
        scale.append([lo, _mix(CLASS_COLORS[k], 0.08)])
        scale.append([hi - 1e-9 if k < n_classes - 1 else hi, _mix(CLASS_COLORS[k], 0.85)])
    return scale


def make_region_figure(grid: RegionGrid, names: Sequence[str], *,
                       points: np.ndarray | None = None, labels: np.ndarray | None = None,
                       wrong: np.ndarray | None = None, probes: np.ndarray | None = None,
                       half: Sequence[np.ndarray] = (), third: Sequence[np.ndarray] = (),
                       clicked: Sequence[float] | None = None, title: str | None = None,
                       axis_titles: tuple[str, str] = ("x", "y"),
                       view: tuple[float, float, float, float] | None = None,
                       uirevision: str = "map") -> go.Figure:
    """Class regions shaded by confidence, with data, probes and contour overlays.

    Parameters
    ----------
    grid : RegionGrid
        Colour = predicted class, saturation = top probability (pale = chance level,
        full = certain).
    names : sequence of str
        Class names, in grid order.
    points : ndarray of shape (n, 2), optional
        Data to scatter, coloured by ``labels`` (ndarray of shape (n,) of class indices).
    wrong : ndarray of shape (n,) of bool, optional
        Points to ring in red (misclassified).
    probes : ndarray of shape (m, 2), optional
        Points to mark with stars.
    half, third : sequence of ndarray of shape (n_segments, 2, 2)
        Contour segments at P = 1/2 (boundaries) and P = 1/3 (maximum uncertainty);
        each becomes one dotted/dashed trace (empty sequences draw nothing).
    clicked : (x, y), optional
        The last clicked point (trace named ``clicked``, always present, so a callback
        can move it with a ``Patch``).
    view : (x0, x1, y0, y1), optional
        Initial axis ranges; default the grid's bounds.
    """
    k = len(names)
    chance = 1.0 / k
    conf = np.clip((grid.max_proba - chance) / (1 - chance), 0, 0.999)
    z = (grid.predicted + conf).astype(np.float32)
    fig = go.Figure()
    fig.add_trace(go.Heatmap(
        x=grid.xs.astype(np.float32), y=grid.ys.astype(np.float32), z=z, zmin=0, zmax=k,
        colorscale=region_colorscale(k), showscale=False, name="regions",
        hovertemplate="(%{x:.3g}, %{y:.3g})<br>click to inspect<extra></extra>"))
    for segs, name, dash in ((half, "P = 1/2 (boundary)", "solid"),
                             (third, "P = 1/3 (max. uncertainty)", "dot")):
        if len(segs):
            x, y = segments_to_path(np.concatenate(list(segs)))
            fig.add_trace(go.Scatter(x=x, y=y, mode="lines", name=name, hoverinfo="skip",
                                     line=dict(color="#222", width=1.4, dash=dash)))
    if points is not None:
        for c in range(k):
            sel = labels == c
            fig.add_trace(go.Scatter(
                x=points[sel, 0], y=points[sel, 1], mode="markers", name=str(names[c]),
                marker=dict(color=CLASS_COLORS[c], size=6, line=dict(color="white", width=0.6)),
                hovertemplate=f"{names[c]}<br>(%{{x:.3g}}, %{{y:.3g}})<extra></extra>"))
        if wrong is not None and np.any(wrong):
            fig.add_trace(go.Scatter(
                x=points[wrong, 0], y=points[wrong, 1], mode="markers", name="misclassified",
                marker=dict(symbol="circle-open", size=14, color="red", line=dict(width=2)),
                hoverinfo="skip"))
    if probes is not None and len(probes):
        fig.add_trace(go.Scatter(
            x=probes[:, 0], y=probes[:, 1], mode="markers", name="essay's probes",
            marker=dict(symbol="star", size=13, color="gold", line=dict(color="black", width=1)),
            hovertemplate="probe (%{x}, %{y})<extra></extra>"))
    cx, cy = (clicked if clicked is not None else (None, None))
    fig.add_trace(go.Scatter(
        x=[cx], y=[cy], mode="markers", name="clicked", showlegend=False, hoverinfo="skip",
        marker=dict(symbol="x-thin", size=16, color="black", line=dict(width=3))))
    x0, x1, y0, y1 = view if view is not None else grid.bounds
    fig.update_xaxes(title=axis_titles[0], range=[x0, x1], showgrid=False, zeroline=True,
                     zerolinecolor="#999")
    fig.update_yaxes(title=axis_titles[1], range=[y0, y1], showgrid=False, zeroline=True,
                     zerolinecolor="#999")
    return _theme(fig, title, uirevision)


def make_digit_figure(image: np.ndarray | None, *, title: str | None = None,
                      valid_range: tuple[float, float] = (0.0, 1.0), size: int = 28,
                      uirevision: str = "digit") -> go.Figure:
    """A ``size`` x ``size`` image in grey (white = high), or an empty placeholder.

    The colour range is the valid pixel range, stretched to the image's own range when
    pixels fall outside it (the title should say so).
    """
    fig = go.Figure()
    if image is not None:
        img = np.asarray(image, dtype=np.float32).reshape(size, size)
        lo, hi = valid_range
        zmin, zmax = min(lo, float(img.min())), max(hi, float(img.max()))
        fig.add_trace(go.Heatmap(z=img[::-1], zmin=zmin, zmax=zmax, colorscale="gray",
                                 showscale=zmin < lo or zmax > hi, colorbar=dict(thickness=10),
                                 hovertemplate="pixel %{z:.3f}<extra></extra>"))
    return finish_image_figure(fig, title, uirevision)


def finish_image_figure(fig: go.Figure, title: str | None, uirevision: str) -> go.Figure:
    """Square pixels, no axes, tight margins, the shared theme: for any image heatmap."""
    fig.update_xaxes(visible=False, constrain="domain")
    fig.update_yaxes(visible=False, scaleanchor="x", constrain="domain")
    _theme(fig, title, uirevision)
    fig.update_layout(margin=dict(l=5, r=5, t=30 if title else 5, b=5), dragmode=False)
    return fig


def make_loss_figure(curves: dict[str, np.ndarray], *, title: str | None = "Training loss",
                     uirevision: str = "loss") -> go.Figure:
    """Loss per epoch, one line per network."""
    fig = go.Figure()
    for i, (name, curve) in enumerate(curves.items()):
        c = np.asarray(curve, dtype=np.float32)
        fig.add_trace(go.Scatter(x=np.arange(1, len(c) + 1), y=c, mode="lines", name=name,
                                 line=dict(color=CLASS_COLORS[i])))
    fig.update_xaxes(title="epoch")
    fig.update_yaxes(title="cross-entropy loss", type="log")
    return _theme(fig, title, uirevision)


def make_curve_figure(x: np.ndarray, y: np.ndarray, *, marker_x: float | None = None,
                      current_x: float | None = None, title: str | None = None,
                      axis_titles: tuple[str, str] = ("x", "y"),
                      y_range: tuple[float, float] | None = (0, 1.02),
                      uirevision: str = "curve") -> go.Figure:
    """One curve with an optional vertical marker (e.g. the flip strength) and a cursor."""
    fig = go.Figure(go.Scatter(x=np.asarray(x, np.float32), y=np.asarray(y, np.float32),
                               mode="lines", line=dict(color=CLASS_COLORS[0], width=2),
                               hovertemplate="%{x:.3g}: %{y:.3f}<extra></extra>", name=axis_titles[1]))
    if marker_x is not None:
        fig.add_vline(x=marker_x, line=dict(color=CLASS_COLORS[1], dash="dash"),
                      annotation_text=f"flip at {marker_x:.3g}", annotation_position="top left")
    if current_x is not None:
        fig.add_vline(x=current_x, line=dict(color="#444", width=1))
    fig.update_xaxes(title=axis_titles[0])
    fig.update_yaxes(title=axis_titles[1], range=list(y_range) if y_range else None)
    fig = _theme(fig, title, uirevision)
    fig.update_layout(showlegend=False)
    return fig


def make_histogram_figure(counts: dict[str, np.ndarray], *, title: str | None = None,
                          axis_title: str = "neurons", uirevision: str = "hist") -> go.Figure:
    """Overlaid integer histograms, one per series (e.g. strongly / mildly active)."""
    fig = go.Figure()
    for i, (name, values) in enumerate(counts.items()):
        v = np.asarray(values)
        edges = np.arange(v.min(initial=0), v.max(initial=0) + 2)
        h, _ = np.histogram(v, bins=edges)
        fig.add_trace(go.Bar(x=edges[:-1], y=h, name=name, opacity=0.75,
                             marker_color=CLASS_COLORS[i]))
    fig.update_layout(barmode="overlay")
    fig.update_xaxes(title=axis_title)
    fig.update_yaxes(title="images")
    return _theme(fig, title, uirevision)


apply_theme = _theme
