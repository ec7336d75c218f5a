"""/mnist callbacks of the own digit (draw, upload, walk, link) and of the image export."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
from dash import Input, Output, State as DashState, dcc, no_update

from fooling.digits import DigitError
from fooling.export import export_record, image_png
from fooling.inversion import InversionError

from ... import ids
from ...components import BadInput, check_bool, check_choice, message, triggered_id
from ...links import Param, number, read
from ...markup import markup
from .compute import State
from .own import (MAX_T, PAD_SHOWS, PAD_TITLE, code_of, digit_from_drawing, digit_from_upload, own_view, parse_code,
                  parse_walk)

__all__ = ["OWN_OUTPUTS", "register_own", "update_export", "update_own"]

OWN_OUTPUTS = ("image", "result", "own", "walk", "marks")
"""What :func:`update_own` answers, in order."""

_NOTHING = (no_update,) * len(OWN_OUTPUTS)


def _code(text: str) -> str:
    parse_code(text)
    return text


OWN_PARAMS = [Param("own", _code), Param("walk", number(0, MAX_T))]


def _rejected(data: Any, limit: int) -> str:
    size = data.get("size") if isinstance(data, dict) else None
    if isinstance(size, (int, float)) and not isinstance(size, bool) and size > 0:
        return f"That file is {size / 1e6:.1f} MB; the largest accepted is {limit / 1e6:.0f} MB. Send a smaller picture."
    return f"That file was refused: files up to {limit / 1e6:.0f} MB are accepted."


def update_own(state: State, trigger: str, *, network: Any, valid: Any = False, upload: Any = None,
               drawing: Any = None, rejected: Any = None, walk: Any = 0, query: Any = None,
               own: Any = None) -> tuple:
    """The own digit's card after ``trigger``, in the order of :data:`OWN_OUTPUTS`; never raises.

    Parameters
    ----------
    trigger : {'upload', 'draw', 'rejected', 'walk', 'network', 'valid', 'url'}
    network, valid : the page's network toggle and valid-pixels checkbox
    upload : the upload's ``contents`` (a data URL); drawing : the pad's ``{"png": data URL}``
    rejected : a file the browser refused (``{"size": bytes}``)
    walk : the walk slider (data radii); query : the shell's parsed query; own : the stored digit
    """
    limit = state.res.settings.max_upload
    if trigger in ("network", "valid") and own is None and isinstance(query, dict) and "own" in query:
        # an opened link's first call: the page's link callback sets the network and the
        # checkbox first, and this call comes from them; the digit is still the link's to read
        trigger = "url"
    try:
        name = check_choice(network, tuple(state.networks), "network")
        pixels_valid = check_bool(valid, "keep pixels in [0, 1]")
        t, notes = 0.0, []
        if trigger == "rejected":
            raise BadInput(_rejected(rejected, limit))
        if trigger == "upload":
            x, source = digit_from_upload(upload, limit), "upload"
        elif trigger == "draw":
            x, source = digit_from_drawing(drawing), "drawing"
        elif trigger == "url":
            values, notes, present = read(query, OWN_PARAMS)
            if values["own"] is None:
                if notes:
                    return (no_update, [message(" ".join(notes), "info")], no_update, no_update, no_update)
                return _NOTHING
            x, source, t = parse_code(values["own"]), "link", values["walk"] or 0.0
        else:  # walk, network, valid: the stored digit again
            if own is None:
                if trigger == "walk" and walk:
                    return (no_update, [message("Draw or upload a digit first: the slider walks your digit.", "info")],
                            no_update, 0, no_update)
                return _NOTHING
            if not isinstance(own, dict):
                raise BadInput("The stored digit could not be read; draw or upload it again.")
            x, source = parse_code(own.get("code")), own.get("source", "drawing")
            t = parse_walk(walk) if trigger == "walk" else (parse_walk(walk) if walk else 0.0)
    except BadInput as exc:
        return (no_update, [message(str(exc))], no_update, no_update, no_update)
    x = parse_code(code_of(x))  # the digit as its link holds it (8-bit grey levels): a link shows the same
    image, children, marks = own_view(state, name, x, t, pixels_valid)
    if notes:
        children = [message(" ".join(notes), "info"), *children]
    stored = {"code": code_of(x), "source": source if source in ("upload", "drawing", "link") else "drawing"}
    walk_out = t if trigger == "url" else (0 if trigger in ("upload", "draw") and walk else no_update)
    return image, children, stored, walk_out, marks


def export_source(state: State, network: Any, valid: Any, own: Any, walk: Any, point: Any):
    """(network view, image, hidden point) of what the export saves: the own digit (walked)
    when there is one, else the pinned point's inversion. Raises :class:`BadInput`."""
    name = check_choice(network, tuple(state.networks), "network")
    pixels_valid = check_bool(valid, "keep pixels in [0, 1]")
    v = state.view(name)
    if isinstance(own, dict) and own.get("code"):
        from fooling.walk import walk as walk_digit

        x = parse_code(own["code"])
        t = parse_walk(walk) if walk else 0.0
        try:
            mv = walk_digit(v.model, x, t, valid=pixels_valid)
        except (InversionError, DigitError) as exc:
            raise BadInput(f"Nothing to save: {exc}.") from None
        return v, mv.image, mv.target if t > 0 else mv.hidden
    if not isinstance(point, dict) or point.get("network") != name or not isinstance(point.get("point"), list):
        raise BadInput("Click the map, or draw or upload a digit, first: then save its image.")
    from .callbacks import check_stored_point

    _, xy = check_stored_point(state, point)
    try:
        r, near = v.invert(xy, pixels_valid)
    except InversionError as exc:
        raise BadInput(f"Nothing to save: {exc}.") from None
    return v, r.image, np.asarray(near if near is not None else xy, dtype=float)


