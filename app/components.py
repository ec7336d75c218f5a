"""Reusable pieces of layout and input checks shared by the pages: navbar, sections,
graphs, messages, result blocks, click parsing, validation of choices."""

from __future__ import annotations

import math
from typing import Any, Sequence

import dash_bootstrap_components as dbc
import numpy as np
from dash import ctx, dcc, html

from . import ids
from .pages import PAGES
from .scripted import Scripted

__all__ = ["UNREADABLE", "BadInput", "percent", "check_bool", "check_choice", "graph", "heads_table", "link_zoom", "link_zoom_js", "PointStore",
           "message", "navbar", "not_found", "parse_click", "probability_table", "rbf_line", "result_block", "section",
           "short_repr", "triggered_id", "triggered_props"]

CLICK_LIMIT = 1e7
"""Largest absolute coordinate a click may carry (larger is not a click, it is a crafted request)."""


class BadInput(ValueError):
    """A callback input that cannot be used; the message is shown to the user."""


def navbar() -> dbc.Navbar:
    """The top navigation bar (collapses to a menu on phones)."""
    links = [dbc.NavItem(dbc.NavLink(p.label, href=p.path, active="exact")) for p in PAGES]
    return dbc.Navbar(
        dbc.Container([
            dbc.NavbarBrand("fooling", href="/", className="fw-bold"),
            dbc.NavbarToggler(id=ids.NAVBAR_TOGGLER),
            dbc.Collapse(dbc.Nav(links, navbar=True, className="ms-auto"), id=ids.NAVBAR_COLLAPSE,
                         navbar=True),
        ], fluid=True),
        id=ids.NAVBAR, color="dark", dark=True, className="mb-3")


def not_found(path: object) -> html.Div:
    """The page shown for a path no page serves (the server answers it with status 404)."""
    shown = short_repr(path) if not isinstance(path, str) else (path if len(path) < 60 else path[:57] + "...")
    return html.Div([html.H1("Page not found", className="h4"),
                     html.P(f"Nothing lives at {shown}. Try one of:"),
                     html.Ul([html.Li(dcc.Link(p.title, href=p.path)) for p in PAGES])],
                    className="not-found")


def section(title: str, *children: Any, lead: str | None = None) -> html.Div:
    """A titled block of a page."""
    head = [html.H2(title, className="h5 mt-3")]
    if lead:
        head.append(html.P(lead, className="text-muted small mb-2"))
    return html.Div(head + list(children), className="mb-3")


def graph(id_: Any, figure=None, *, height: str = "480px", **kwargs) -> dcc.Loading:
    """A ``dcc.Graph`` inside a loading spinner, with the mode bar trimmed."""
    return dcc.Loading(dcc.Graph(
        id=id_, figure=figure if figure is not None else {},
        config={"displaylogo": False, "scrollZoom": True,
                "modeBarButtonsToRemove": ["select2d", "lasso2d", "toImage"]},
        style={"height": height}, **kwargs), type="circle", delay_show=300)


def message(text: str, color: str = "warning") -> dbc.Alert:
    """A short notice in the page (for bad input or unreachable points)."""
    return dbc.Alert(text, color=color, className="py-2 px-3 mb-2 small")


def percent(p: float, digits: int = 2) -> str:
    """``p`` as a percentage with ``digits`` decimals, never rounded up to 100% when it is not 1
    (``>99.99%``): the confidence of a fooling image is often 1 - 1e-12, which is not certainty."""
    v = 100 * float(p)
    text = f"{v:.{digits}f}"
    if float(text) >= 100 and float(p) < 1:
        return ">" + f"{100 - 10 ** -digits:.{digits}f}" + "%"
    return text + "%"


def probability_table(names: Sequence[str], proba: Sequence[float], highlight: int | None = None) -> dbc.Table:
    """Class probabilities as a small table, the predicted class in bold."""
    rows = []
    for i, (n, p) in enumerate(zip(names, proba)):
        style = {"fontWeight": "bold"} if i == highlight else {}
        rows.append(html.Tr([html.Td(str(n), style=style), html.Td(percent(p), style=style)]))
    return dbc.Table([html.Thead(html.Tr([html.Th("class"), html.Th("probability")])),
                      html.Tbody(rows)], size="sm", className="mb-1", bordered=False)


