"""Figure factory of the iris maps (/iris and /svm): finished arrays in, ``go.Figure`` out."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go

from fooling.regions import RegionGrid

from .figures import make_region_figure

__all__ = ["HALF_TRACE", "IRIS_AXES", "THIRD_TRACE", "make_iris_figure", "trace_index"]

IRIS_AXES = ("petal length (cm)", "petal width (cm)")
HALF_TRACE = "P = 1/2 (boundary)"
THIRD_TRACE = "P = 1/3 (max. uncertainty)"
"""Names :func:`app.figures.make_region_figure` gives its two contour overlays."""


def trace_index(fig: go.Figure, name: str) -> int:
    """Index of the first trace called ``name`` (ValueError when there is none)."""
    for i, trace in enumerate(fig.data):
        if trace.name == name:
            return i
    raise ValueError(f"no trace named {name!r}")


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
    fig = make_region_figure(grid, names, points=points, labels=labels,
                             wrong=np.asarray(predicted) != np.asarray(labels), probes=probes,
                             half=half, third=third, title=title, axis_titles=IRIS_AXES,
                             view=view, uirevision=uirevision)
    for name, show in ((HALF_TRACE, show_half), (THIRD_TRACE, show_third)):
        try:
            fig.data[trace_index(fig, name)].visible = bool(show)
        except ValueError:
            pass
    # flowers sit inside regions of their own colour: a dark rim keeps them visible
    fig.update_traces(marker=dict(size=7, line=dict(color="#333", width=0.8)),
                      selector=lambda t: t.name in set(map(str, names)))
    fig.update_layout(legend=dict(orientation="h", y=-0.16, x=0, font=dict(size=10),
                                  entrywidth=0.5, entrywidthmode="fraction"),
                      margin=dict(l=50, r=15, t=40 if title else 15, b=40))
    return fig