def update_export(state: State, which: Any, *, network: Any, valid: Any, own: Any, walk: Any, point: Any):
    """(a dcc.Download payload or no_update, a message or no_update) for export ``which``."""
    try:
        v, image, hidden = export_source(state, network, valid, own, walk, point)
    except BadInput as exc:
        return no_update, message(str(exc), "info")
    stem = f"fooling-{v.name}-{hidden[0]:.4g}_{hidden[1]:.4g}"
    if which == ids.MNIST_EXPORT_JSON:
        record = export_record(v.model, image, hidden)
        return dict(content=json.dumps(record, allow_nan=False), filename=f"{stem}.json",
                    type="application/json"), no_update
    scale = 10 if which == ids.MNIST_EXPORT_PNG_LARGE else 1
    return dcc.send_bytes(image_png(image, scale=scale), f"{stem}-{28 * scale}px.png"), no_update


_OWN_TRIGGERS = {ids.MNIST_UPLOAD: "upload", ids.MNIST_DRAW_DATA: "draw", ids.MNIST_UPLOAD_REJECTED: "rejected",
                 ids.MNIST_WALK: "walk", ids.MNIST_NETWORK: "network", ids.MNIST_VALID: "valid", ids.QUERY: "url"}

# an uploaded or linked digit is painted on the pad (the "before" beside the walked image on
# the right); a drawing stays as it was drawn (its made-up 28x28 would move under the pen)
_PAD_JS = """
function(own) {
    const dc = window.dash_clientside;
    if (!own || typeof own !== 'object' || typeof own.code !== 'string') { return dc.no_update; }
    if (own.source !== 'upload' && own.source !== 'link') { return %(draw)s; }
    return window.foolingDraw && window.foolingDraw.show && window.foolingDraw.show(own.code) ? %(shows)s : dc.no_update;
}
"""


def register_own(app, state: State) -> None:
    @app.callback(
        Output(ids.MNIST_OWN_IMAGE, "digit"), Output(ids.MNIST_OWN_RESULT, "children"),
        Output(ids.MNIST_OWN, "data"), Output(ids.MNIST_WALK, "value"), Output(ids.MNIST_OWN_MARKS, "data"),
        Output(ids.MNIST_UPLOAD, "contents"), Output(ids.MNIST_DRAW_DATA, "data"),
        Input(ids.MNIST_UPLOAD, "contents"), Input(ids.MNIST_DRAW_DATA, "data"),
        Input(ids.MNIST_UPLOAD_REJECTED, "data"), Input(ids.MNIST_WALK, "value"),
        Input(ids.MNIST_NETWORK, "value"), Input(ids.MNIST_VALID, "value"), Input(ids.QUERY, "data"),
        DashState(ids.MNIST_OWN, "data"))
    def update_mnist_own(upload, drawing, rejected, walk, network, valid, query, own):
        tid = triggered_id()
        trigger = "url" if tid is None else _OWN_TRIGGERS.get(tid, "none") if isinstance(tid, str) else "none"
        if trigger == "none":
            return (*_NOTHING, no_update, no_update)
        out = update_own(state, trigger, network=network, valid=valid, upload=upload, drawing=drawing,
                         rejected=rejected, walk=walk, query=query, own=own)
        # a file or drawing once read is dropped from the page: else every later call (each walk
        # step) would send it again, up to max_upload bytes, and the same file could not be sent twice
        spent = (None if trigger == "upload" and upload is not None else no_update,
                 None if trigger == "draw" and drawing is not None else no_update)
        # the result as one static-markup block (app.markup), not one component per element
        return (out[0], markup(out[1]), *out[2:], *spent)

    app.clientside_callback(_PAD_JS % {"draw": json.dumps(PAD_TITLE), "shows": json.dumps(PAD_SHOWS)},
                            Output(ids.MNIST_DRAW, "title"), Input(ids.MNIST_OWN, "data"), prevent_initial_call=True)

    @app.callback(Output(ids.MNIST_DOWNLOAD, "data"), Output(ids.MNIST_OWN_RESULT, "children", allow_duplicate=True),
                  Input(ids.MNIST_EXPORT_PNG, "n_clicks"), Input(ids.MNIST_EXPORT_PNG_LARGE, "n_clicks"),
                  Input(ids.MNIST_EXPORT_JSON, "n_clicks"),
                  DashState(ids.MNIST_NETWORK, "value"), DashState(ids.MNIST_VALID, "value"),
                  DashState(ids.MNIST_OWN, "data"), DashState(ids.MNIST_WALK, "value"),
                  DashState(ids.MNIST_POINT, "data"), prevent_initial_call=True)
    def update_mnist_export(_png, _large, _json, network, valid, own, walk, point):
        which = triggered_id()
        if which not in (ids.MNIST_EXPORT_PNG, ids.MNIST_EXPORT_PNG_LARGE, ids.MNIST_EXPORT_JSON):
            return no_update, no_update
        download, note = update_export(state, which, network=network, valid=valid, own=own, walk=walk, point=point)
        return download, markup(note)

