"""/mnist callbacks: one server round trip per click.

A click on either map (turned into the linear map's ``clickData`` by the page's pointer
script, ``assets/mnist_hover.js``; a scripted click on the RBF map is relayed in the
browser), a preset, the network toggle, the valid-pixels checkbox or the null-space
slider all go to :func:`update_mnist`, which validates, inverts once and answers
everything in one response: the image (its pixels: :func:`app.images.digit_data`, drawn
on a canvas), the result (the ``tree`` of a static-markup block already on the page: a prop
changes, no component is mounted) and the pinned point (with the nearest reachable one; a
:class:`~app.components.PointStore` draws both maps' markers from it in the browser, so the
maps are never re-sent or redrawn on a click) as the callback's outputs; the slider (reset
to 0) and its readout, when they change, as side updates.

Why side updates: the browser marks every declared output of a callback as loading when
the request leaves and again when the answer comes, and each such component renders twice
per click even when it gets ``no_update``. The callback therefore declares only what a
click always changes. A link (the page's first call, and Back/Forward: :func:`update_from_link`)
sets the toggle and the checkbox as side updates too. Side updates trigger the callbacks
that read them, this one included, so the pinned point records the network, checkbox and
slider value its image is drawn at: a toggle or checkbox a link set finds its view drawn
already (nothing to do), and the slider reaches the server (through
:data:`~app.ids.MNIST_NULL_ASK`, a browser-side gate) only when it differs from the value
the image is drawn at, so a click's own slider reset sends no second request.
"""

from __future__ import annotations

import math
from typing import Any

from dash import ALL, Input, Output, State as DashState, html, no_update, set_props
from dash.exceptions import PreventUpdate

from fooling.inversion import InversionError

from ... import ids
from ...components import (CLICK_LIMIT, BadInput, check_bool, check_choice, link_zoom, message,
                           parse_click, relay_click, triggered_id)
from ...links import Param, choice, flag, number, read, writer
from ...markup import markup, tree
from .compute import NETWORKS, NULL_MAX, State
from .layout import IDLE
from .own_callbacks import register_own
from .preview import install_preview
from .results import image_title, moved_result, null_idle, point_result

__all__ = ["DECLARED", "LINK_OUTPUTS", "LINK_PARAMS", "OUTPUTS", "pinned", "register", "update_from_link",
           "update_maps", "update_mnist"]

OUTPUTS = ("image", "result", "point", "null", "null_result")
"""What :func:`update_mnist` answers, in order (the maps change only with the network:
:func:`update_maps`; a click that named them as outputs would have the browser re-render
both maps' components on every click)."""

DECLARED = OUTPUTS[:3]
"""The outputs the click's callback declares; the slider and its readout (the rest of
:data:`OUTPUTS`) go as side updates, and only when they change."""

LINK_OUTPUTS = ("network", "valid")
"""What :func:`update_from_link` answers after :data:`OUTPUTS`: the network toggle and the
checkbox, which only a link sets."""

_NOTHING = (no_update,) * len(OUTPUTS)
_TREE = OUTPUTS.index("result")
"""The click's text block: the ``tree`` of the static-markup block on the page
(:func:`app.markup.tree`), so a click changes a prop and mounts no component."""
_MARKUP = OUTPUTS.index("null_result")
"""The slider's readout (a side update, rarely sent): one static-markup component
(:func:`app.markup.markup`), not one component per element."""


def as_sent(outputs: tuple) -> tuple:
    """``outputs`` as the browser gets them: the text blocks as static markup."""
    return tuple(tree(v) if k == _TREE else markup(v) if k == _MARKUP else v for k, v in enumerate(outputs))


def check_network(state: State, value: Any) -> str:
    return check_choice(value, tuple(state.networks), "network")


def pinned(name: str, xy: tuple[float, float] | None, near: Any, pixels_valid: bool, null: float = 0.0) -> dict:
    """The pinned view: the network, the clicked point (None: a linked view with no point),
    the nearest reachable point (or None), and the checkbox and slider value the image is
    drawn at."""
    return {"network": name, "point": [xy[0], xy[1]] if xy is not None else None,
            "nearest": [float(near[0]), float(near[1])] if near is not None else None,
            "valid": pixels_valid, "null": null}


def check_stored_point(state: State, point: Any) -> tuple[str, tuple[float, float]] | None:
    """The pinned point's network and (x, y), checked; None when nothing is pinned."""
    if point is None or (isinstance(point, dict) and "point" in point and point["point"] is None):
        return None
    if not isinstance(point, dict) or not isinstance(point.get("point"), (list, tuple)) \
            or len(point["point"]) != 2:
        raise BadInput("The remembered point is not a point; click the map again.")
    name = check_network(state, point.get("network"))
    x, y = parse_click({"points": [{"x": point["point"][0], "y": point["point"][1]}]})
    return name, (x, y)


