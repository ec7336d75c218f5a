"""Figures of /compare alone: finished arrays in, ``go.Figure`` out.

* :func:`make_confidence_curves_figure` — top probability against the distance to the
  nearest training point, every model on one chart.
* :func:`make_density_map_figure` — one model's plane: where it is confident, which part
  of that a density check flags, the density's contour lines and the training points.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from fooling.regions import segments_to_path

from ...figures import CLASS_COLORS, theme

__all__ = ["DENSITY_COLORS", "LEGEND", "MODEL_COLORS", "density_map_z", "make_confidence_curves_figure",
           "make_density_map_figure"]

MODEL_COLORS = {
    "logistic": "#d62728", "svm_linear": "#ff7f0e", "mlp_identity": "#8c564b",
    "mlp_tanh": "#9467bd", "svm_rbf": "#1f77b4", "mlp_identity_rbf_head": "#17becf",
}
"""Colour of each model on every /compare figure (linear heads warm, RBF models cool)."""

DENSITY_COLORS = {"low": "#ffffff", "high": "#8c8c8c", "passes": "#d62728", "flagged": "#1f77b4"}
"""Density map: grey ramp below the threshold; confident points that pass / are flagged."""

LEGEND = {
    "below": "P < {t} (darker: surer)",
    "passes": "P ≥ {t}, passes the density check",
    "flagged": "P ≥ {t}, flagged out of distribution",
    "points": "training points",
    "disc": "disc of {r:g} data radii",
    "bounds": "square the tanh net can reach",
}
"""Legend entries of :func:`make_density_map_figure` (``{t}`` threshold, ``{r}`` disc size)."""

_EPS = 1e-9


def _color(name: str, i: int, colors: Mapping[str, str] | None) -> str:
    if colors and name in colors:
        return colors[name]
    return MODEL_COLORS.get(name, CLASS_COLORS[i % len(CLASS_COLORS)])


def _pct(t: float) -> str:
    return f"{100 * t:g}%"


def make_confidence_curves_figure(curves: Mapping[str, Mapping[str, np.ndarray]], *,
                                  labels: Mapping[str, str] | None = None,
                                  colors: Mapping[str, str] | None = None,
                                  threshold: float | None = 0.99, title: str | None = None,
                                  x_title: str = "distance to the nearest training point (data radii)",
                                  uirevision: str = "compare-curves") -> go.Figure:
    """Median (solid) and 90th percentile (dashed, same colour) of the top probability.

    Parameters
    ----------
    curves : mapping of str to mapping
        Per model: ``x`` ndarray of shape (n,), the bin centres (e.g. in data radii);
        ``median`` and ``p90`` ndarray of shape (n,) (NaN points are left out).
    labels : mapping of str to str, optional
        Legend text per model; default the model's name.
    colors : mapping of str to str, optional
        Line colour per model; default :data:`MODEL_COLORS`.
    threshold : float, optional
        Drawn as a dotted horizontal line (the confidence that counts as fooled).

    Returns
    -------
    go.Figure
        Two traces per model (median, then 90th percentile, in ``curves`` order), then
        one legend-only trace explaining the dashed lines.
    """
    traces = []
    for i, (name, c) in enumerate(curves.items()):
        x = np.asarray(c["x"], dtype=float)
        label = (labels or {}).get(name, name)
        color = _color(name, i, colors)
        for key, dash, width, show in (("median", "solid", 2.4, True), ("p90", "dash", 1.2, False)):
            y = np.asarray(c[key], dtype=float)
            ok = np.isfinite(x) & np.isfinite(y)
            what = "median" if key == "median" else "90th percentile"
            traces.append(dict(type="scatter", 
                x=x[ok].astype(np.float32), y=y[ok].astype(np.float32), mode="lines",
                name=label if show else f"{label} (90th percentile)", legendgroup=name,
                showlegend=show, line=dict(color=color, width=width, dash=dash),
                hovertemplate=f"{label}<br>%{{x:.2f}} radii: {what} %{{y:.3f}}<extra></extra>"))
    traces.append(dict(type="scatter", x=[None], y=[None], mode="lines", name="dashed: 90th percentile",
                             line=dict(color="#555", width=1.2, dash="dash"), hoverinfo="skip"))
    shapes, notes = [], []
    if threshold is not None:
        shapes.append(dict(type="line", xref="paper", x0=0, x1=1, yref="y", y0=threshold, y1=threshold,
                           line=dict(color="#444", width=1, dash="dot")))
        notes.append(dict(xref="paper", x=1, yref="y", y=threshold, text=f"{_pct(threshold)}",
                          showarrow=False, xanchor="right", yanchor="top"))
    grid = dict(showgrid=True, gridcolor="#eee")
    extra = dict(xaxis=dict(title=x_title, rangemode="tozero", **grid),
                 yaxis=dict(title="top class probability", range=[0.2, 1.03], **grid),
                 shapes=shapes, annotations=notes, legend=dict(orientation="h", y=-0.22, x=0),
                 margin=dict(b=110), hovermode="closest")
    return go.Figure(data=traces, layout=theme(title, uirevision, extra))


def density_map_z(top: np.ndarray, flagged: np.ndarray, *, threshold: float, chance: float) -> np.ndarray:
    """The heatmap values :func:`make_density_map_figure` draws.

    Below ``threshold``: ``(top - chance) / (threshold - chance)`` clipped to [0, 1)
    (a grey ramp); confident and not flagged: 1.5; confident and flagged: 2.5; NaN
    (outside the measured area) stays NaN. The colour scale spans [0, 3].

    Returns
    -------
    ndarray of the shape of ``top``, float32
    """
    top = np.asarray(top, dtype=float)
    flag = np.asarray(flagged, dtype=bool)
    with np.errstate(invalid="ignore"):
        confident = top >= threshold
        z = np.clip((top - chance) / max(threshold - chance, _EPS), 0.0, 1.0 - 1e-3)
    z = np.where(confident, np.where(flag, 2.5, 1.5), z)
    z[~np.isfinite(top)] = np.nan
    return z.astype(np.float32)


def _density_colorscale() -> list[list]:
    c = DENSITY_COLORS
    return [[0.0, c["low"]], [1 / 3 - _EPS, c["high"]], [1 / 3, c["passes"]], [2 / 3 - _EPS, c["passes"]],
            [2 / 3, c["flagged"]], [1.0, c["flagged"]]]


def _circle(centre: Sequence[float], r: float, n: int = 241) -> tuple[np.ndarray, np.ndarray]:
    t = np.linspace(0.0, 2 * np.pi, n)
    return centre[0] + r * np.cos(t), centre[1] + r * np.sin(t)


def make_density_map_figure(xs: np.ndarray, ys: np.ndarray, top: np.ndarray, flagged: np.ndarray, *,
                            threshold: float, chance: float,
                            contours: Mapping[str, np.ndarray] | None = None,
                            points: np.ndarray | None = None,
                            disc: tuple[Sequence[float], float, float] | None = None,
                            bounds: tuple[float, float, float, float] | None = None,
                            view: tuple[float, float, float, float] | None = None,
                            title: str | None = None, axis_titles: tuple[str, str] = ("x", "y"),
                            uirevision: str = "compare-density") -> go.Figure:
    """Where a model is confident, and which part of that a density check flags.

    Parameters
    ----------
    xs : ndarray of shape (nx,)
    ys : ndarray of shape (ny,)
        Cell centres.
    top : ndarray of shape (ny, nx)
        Top class probability; NaN outside the measured area (drawn blank).
    flagged : ndarray of shape (ny, nx), bool
        Whether the density check calls the point out of distribution (read only where
        ``top >= threshold``).
    threshold : float
        Top probability from which a point counts as confident.
    chance : float
        1 / n_classes (the palest grey).
    contours : mapping of str to ndarray of shape (n_segments, 2, 2), optional
        Density contour segments by legend name; the first is drawn solid, the others dashed.
    points : ndarray of shape (n, 2), optional
        Training points.
    disc : (centre, rho, data_radii), optional
        The measured disc: centre of shape (2,), radius ``rho`` in plane units and the
        same radius in data radii (for the legend).
    bounds : (x0, x1, y0, y1), optional
        A bounded plane's box, drawn as a rectangle.
    view : (x0, x1, y0, y1), optional
        Initial axis ranges; default the extent of ``xs`` and ``ys``.

    Returns
    -------
    go.Figure
        Trace 0 is the heatmap (values from :func:`density_map_z`).
    """
    xs, ys = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    t = _pct(threshold)
    z = density_map_z(top, flagged, threshold=threshold, chance=chance)
    traces = [dict(type="heatmap", 
        x=xs.astype(np.float32), y=ys.astype(np.float32), z=z, zmin=0, zmax=3,
        colorscale=_density_colorscale(), showscale=False, name="map", hoverongaps=False,
        hovertemplate="(%{x:.3g}, %{y:.3g})<extra></extra>")]
    for key, color in (("below", DENSITY_COLORS["high"]), ("passes", DENSITY_COLORS["passes"]),
                       ("flagged", DENSITY_COLORS["flagged"])):
        traces.append(dict(type="scatter", x=[None], y=[None], mode="markers", name=LEGEND[key].format(t=t),
                                 marker=dict(symbol="square", size=12, color=color,
                                             line=dict(color="#666", width=0.5)), hoverinfo="skip"))
    if points is not None:
        P = np.asarray(points, dtype=float)
        traces.append(dict(type="scatter", 
            x=P[:, 0].astype(np.float32), y=P[:, 1].astype(np.float32), mode="markers",
            name=f"{LEGEND['points']} ({len(P)})",
            marker=dict(color="#2ca02c", size=3.5, opacity=0.45, line=dict(width=0)),
            hovertemplate="training point (%{x:.3g}, %{y:.3g})<extra></extra>"))
    for i, (name, segs) in enumerate((contours or {}).items()):
        segs = np.asarray(segs, dtype=float).reshape(-1, 2, 2)
        x, y = (a.astype(np.float32) for a in segments_to_path(segs)) if len(segs) else ([None], [None])
        traces.append(dict(type="scatter", x=x, y=y, mode="lines", name=name, hoverinfo="skip",
                                 line=dict(color="#111", width=1.6 if i == 0 else 1.1,
                                           dash="solid" if i == 0 else "dash")))
    if disc is not None:
        centre, rho, radii = disc
        cx, cy = _circle(centre, rho)
        traces.append(dict(type="scatter", x=cx.astype(np.float32), y=cy.astype(np.float32), mode="lines",
                                 name=LEGEND["disc"].format(r=radii),
                                 line=dict(color="#333", width=1, dash="dot"), hoverinfo="skip"))
    if bounds is not None:
        x0, x1, y0, y1 = bounds
        traces.append(dict(type="scatter", x=[x0, x1, x1, x0, x0], y=[y0, y0, y1, y1, y0], mode="lines",
                                 name=LEGEND["bounds"], line=dict(color="#333", width=1.2),
                                 hoverinfo="skip"))
    vx0, vx1, vy0, vy1 = view if view is not None else (xs[0], xs[-1], ys[0], ys[-1])
    extra = dict(xaxis=dict(title=axis_titles[0], range=[vx0, vx1], showgrid=False, zeroline=False,
                            constrain="domain"),
                 yaxis=dict(title=axis_titles[1], range=[vy0, vy1], showgrid=False, zeroline=False,
                            scaleanchor="x", scaleratio=1, constrain="domain"),
                 legend=dict(orientation="h", y=-0.14, x=0), margin=dict(b=40), plot_bgcolor="#fafafa")
    return go.Figure(data=traces, layout=theme(title, uirevision, extra))
