"""The petal plane both iris pages (/iris and /svm) show: a model's answer at a point,
where that point lies relative to the flowers, and the point in the page's link."""

from __future__ import annotations

from typing import Any

import numpy as np
from dash import html

from .components import CLICK_LIMIT, probability_table
from .links import Param, number, read

__all__ = ["POINT_PARAMS", "WRITE_POINT_JS", "point_details", "point_from_query", "prediction"]


def prediction(res, name: str, x: float, y: float) -> tuple[str, float, Any]:
    """(predicted flower, its probability, probability table) of iris model ``name`` at (x, y)."""
    p = np.asarray(res.iris.models[name].predict_proba(np.array([[x, y]], dtype=float))[0])
    k = int(np.argmax(p))
    return str(res.iris.names[k]), float(p[k]), probability_table(res.iris.names, p, highlight=k)


def point_details(res, x: float, y: float) -> html.Div:
    """Where the point is: coordinates, distance to the nearest flower, impossible sizes."""
    d = float(np.min(np.linalg.norm(res.iris.X - np.array([x, y]), axis=1)))
    lines = [f"Point: petal length {x:.2f} cm, petal width {y:.2f} cm; "
             f"the nearest flower in the data is {d:.2f} cm away."]
    negative = [n for n, v in (("length", x), ("width", y)) if v < 0]
    if negative:
        lines.append(f"No flower has a negative petal {' or '.join(negative)}, "
                     "yet the model still gives an answer.")
    return html.Div([html.Div(t) for t in lines], className="small text-muted mb-2")


POINT_PARAMS = [Param("x", number(-CLICK_LIMIT, CLICK_LIMIT)), Param("y", number(-CLICK_LIMIT, CLICK_LIMIT))]
"""The iris pages' query: the inspected point, ``?x=..&y=..``."""

WRITE_POINT_JS = "const p = a0 && a0.point; return p ? {x: p[0], y: p[1]} : null;"
"""The link writer of a page whose point store holds ``{"point": [x, y]}``."""


def point_from_query(query: Any) -> tuple[tuple[float, float] | None, list[str]]:
    """The point a link asks for (None when it asks for none, or only for a bad one), and notes."""
    values, notes, present = read(query, POINT_PARAMS)
    if not present or notes:
        return None, notes
    if values["x"] is None or values["y"] is None:
        return None, ["A link to a point needs both x and y; showing the default view."]
    return (values["x"], values["y"]), []
