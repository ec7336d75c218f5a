"""Figure factories shared by several pages: finished arrays in, ``go.Figure`` out.

Traces are given to ``go.Figure`` as plain dicts and the layout whole (:func:`theme`), so
plotly validates each once: building the maps at start-up is a few milliseconds each.

No statistics are computed here. One theme for every figure (:func:`theme`): the
class colours below, a white plot background, a small template (plotly's default one
would add ~8 kB to every figure sent) and ``uirevision`` set so that a user's zoom
survives updates. Heatmaps travel as uint8/float32 typed arrays.

Page-specific factories live in the page's own ``figures`` module; images (digits,
weights) in :mod:`app.images`.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go

from fooling.regions import RegionGrid, segments_to_path

__all__ = [
    "CLASS_COLORS", "HALF_TRACE", "IRIS_AXES", "THIRD_TRACE", "TEMPLATE", "make_curve_figure",
    "make_hidden_map_figure", "make_iris_figure", "make_loss_figure", "make_region_figure", "merged",
    "region_colorscale", "region_z", "theme", "trace_index",
]

CLASS_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e",
                "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")
"""Colour of class k (colour-blind-aware order for the first four)."""

IRIS_AXES = ("petal length (cm)", "petal width (cm)")
HALF_TRACE = "P = 1/2 (boundary)"
THIRD_TRACE = "P = 1/3 (max. uncertainty)"
"""Names :func:`make_region_figure` gives its two contour overlays."""
_FONT = dict(family="system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", size=13, color="#2a3f5f")
_MARGIN = dict(l=50, r=20, t=40, b=45)
_AXIS = dict(automargin=True, gridcolor="#eee", zerolinecolor="#999", linecolor="#ccc", ticks="")
TEMPLATE = go.layout.Template(layout=dict(font=_FONT, xaxis=_AXIS, yaxis=_AXIS, colorway=list(CLASS_COLORS),
                                          hoverlabel=dict(align="left")))
"""The figures' template: just what the pages use (plotly's default template is ~8 kB of JSON)."""


def merged(base: dict, extra: dict | None) -> dict:
    """``base`` updated by ``extra``, nested dicts merged key by key (neither is changed)."""
    out = dict(base)
    for key, value in (extra or {}).items():
        out[key] = merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def theme(title: str | None, uirevision: str, extra: dict | None = None) -> dict:
    """The shared layout (template, fonts, margins, white background, pan by default) as a dict.

    Figures are built in one step, ``go.Figure(data=traces, layout=theme(...))``: plotly
    validates a layout given whole several times faster than through ``update_layout``.
    """
    base = dict(template=TEMPLATE, title=dict(text=title, x=0.01, font=dict(size=15)) if title else None,
                font=_FONT, margin=_MARGIN, plot_bgcolor="white", paper_bgcolor="white",
                uirevision=uirevision, legend=dict(orientation="h", y=-0.15, x=0),
                dragmode="pan", hovermode="closest")
    return merged(base, extra)


def _mix(hex_color: str, weight: float) -> str:
    """``hex_color`` blended toward white; weight 1 = full colour."""
    rgb = np.array([int(hex_color[i:i + 2], 16) for i in (1, 3, 5)], dtype=float)
    out = 255 - weight * (255 - rgb)
    return "rgb({:.0f},{:.0f},{:.0f})".format(*out)


def region_colorscale(n_classes: int, colors: Sequence[str] | None = None) -> list[list]:
    """A stepped colourscale: band k runs from pale to full class-k colour.

    Used with the values of :func:`region_z` (zmin 0, zmax ``n_classes * levels``).
    ``colors`` gives class k's colour (default :data:`CLASS_COLORS` in order).
    """
    palette = colors or CLASS_COLORS
    scale = []
    for k in range(n_classes):
        lo, hi = k / n_classes, (k + 1) / n_classes
        color = palette[k % len(palette)]
        scale.append([lo, _mix(color, 0.08)])
        scale.append([hi - 1e-9 if k < n_classes - 1 else hi, _mix(color, 0.85)])
    return scale


def region_z(grid: RegionGrid) -> tuple[np.ndarray, int]:
    """Heatmap values of a region map, as uint8: ``k * levels + q``.

    ``k`` is the predicted class and ``q`` in ``0 .. levels - 1`` the confidence above
    chance, ``(p_max - 1/K) / (1 - 1/K)``, in ``levels = 255 // K`` steps (25 or more).

    Returns
    -------
    z : ndarray of shape (ny, nx), uint8
    zmax : int
        ``K * levels`` (the colour scale's top).
    """
    k = grid.proba.shape[-1]
    levels = 255 // k
    chance = 1.0 / k
    conf = np.clip((grid.max_proba - chance) / (1 - chance), 0.0, 1.0)
    q = np.minimum(np.floor(conf * levels), levels - 1)
    return (grid.predicted.astype(np.int64) * levels + q).astype(np.uint8), k * levels


def trace_index(fig: go.Figure, name: str) -> int:
    """Index of the first trace called ``name`` (ValueError when there is none)."""
    for i, trace in enumerate(fig.data):
        if trace.name == name:
            return i
    raise ValueError(f"no trace named {name!r}")


def _path_trace(segs: Sequence[np.ndarray], name: str, dash: str, color: str = "#222",
                width: float = 1.4) -> dict:
    x, y = segments_to_path(np.concatenate([np.asarray(s, dtype=float).reshape(-1, 2, 2) for s in segs]))
    return dict(type="scatter", x=x.astype(np.float32), y=y.astype(np.float32), mode="lines", name=name,
                      hoverinfo="skip", line=dict(color=color, width=width, dash=dash))


def _region_traces(grid: RegionGrid, names: Sequence[str], *, points=None, labels=None, wrong=None,
                   probes=None, half=(), third=(), colors: Sequence[str] | None = None) -> list:
    k = len(names)
    palette = colors or CLASS_COLORS
    z, zmax = region_z(grid)
    traces = [dict(type="heatmap", 
        x=grid.xs.astype(np.float32), y=grid.ys.astype(np.float32), z=z, zmin=0, zmax=zmax,
        colorscale=region_colorscale(k, palette), showscale=False, name="regions",
        hovertemplate="(%{x:.3g}, %{y:.3g})<br>click to inspect<extra></extra>")]
    for segs, name, dash in ((half, HALF_TRACE, "solid"), (third, THIRD_TRACE, "dot")):
        if len(segs):
            traces.append(_path_trace(segs, name, dash))
    if points is not None:
        P = np.asarray(points, dtype=np.float32)
        for c in range(k):
            sel = labels == c
            traces.append(dict(type="scatter", 
                x=P[sel, 0], y=P[sel, 1], mode="markers", name=str(names[c]),
                marker=dict(color=palette[c % len(palette)], size=6,
                            line=dict(color="white", width=0.6)),
                hovertemplate=f"{names[c]}<br>(%{{x:.3g}}, %{{y:.3g}})<extra></extra>"))
        if wrong is not None and np.any(wrong):
            traces.append(dict(type="scatter", 
                x=P[wrong, 0], y=P[wrong, 1], mode="markers", name="misclassified",
                marker=dict(symbol="circle-open", size=14, color="red", line=dict(width=2)),
                hoverinfo="skip"))
    if probes is not None and len(probes):
        traces.append(dict(type="scatter", 
            x=probes[:, 0], y=probes[:, 1], mode="markers", name="essay's probes",
            marker=dict(symbol="star", size=13, color="gold", line=dict(color="black", width=1)),
            hovertemplate="probe (%{x}, %{y})<extra></extra>"))
    return traces


def _region_layout(grid: RegionGrid, title, axis_titles, view, uirevision, layout) -> dict:
    x0, x1, y0, y1 = view if view is not None else grid.bounds
    axes = dict(showgrid=False, zeroline=True, zerolinecolor="#999")
    return theme(title, uirevision, merged(dict(xaxis=dict(title=axis_titles[0], range=[x0, x1], **axes),
                                                yaxis=dict(title=axis_titles[1], range=[y0, y1], **axes)), layout))


def make_region_figure(grid: RegionGrid, names: Sequence[str], *,
                       points: np.ndarray | None = None, labels: np.ndarray | None = None,
                       wrong: np.ndarray | None = None, probes: np.ndarray | None = None,
                       half: Sequence[np.ndarray] = (), third: Sequence[np.ndarray] = (),
                       title: str | None = None,
                       axis_titles: tuple[str, str] = ("x", "y"),
                       view: tuple[float, float, float, float] | None = None,
                       uirevision: str = "map", layout: dict | None = None) -> go.Figure:
    """Class regions shaded by confidence, with data, probes and contour overlays.

    Parameters
    ----------
    grid : RegionGrid
        Colour = predicted class, saturation = top probability (pale = chance level,
        full = certain); sent as uint8 (:func:`region_z`).
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
        each becomes one trace (empty sequences draw nothing).
    The clicked point is not part of the figure: changing any part of a figure makes
    plotly redraw the whole map, so markers are drawn over it in the browser
    (``assets/markers.js``, :class:`app.components.PointStore`).
    view : (x0, x1, y0, y1), optional
        Initial axis ranges; default the grid's bounds.
    layout : dict, optional
        Merged into the layout (e.g. margins, a legend).
    """
    traces = _region_traces(grid, names, points=points, labels=labels, wrong=wrong, probes=probes,
                            half=half, third=third)
    return go.Figure(data=traces, layout=_region_layout(grid, title, axis_titles, view, uirevision, layout))


def make_iris_figure(grid: RegionGrid, names: Sequence[str], points: np.ndarray,
                     labels: np.ndarray, predicted: np.ndarray, *,
                     probes: np.ndarray | None = None,
                     half: Sequence[np.ndarray] = (), third: Sequence[np.ndarray] = (),
                     show_half: bool = True, show_third: bool = False,
                     title: str | None = None,
                     view: tuple[float, float, float, float] | None = None,
                     uirevision: str = "iris") -> go.Figure:
    """An iris model's class regions over the petal plane, with the 150 flowers.

    Parameters
    ----------
    grid : RegionGrid
        The model's probabilities over the plane.
    names : sequence of str
        Flower names, in class order.
    points : ndarray of shape (n, 2)
        Petal length and width of the flowers (cm).
    labels, predicted : ndarray of shape (n,)
        True and predicted class indices; points where they differ are ringed.
    probes : ndarray of shape (m, 2), optional
        Points marked with stars (the essay's probes).
    half, third : sequence of ndarray of shape (n_segments, 2, 2)
        P = 1/2 and P = 1/3 contour segments. Both overlays are always drawn (when
        given), ``show_half``/``show_third`` only set their visibility, so that a
        callback can toggle them with a ``Patch`` on ``data[i].visible``.
    view : (x0, x1, y0, y1), optional
        Initial axis ranges; default the grid's bounds.
    """
    traces = _region_traces(grid, names, points=points, labels=labels,
                            wrong=np.asarray(predicted) != np.asarray(labels), probes=probes, half=half, third=third)
    shown = {HALF_TRACE: show_half, THIRD_TRACE: show_third}
    flowers = set(map(str, names))
    for t in traces:
        if t.get("name") in shown:
            t["visible"] = bool(shown[t["name"]])
        elif t.get("name") in flowers:  # flowers sit inside regions of their own colour: a dark rim keeps them visible
            t["marker"] = dict(t["marker"], size=7, line=dict(color="#333", width=0.8))
    layout = dict(legend=dict(orientation="h", y=-0.16, x=0, font=dict(size=10), entrywidth=0.5,
                              entrywidthmode="fraction"), margin=dict(l=50, r=15, t=40 if title else 15, b=40))
    return go.Figure(data=traces, layout=_region_layout(grid, title, IRIS_AXES, view, uirevision, layout))


def make_hidden_map_figure(grid: RegionGrid, names: Sequence[str], *, reachable: np.ndarray | None = None,
                           reachable_name: str = "valid images reach", typical: np.ndarray | None = None,
                           typical_name: str = "typical of the training data", **region) -> go.Figure:
    """A hidden-plane map: :func:`make_region_figure` plus two outlines and a marker.

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
        Passed to :func:`make_region_figure` (points, labels, half, title, ...), and
        ``colors``: class k's colour (default :data:`CLASS_COLORS` in order; /lab colours
        each digit the same in every network).

    Returns
    -------
    go.Figure
    """
    layout = region.pop("layout", None)
    title, uirevision = region.pop("title", None), region.pop("uirevision", "map")
    axis_titles, view = region.pop("axis_titles", ("x", "y")), region.pop("view", None)
    traces = _region_traces(grid, names, **region)
    if reachable is not None and len(reachable):
        ring = np.vstack([reachable, reachable[:1]]).astype(np.float32)
        traces.append(dict(type="scatter", x=ring[:, 0], y=ring[:, 1], mode="lines", name=reachable_name,
                                 hoverinfo="skip", line=dict(color="#111", width=2.2)))
    if typical is not None and len(typical):
        traces.append(_path_trace([typical], typical_name, "dash", color="#555", width=1.5))
    return go.Figure(data=traces, layout=_region_layout(grid, title, axis_titles, view, uirevision, layout))


def make_loss_figure(curves: dict[str, np.ndarray], *, title: str | None = "Training loss",
                     uirevision: str = "loss", layout: dict | None = None) -> go.Figure:
    """Loss per epoch, one line per network."""
    traces = []
    for i, (name, curve) in enumerate(curves.items()):
        c = np.asarray(curve, dtype=np.float32)
        traces.append(dict(type="scatter", x=np.arange(1, len(c) + 1, dtype=np.int16), y=c, mode="lines", name=name,
                                 line=dict(color=CLASS_COLORS[i % len(CLASS_COLORS)])))
    extra = merged(dict(xaxis=dict(title="epoch"), yaxis=dict(title="cross-entropy loss", type="log")), layout)
    return go.Figure(data=traces, layout=theme(title, uirevision, extra))


def make_curve_figure(x: np.ndarray, y: np.ndarray, *, marker_x: float | None = None,
                      current_x: float | None = None, title: str | None = None,
                      axis_titles: tuple[str, str] = ("x", "y"),
                      y_range: tuple[float, float] | None = (0, 1.02),
                      uirevision: str = "curve") -> go.Figure:
    """One curve with an optional vertical marker (e.g. the flip strength) and a cursor.

    The marker (when given) is the layout's first shape, the cursor its last.
    """
    trace = dict(type="scatter", x=np.asarray(x, np.float32), y=np.asarray(y, np.float32),
                       mode="lines", line=dict(color=CLASS_COLORS[0], width=2),
                       hovertemplate="%{x:.3g}: %{y:.3f}<extra></extra>", name=axis_titles[1])
    shapes, notes = [], []
    if marker_x is not None:
        shapes.append(dict(type="line", xref="x", yref="paper", x0=marker_x, x1=marker_x, y0=0, y1=1,
                           line=dict(color=CLASS_COLORS[1], dash="dash")))
        notes.append(dict(x=marker_x, xref="x", y=0.45, yref="paper", text=f"flip at {marker_x:.3g}",
                          showarrow=False, xanchor="left", yanchor="middle"))
    if current_x is not None:
        shapes.append(dict(type="line", xref="x", yref="paper", x0=current_x, x1=current_x, y0=0, y1=1,
                           line=dict(color="#444", width=1)))
    extra = dict(xaxis=dict(title=axis_titles[0]),
                 yaxis=dict(title=axis_titles[1], range=list(y_range) if y_range else None),
                 shapes=shapes, annotations=notes, showlegend=False)
    return go.Figure(data=[trace], layout=theme(title, uirevision, extra))