def heads_table(labels: Sequence[str], linear: Sequence[float], rbf: Sequence[float]) -> dbc.Table:
    """Both heads' class probabilities (the network's linear head, the RBF head on its hidden
    plane), each head's top class in bold."""
    kl, kr = int(np.argmax(linear)), int(np.argmax(rbf))
    rows = [html.Tr([html.Td(n), html.Td(percent(p), style={"fontWeight": "bold"} if i == kl else {}),
                     html.Td(percent(q), style={"fontWeight": "bold"} if i == kr else {})])
            for i, (n, p, q) in enumerate(zip(labels, linear, rbf))]
    return dbc.Table([html.Thead(html.Tr([html.Th("class"), html.Th("linear head"), html.Th("RBF head")])),
                      html.Tbody(rows)], size="sm", className="mb-1", bordered=False)


def rbf_line(labels: Sequence[str], rbf: Sequence[float]) -> html.Div:
    """'RBF head, same hidden point: X (p%)', under a result's prediction line."""
    k = int(np.argmax(rbf))
    return html.Div(["RBF head, same hidden point: ", html.Strong(labels[k]),
                     html.Span(f" ({percent(rbf[k])})", className="confidence")], className="rbf-prediction")


def result_block(prediction: str, confidence: float, *extra: Any) -> list:
    """The prediction line every ``*-result`` element starts with: 'Prediction: X (99.87%)'."""
    return [html.Div([html.Span("Prediction: "), html.Strong(prediction),
                      html.Span(f" ({percent(confidence)})", className="confidence")],
                     className="prediction fs-5"), *extra]


def short_repr(value: Any, limit: int = 40) -> str:
    """``repr(value)``, cut to ``limit`` characters (for messages about bad input)."""
    r = repr(value)
    return r if len(r) < limit else r[:limit - 3] + "..."


def check_choice(value: Any, options, what: str) -> str:
    """``value`` if it is one of the string ``options``, else :class:`BadInput` saying what is allowed."""
    if not isinstance(value, str) or value not in options:
        allowed = ", ".join(str(o) for o in options)
        raise BadInput(f"Unknown {what} {short_repr(value)}: choose one of {allowed}.")
    return value


def check_bool(value: Any, what: str) -> bool:
    """A switch or checkbox value: True or False (None counts as off)."""
    if value is None:
        return False
    if not isinstance(value, bool):
        raise BadInput(f"'{what}' must be on or off.")
    return value


UNREADABLE = "?unreadable-trigger"
"""What :func:`triggered_id` gives for a crafted ``changedPropIds`` it cannot read: an id no
component has, so a callback answers it like any unknown trigger (None means the page loaded)."""


def triggered_id() -> Any:
    """``ctx.triggered_id`` (None when nothing triggered: the page's first call), or
    :data:`UNREADABLE` when a crafted request makes it unreadable."""
    try:
        return ctx.triggered_id
    except (ValueError, TypeError, AttributeError, KeyError):
        return UNREADABLE


def triggered_props() -> set[str]:
    """``ctx.triggered_prop_ids`` as a set of ``"id.prop"`` strings (empty when unreadable)."""
    try:
        return set(ctx.triggered_prop_ids)
    except (ValueError, TypeError, AttributeError, KeyError):
        return set()


def parse_click(click_data: Any, limit: float = CLICK_LIMIT) -> tuple[float, float]:
    """The (x, y) of a ``clickData`` payload, checked.

    Raises
    ------
    BadInput
        Anything but one point with two finite numbers within ``limit``.
    """
    try:
        point = click_data["points"][0]
        x, y = point["x"], point["y"]
    except (TypeError, KeyError, IndexError):
        raise BadInput("That click carried no point; click inside the map.") from None
    out = []
    for v in (x, y):
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise BadInput("A clicked point must be two numbers.")
        v = float(v)
        if not math.isfinite(v):
            raise BadInput("A clicked point must be finite (no NaN or infinity).")
        if abs(v) > limit:
            raise BadInput(f"That point is too far out (|coordinate| > {limit:g}).")
        out.append(v)
    return out[0], out[1]


