"""The live preview's data: shipped once to the browser (identity net) or answered per point
(``GET /_fooling/preview``, any other net).

The identity net's image of a hidden point is ``(h - c) @ pinv(A)`` and its class
probabilities ``softmax(h @ W + b)``: :func:`hover_data` ships ``pinv(A)`` (float64,
base64), ``c``, ``W`` and ``b`` once, and ``assets/mnist_hover.js`` evaluates them as the
pointer moves, with no request. A net whose inversion needs per-layer solves (tanh) is
previewed by :func:`preview`, one request in flight at a time (the script drops the
points it had no time for).
"""

from __future__ import annotations

import base64
import math

import numpy as np
from flask import Response, request

from fooling.inversion import InversionError

from ...components import CLICK_LIMIT
from .compute import State
from .text import fmt

__all__ = ["PREVIEW_ROUTE", "hover_data", "install_preview", "preview"]

PREVIEW_ROUTE = "/_fooling/preview"


def hover_data(state: State, name: str) -> dict:
    """What the browser needs to preview network ``name``: the affine inverse, or 'server'."""
    v = state.view(name)
    inv, last = v.inverter, v.model.net.layers[-1]
    if not (inv.affine_ and v.model.hidden_layer == len(v.model.net.layers) - 1):
        return {"network": name, "mode": "server", "labels": list(v.labels), "n": int(v.model.net.sizes[0])}
    P = np.ascontiguousarray(inv.pinv_, dtype="<f8")  # (2, n_inputs)
    return {"network": name, "mode": "affine", "labels": list(v.labels), "n": int(P.shape[1]),
            "pinv": base64.b64encode(P.tobytes()).decode("ascii"), "c": [float(c) for c in inv.c_],
            "W": np.asarray(last.W, dtype=float).tolist(), "b": np.asarray(last.b, dtype=float).tolist()}


def _number(raw: str | None, what: str) -> float:
    try:
        v = float(raw) if raw is not None and len(raw) < 40 else math.nan
    except ValueError:
        v = math.nan
    if not math.isfinite(v) or abs(v) > CLICK_LIMIT:
        raise ValueError(f"{what} must be a finite number within ±{CLICK_LIMIT:g}")
    return v


def preview(state: State, net: str | None, x: str | None, y: str | None) -> dict:
    """The preview of one point: image, prediction and hidden point, or a ``message``."""
    if not isinstance(net, str) or net not in state.networks:
        return {"message": f"No network {str(net)[:20]!r} to preview."}
    try:
        point = (_number(x, "x"), _number(y, "y"))
    except ValueError as exc:
        return {"message": f"No preview: {exc}."}
    v = state.view(net)
    try:
        r = v.inverter.invert(np.array(point))
    except InversionError:
        lo, hi = v.inverter.codomain
        return {"message": f"No image reaches {fmt(point)}: the {net} net's hidden units stay in ({lo:g}, {hi:g})."}
    k = int(np.argmax(r.proba))
    return {"image": [round(float(p), 9) for p in r.image], "proba": [float(p) for p in r.proba],
            "predicted": v.labels[k], "confidence": float(r.proba[k]),
            "hidden": [float(h) for h in r.hidden], "residual": float(r.residual)}


def install_preview(app, state: State) -> None:
    """Serve :func:`preview` at :data:`PREVIEW_ROUTE` (GET, query ``net``, ``x``, ``y``)."""
    import json

    @app.server.route(PREVIEW_ROUTE, methods=["GET"])
    def mnist_preview():
        args = request.args
        body = preview(state, args.get("net"), args.get("x"), args.get("y"))
        return Response(json.dumps(body, allow_nan=False), mimetype="application/json",
                        headers={"Cache-Control": "no-store"})
