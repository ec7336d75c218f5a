"""The petal plane both iris pages (/iris and /svm) show: a model's answer at a point,
and where that point lies relative to the flowers."""

from __future__ import annotations

from typing import Any

import numpy as np
from dash import html

from .components import probability_table

__all__ = ["point_details", "prediction"]


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