_LINK_ZOOM_JS = """
function(relA, relB) {
    const dc = window.dash_clientside, nu = dc.no_update;
    const trig = (dc.callback_context.triggered || [])[0];
    const src = trig ? String(trig.prop_id).split('.')[0] : null;
    const rel = src === '%(a)s' ? relA : (src === '%(b)s' ? relB : null);
    if (!rel || typeof rel !== 'object') { return [nu, nu]; }
    const other = src === '%(a)s' ? '%(b)s' : '%(a)s';
    const gd = document.querySelector('#' + other + ' .js-plotly-plot');
    const full = gd && gd._fullLayout ? gd._fullLayout : {};
    const patch = new dc.Patch();
    let changed = false;
    for (const ax of ['xaxis', 'yaxis']) {
        let r = rel[ax + '.range'];
        if (!Array.isArray(r) && (ax + '.range[0]') in rel && (ax + '.range[1]') in rel) {
            r = [rel[ax + '.range[0]'], rel[ax + '.range[1]']];
        }
        const cur = full[ax] || {};
        if (Array.isArray(r) && r.length === 2 && r.every(Number.isFinite)) {
            const same = Array.isArray(cur.range) && !cur.autorange &&
                         cur.range[0] === r[0] && cur.range[1] === r[1];
            if (!same) {
                patch.assign(['layout', ax, 'range'], [r[0], r[1]]);
                patch.assign(['layout', ax, 'autorange'], false);
                changed = true;
            }
        } else if (rel[ax + '.autorange'] === true && !cur.autorange) {
            patch.assign(['layout', ax, 'autorange'], true);
            changed = true;
        }
    }
    if (!changed) { return [nu, nu]; }
    patch.assign(['layout', 'uirevision'], other + '-' + Date.now() + '-' + Math.random());
    const out = patch.build();
    return src === '%(a)s' ? [nu, out] : [out, nu];
}
"""


def link_zoom_js(a: str, b: str) -> str:
    """A clientside callback that copies the zoom/pan of graph ``a`` or ``b`` to the other.

    Registered by :func:`link_zoom`. Guarded
    against loops: nothing is sent when the other map already shows that range; a fresh
    ``uirevision`` makes plotly apply the range where the user had zoomed by hand.
    """
    return _LINK_ZOOM_JS % {"a": a, "b": b}


def link_zoom(app, a: str, b: str) -> None:
    """Register :func:`link_zoom_js` on ``app`` for the graphs ``a`` and ``b``."""
    from dash import Input, Output

    app.clientside_callback(
        link_zoom_js(a, b),
        Output(a, "figure", allow_duplicate=True), Output(b, "figure", allow_duplicate=True),
        Input(a, "relayoutData"), Input(b, "relayoutData"), prevent_initial_call=True)


_RELAY_JS = """
function(click) {
    const nu = window.dash_clientside.no_update;
    if (!click || !Array.isArray(click.points) || !click.points.length) { return nu; }
    const p = click.points[0];
    return {points: [{x: p.x, y: p.y}]};
}
"""


def relay_click(app, source: str, target: str) -> None:
    """A click on graph ``source`` is relayed, in the browser, as a click at the same point on
    ``target``: the two maps of one plane share one inversion callback."""
    from dash import Input, Output

    app.clientside_callback(_RELAY_JS, Output(target, "clickData"), Input(source, "clickData"),
                            prevent_initial_call=True)


class PointStore(Scripted):
    """A store whose data are drawn as markers over graphs, in the browser (``assets/markers.js``):
    no figure changes, no request, no callback.

    The marks change in the same commit as the data (a click's answer), so they reach the
    screen in the frame the click's result does; ``shown`` follows after that frame.

    Keyword arguments:

    - id (string; optional)
    - data (dict; optional): the store's value, as a ``dcc.Store``'s; its ``fields`` are drawn.
    - shown (dict; optional): ``data`` again, set in the browser once the frame showing them is
      on screen (the next frame has begun; after 100 ms at the latest); not set for the data the
      page starts with. What need not hold the picture back (writing the view into the
      address) reads this instead of ``data``.
    - graphs (list of strings; optional): the graphs to draw on.
    - fields (dict; optional): data field -> marker kind (``clicked``, ``nearest``, ``own``,
      ``walked``); default ``{"point": "clicked", "nearest": "nearest"}``.
    - group (string; optional): the marks of one store; another store's marks on the same
      graphs stay (default ``"point"``).
    """

    _namespace = "fooling_marks"
    _type = "PointStore"
    _PROPS = ("id", "data", "shown", "graphs", "fields", "group")

    def __init__(self, id: str | None = None, data: Any = None, graphs: Sequence[str] | None = None,
                 fields: dict | None = None, group: str | None = None, **kwargs):
        super().__init__(id=id, data=data, graphs=list(graphs) if graphs else None, fields=fields, group=group,
                         **kwargs)