def check_preset(state: State, name: str, index: Any) -> tuple[float, float]:
    presets = state.view(name).presets
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(presets):
        raise BadInput(f"There are {len(presets)} presets, far {state.view(name).labels[0]} to "
                       f"far {state.view(name).labels[-1]}.")
    entry = presets[index]
    return float(entry["hidden"][0]), float(entry["hidden"][1])


def check_shift(value: Any) -> float:
    """The slider's value, checked: a finite number in [-NULL_MAX, NULL_MAX]."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or abs(value) > NULL_MAX + 1e-9:
        raise BadInput(f"The null-space slider runs from {-NULL_MAX:g} to {NULL_MAX:g}.")
    return float(value)


def _stored_nearest(point: dict) -> tuple[float, float] | None:
    """The pinned point's nearest reachable point, when it is one (checked as a stored point
    is: :func:`app.components.parse_click`), else None."""
    near = point.get("nearest")
    if not isinstance(near, (list, tuple)) or len(near) != 2:
        return None
    try:
        return parse_click({"points": [{"x": near[0], "y": near[1]}]})
    except BadInput:
        return None


def _view_null(point: Any) -> float:
    """The slider value a pinned view records (0 when it records none)."""
    t = point.get("null") if isinstance(point, dict) else None
    try:
        return check_shift(t)
    except BadInput:
        return 0.0


def _shows(point: Any, name: str) -> bool:
    """Whether the pinned view is of network ``name`` already (a link set both)."""
    return isinstance(point, dict) and point.get("network") == name


def _at_zero(null: Any) -> bool:
    return null == 0 and not isinstance(null, bool)


def _reset(null: Any):
    """The slider back to 0 (no_update when it is there already)."""
    return no_update if _at_zero(null) else 0


def _idle(null: Any):
    """The slider's readout back to its idle text (no_update when the slider is at 0: the
    readout only says something else while the slider is off 0)."""
    return no_update if _at_zero(null) else null_idle()


def update_mnist(state: State, trigger: str, *, network: Any, click_data: Any = None, preset: Any = None,
                 valid: Any = False, null: Any = 0, point: Any = None) -> tuple:
    """Everything the page shows after ``trigger``, in the order of :data:`OUTPUTS`; never raises
    for bad input.

    Parameters
    ----------
    state : app.pages.mnist.compute.State
    trigger : {'network', 'click', 'preset', 'valid', 'null'}
        What changed. A click on the RBF map arrives as a click on the linear map.
    network : any
        The network toggle's value (anything but a network's name is a message).
    click_data : any
        The map's ``clickData`` (for ``click``).
    preset : any
        The preset's index (for ``preset``).
    valid : any
        The checkbox: keep pixels in [0, 1].
    null : any
        The null-space slider's value.
    point : any
        The pinned view (:func:`pinned`): what the image is drawn with, so a control a link
        set finds its view drawn already (for ``network``, ``valid`` and ``null``).

    Returns
    -------
    tuple of 5
        Image (:func:`app.images.digit_data`), result children, pinned point, slider value, slider
        readout; ``dash.no_update`` where nothing changes.
    """
    try:
        name = check_network(state, network)
        if trigger == "network":
            if _shows(point, name):  # a link set the network with its view: drawn already
                return _NOTHING
            return (state.blank_digit, html.P(IDLE, className="text-muted"), pinned(name, None, None, valid is True),
                    _reset(null), null_idle())
        pixels_valid = check_bool(valid, "keep pixels in [0, 1]")
        if trigger == "null":
            return _moved(state, name, null, pixels_valid, point)
        if trigger == "click":
            xy = parse_click(click_data)
        elif trigger == "preset":
            xy = check_preset(state, name, preset)
        elif trigger == "valid":
            stored = check_stored_point(state, point)
            if stored is None or stored[0] != name:  # nothing pinned: the view records the checkbox
                return (no_update, no_update, pinned(name, None, None, pixels_valid, _view_null(point)), no_update,
                        no_update)
            if point.get("valid") is pixels_valid:
                return _NOTHING  # drawn with these pixels already (a link set the checkbox)
            xy = stored[1]
        else:
            return _NOTHING
    except BadInput as exc:
        return (no_update, message(str(exc)), no_update, no_update, no_update)
    image, children, near = point_result(state, name, xy, pixels_valid)
    return (image, children, pinned(name, xy, near, pixels_valid), _reset(null), _idle(null))


LINK_PARAMS = [Param("net", choice(NETWORKS)), Param("x", number(-CLICK_LIMIT, CLICK_LIMIT)),
               Param("y", number(-CLICK_LIMIT, CLICK_LIMIT)), Param("valid", flag),
               Param("null", number(-NULL_MAX, NULL_MAX))]
"""The page's query: ``?net=..&x=..&y=..&valid=0|1&null=..`` (and the own digit's ``own``, ``walk``)."""

# written from the pinned view once it has been drawn (every change of the toggle, checkbox or
# slider changes it); the controls are read as they are then. No view yet and no own digit: the
# page has only appeared (the browser calls the writer then: `shown` is no callback's output)
_WRITE_JS = """
const [p, own, walk, net, valid, nul] = [a0, a1, a2, a3, a4, a5];
if (!p && !(own && typeof own.code === 'string')) { return null; }
const v = {net: net};
if (p && Array.isArray(p.point) && p.network === net) { v.x = p.point[0]; v.y = p.point[1]; }
if (valid === true) { v.valid = true; }
if (typeof nul === 'number' && nul !== 0) { v.null = nul; }
if (own && typeof own.code === 'string') { v.own = own.code; if (typeof walk === 'number' && walk > 0) { v.walk = walk; } }
return v;
"""


def update_from_link(state: State, query: Any, network: Any, valid: Any) -> tuple:
    """The view a link asks for: :data:`OUTPUTS`, then the network toggle's and the
    checkbox's values (no_update for what the link does not name; notes for what it
    names badly, shown where the result goes)."""
    params = [p if p.name != "net" else Param("net", choice(tuple(state.networks))) for p in LINK_PARAMS]
    values, notes, present = read(query, params)
    if not present and not notes:
        return _NOTHING + (no_update,) * len(LINK_OUTPUTS)
    current = network if isinstance(network, str) and network in state.networks else next(iter(state.networks))
    name = values["net"] or current
    # a link without ``valid`` asks for every pixel value (the writer leaves valid=0 out): not
    # the checkbox as it is, or Back from a checked view would keep it checked
    pixels_valid = values["valid"] if values["valid"] is not None else False
    null = values["null"] or 0.0
    if (values["x"] is None) != (values["y"] is None):
        notes.append("A link to a point needs both x and y.")
    note = [message(" ".join(notes), "info")] if notes else []
    if values["x"] is None or values["y"] is None:
        idle = html.P(IDLE, className="text-muted")
        return (state.blank_digit, note + [idle], pinned(name, None, None, pixels_valid), 0, null_idle(), name,
                pixels_valid)
    xy = (values["x"], values["y"])
    image, children, near = point_result(state, name, xy, pixels_valid)
    view = pinned(name, xy, near, pixels_valid)
    readout = null_idle()
    if null:
        moved = _moved(state, name, null, pixels_valid, view)
        image = moved[0] if moved[0] is not no_update else image
        view = moved[2] if moved[2] is not no_update else view
        readout = moved[4]
    return (image, note + (children if isinstance(children, list) else [children]), view, null, readout, name,
            pixels_valid)


def update_maps(state: State, network: Any) -> tuple:
    """Both maps of the chosen network (whole figures); no_update for anything else."""
    try:
        v = state.view(check_network(state, network))
    except BadInput:
        return no_update, no_update  # update_mnist shows the message
    return v.base_map, v.rbf_map


def _moved(state: State, name: str, null: Any, pixels_valid: bool, point: Any) -> tuple:
    """The slider moved: the pinned point's image moved along the null space (its messages
    go under the slider)."""
    try:
        t = check_shift(null)
        stored = check_stored_point(state, point)
    except BadInput as exc:
        return (no_update,) * 4 + (message(str(exc)),)
    if stored is None or stored[0] != name:
        readout = null_idle() if t == 0 else message(
            "Click the map (or press a preset) first: the slider moves that point's image.", "info")
        return (no_update, no_update, pinned(name, None, None, pixels_valid, t), no_update, readout)
    try:
        r, near = state.view(name).invert(stored[1], pixels_valid)
    except InversionError:
        readout = null_idle() if t == 0 else message("No image reaches this point, so there is nothing to move.",
                                                     "info")
        # the view records the slider's value even so: back at the drawn value, the readout
        # must come back too
        view = pinned(name, stored[1], _stored_nearest(point), pixels_valid, t)
        return (no_update, no_update, view, no_update, readout)
    image, readout = moved_result(state, name, r, t, stored[1], image_title(pixels_valid, near))
    return (image, no_update, pinned(name, stored[1], near, pixels_valid, t), no_update, readout)



# the chosen network's preview data to the page's pointer script; the line's tooltip says
# where the preview is computed
_HOVER_JS = """
function(data, net) {
    const d = data && typeof data === 'object' ? data[net] : null;
    if (window.foolingHover) { window.foolingHover.setData(d); }
    if (!d) { return 'no preview for this network'; }
    return d.mode === 'affine' ? 'preview computed in your browser' : 'preview from the server';
}
"""

_TRIGGERS = {ids.MNIST_NETWORK: "network", ids.MNIST_MAP: "click", ids.MNIST_VALID: "valid",
             ids.MNIST_NULL_ASK: "null"}
_SIDE = ((ids.MNIST_NULL, "value"), (ids.MNIST_NULL_RESULT, "children"), (ids.MNIST_NETWORK, "value"),
         (ids.MNIST_VALID, "value"))
"""Where :data:`OUTPUTS` after :data:`DECLARED`, then :data:`LINK_OUTPUTS`, go (as side updates)."""


def declared(outputs: tuple) -> tuple:
    """:func:`update_mnist`'s (or :func:`update_from_link`'s) answer as the page's callback
    sends it: :data:`DECLARED` as outputs, the rest as side updates (only what changes)."""
    sent = as_sent(outputs)
    if all(v is no_update for v in sent):
        raise PreventUpdate  # nothing changes: the browser applies nothing (an empty 204)
    for (cid, prop), value in zip(_SIDE, sent[len(DECLARED):]):
        if value is not no_update:
            set_props(cid, {prop: value})
    return sent[:len(DECLARED)]


# the slider to the server only when the pinned image is not drawn at its value (a click's
# own reset to 0, and a link's slider, find the image drawn already)
_NULL_ASK_JS = """
function(v, p) {
    if (p && Array.isArray(p.point) && p.null === v) { return window.dash_clientside.no_update; }
    return v;
}
"""


def register(app, state: State) -> None:
    @app.callback(
        Output(ids.MNIST_IMAGE, "digit"), Output(ids.MNIST_RESULT, "tree"), Output(ids.MNIST_POINT, "data"),
        Input(ids.MNIST_NETWORK, "value"), Input(ids.MNIST_MAP, "clickData"),
        Input({"type": ids.MNIST_PRESET, "index": ALL}, "n_clicks"), Input(ids.MNIST_VALID, "value"),
        Input(ids.MNIST_NULL_ASK, "data"), Input(ids.QUERY, "data"), DashState(ids.MNIST_POINT, "data"),
        DashState(ids.MNIST_NULL, "value"))
    def update_mnist_page(network, click_data, _presets, valid, _asked, query, point, null):
        # the slider's value as it is now (the gate's store only says it moved: it keeps the
        # last value it passed on)
        tid = triggered_id()
        if tid in (None, ids.QUERY):  # the page opened, or Back/Forward: the link's view
            out = update_from_link(state, query, network, valid)
            # a toggle or checkbox already as the link asks is left alone (set, its maps come again)
            return declared(out[:-2] + tuple(no_update if new == now else new
                                             for new, now in zip(out[-2:], (network, valid))))
        preset = None
        if isinstance(tid, dict) and tid.get("type") == ids.MNIST_PRESET:
            trigger, preset = "preset", tid.get("index")
        else:
            trigger = _TRIGGERS.get(tid, "none") if isinstance(tid, str) else "none"
        return declared(update_mnist(state, trigger, network=network, click_data=click_data, preset=preset,
                                     valid=valid, null=null, point=point))

    app.clientside_callback(_NULL_ASK_JS, Output(ids.MNIST_NULL_ASK, "data"), Input(ids.MNIST_NULL, "value"),
                            DashState(ids.MNIST_POINT, "data"), prevent_initial_call=True)

    @app.callback(Output(ids.MNIST_MAP, "figure"), Output(ids.MNIST_RBF_MAP, "figure"),
                  Input(ids.MNIST_NETWORK, "value"), prevent_initial_call=True)
    def update_mnist_maps(network):
        return update_maps(state, network)

    relay_click(app, ids.MNIST_RBF_MAP, ids.MNIST_MAP)  # one inversion callback for both maps
    link_zoom(app, ids.MNIST_MAP, ids.MNIST_RBF_MAP)
    # the live preview: the chosen network's data to the page's pointer script (no request)
    app.clientside_callback(_HOVER_JS, Output(ids.MNIST_HOVER, "title"),
                            Input(ids.MNIST_HOVER_DATA, "data"), Input(ids.MNIST_NETWORK, "value"))
    install_preview(app, state)
    # the view as drawn (the address is written after the frame showing a click's answer, not
    # before it); a page opened at a bare address has no view yet, and its address stays
    writer(app, _WRITE_JS, [Input(ids.MNIST_POINT, "shown"), Input(ids.MNIST_OWN, "data"),
                            Input(ids.MNIST_WALK, "value")],
           states=[DashState(ids.MNIST_NETWORK, "value"), DashState(ids.MNIST_VALID, "value"),
                   DashState(ids.MNIST_NULL, "value")])
    register_own(app, state)
