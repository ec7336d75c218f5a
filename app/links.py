"""Every view in its URL: reading a page's query string, and writing the view back to it.

The app shell holds the ``dcc.Location`` (:data:`app.ids.URL`) and two stores:

* :data:`app.ids.QUERY` — the query string, parsed in the browser by :data:`SANITIZE_JS`
  into ``{key: [values]}`` with hard limits (a 10 MB link never reaches the server: it
  becomes ``{"__error__": message}``), so a page's callback takes it as an input;
* :data:`app.ids.URL_WRITTEN` — the last query a page wrote itself, so that its own
  writes are not read back as a navigation (back and forward are: the sanitizer skips a
  write once, so going forward to the address last written is read as a navigation).

A page reads the query with :func:`read` (typed parameters with defaults; anything
hostile falls back to the default with a short note), and registers a clientside
writer (:func:`writer`) that turns its controls into the query string as they change:
no request. The shell's "copy link" button copies the address.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Mapping
from urllib.parse import urlencode

from dash import Input, Output, State

from . import ids
from .components import BadInput

__all__ = ["MAX_QUERY", "Param", "SANITIZE_JS", "query_string", "read", "register_shell", "shown_value", "writer"]

MAX_QUERY = 16384
"""Longest query string read at all (characters)."""
MAX_VALUE = 4096
"""Longest single value kept (longer ones are cut, and then fail their own check)."""
MAX_KEYS = 40

SANITIZE_JS = """
function(search, written) {
    const dc = window.dash_clientside;
    if (typeof search !== 'string') { search = ''; }
    // a page's own write read back: not a navigation; but only once, so that forward (or back)
    // to that very address later is read as one (the mark stays in the store until the next write)
    if (written && written.search === search) {
        const mark = JSON.stringify(written);
        if (window.foolingWrittenSeen !== mark) { window.foolingWrittenSeen = mark; return dc.no_update; }
    }
    // a link read (opened, typed, back or forward): the page's next write, unless the user acts
    // first, only completes that link (defaults filled in, bad values dropped), so it replaces
    // the history entry instead of adding one (Back would read the link again, which would be
    // completed and pushed again: Back could never leave the page)
    window.foolingLinkRead = true;
    if (!window.foolingLinkListen) {
        window.foolingLinkListen = true;
        const acted = function () { window.foolingLinkRead = false; };
        document.addEventListener('pointerdown', acted, true);
        document.addEventListener('keydown', acted, true);
    }
    if (search.length > %(max_query)d) {
        return {__error__: 'That link is too long to read (' + search.length + ' characters); showing the default view.'};
    }
    const out = {};
    let n = 0;
    try {
        for (const [k, v] of new URLSearchParams(search)) {
            if (++n > %(max_keys)d) { return {__error__: 'That link has too many parameters; showing the default view.'}; }
            (out[k] = out[k] || []).push(v.slice(0, %(max_value)d));
        }
    } catch (e) {
        return {__error__: 'That link could not be read; showing the default view.'};
    }
    return out;
}
""" % {"max_query": MAX_QUERY, "max_keys": MAX_KEYS, "max_value": MAX_VALUE}


class Param:
    """One query parameter: its name, a parser (raises :class:`BadInput`) and a default."""

    def __init__(self, name: str, parse: Callable[[str], Any], default: Any = None):
        self.name, self.parse, self.default = name, parse, default


def number(lo: float = -math.inf, hi: float = math.inf, *, integer: bool = False) -> Callable[[str], float]:
    """A parser of a finite number in ``[lo, hi]`` (an integer when ``integer``)."""
    def parse(text: str):
        try:
            v = float(text) if len(text) < 40 else math.nan
        except ValueError:
            v = math.nan
        if not math.isfinite(v):
            raise BadInput("not a finite number")
        if integer and not v.is_integer():
            raise BadInput("not a whole number")
        if not lo <= v <= hi:
            raise BadInput(f"outside {lo:g} to {hi:g}")
        return int(v) if integer else v
    return parse


def choice(options) -> Callable[[str], str]:
    """A parser of one of ``options`` (strings)."""
    def parse(text: str):
        if text not in options:
            raise BadInput(f"not one of {', '.join(map(str, options))}")
        return text
    return parse


def flag(text: str) -> bool:
    """``1``/``0`` (also ``true``/``false``)."""
    t = text.strip().lower()
    if t in ("1", "true"):
        return True
    if t in ("0", "false"):
        return False
    raise BadInput("not 0 or 1")


def shown_value(text: str, limit: int = 24) -> str:
    """A link's value as a note quotes it: cut to ``limit`` characters, and every character that
    does not print as itself escaped (``\\u202e``: a right-to-left override in a link would
    otherwise turn the page's note around, a control character hide in it)."""
    out = "".join(c if c.isprintable() else f"\\u{ord(c):04x}" if ord(c) < 0x10000 else f"\\U{ord(c):08x}"
                  for c in text[:limit])
    return out if len(text) < limit and len(out) < limit else out[:limit - 3] + "..."


def read(query: Any, params: list[Param]) -> tuple[dict, list[str], bool]:
    """The page's parameters from the shell's parsed query.

    Returns
    -------
    values : dict
        Every parameter's value: parsed, or its default when absent or bad.
    notes : list of str
        One short note per parameter that fell back to its default (and one for a query
        the browser refused to read).
    present : bool
        Whether any of ``params`` was given (a page without them keeps its own view).
    """
    values = {p.name: p.default for p in params}
    notes: list[str] = []
    if query is None:
        return values, notes, False
    if not isinstance(query, Mapping):
        return values, ["That link could not be read; showing the default view."], True
    if "__error__" in query:
        err = query["__error__"]
        return values, [err if isinstance(err, str) and len(err) < 200 else "That link could not be read."], True
    present = False
    for p in params:
        raw = query.get(p.name)
        if raw is None:
            continue
        present = True
        if not isinstance(raw, list) or not all(isinstance(r, str) for r in raw):
            notes.append(f"'{p.name}' could not be read; using the default.")
            continue
        if len(raw) != 1:
            notes.append(f"'{p.name}' is given {len(raw)} times; using the default.")
            continue
        try:
            values[p.name] = p.parse(raw[0])
        except BadInput as exc:
            shown = shown_value(raw[0])
            notes.append(f"'{p.name}={shown}' is {exc}; using the default.")
    return values, notes, present


def query_string(values: Mapping[str, Any]) -> str:
    """``?key=value&...`` of the given values (None values left out), as the writers write it."""
    items = [(k, ("1" if v else "0") if isinstance(v, bool) else (repr(v) if isinstance(v, float) else str(v)))
             for k, v in values.items() if v is not None]
    return "?" + urlencode(items) if items else ""


def writer(app, js_values: str, inputs: list, *, states: list | None = None) -> None:
    """Register a clientside callback writing the view into the URL's query as it changes.

    Parameters
    ----------
    js_values : str
        The body of a JavaScript function of the inputs' (then states') values, in order,
        returning an object ``{key: value}`` (null or undefined values are left out), or
        null to leave the URL alone.
    inputs : list of dash.Input
    states : list of dash.State, optional
    """
    n = len(inputs) + len(states or [])
    args = ", ".join(f"a{i}" for i in range(n))
    js = f"""
function({args}) {{
    const dc = window.dash_clientside, nu = dc.no_update;
    const values = (function({args}) {{ {js_values} }})({args});
    if (!values) {{ return [nu, nu, nu]; }}  // (no write: a link read stays to be completed)
    // the first write after a link was read, before the user acted, completes that link
    const completes = window.foolingLinkRead === true;
    window.foolingLinkRead = false;
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(values)) {{
        if (v === null || v === undefined) {{ continue; }}
        // numbers as JavaScript writes them: the shortest text that reads back as the same double
        params.append(k, typeof v === 'boolean' ? (v ? '1' : '0') : String(v));
    }}
    const s = params.toString(), search = s ? '?' + s : '';
    // the same view already in the address (e.g. a link just opened, written differently): leave it
    const now = new URLSearchParams(window.location.search);
    const same = [...params.keys()].length === [...now.keys()].length && [...params.entries()].every(
        ([k, v]) => now.getAll(k).length === 1 && (now.get(k) === v ||
                    (isFinite(Number(v)) && Number(now.get(k)) === Number(v))));
    if (same) {{ return [nu, nu, nu]; }}
    window.foolingWrites = (window.foolingWrites || 0) + 1;  // each write its own mark, even to an address seen before
    let href = nu;
    if (completes) {{
        // the address changed here already, and dcc.Location told the new href too: it then
        // takes the new search without pushing (an old href would be pushed back)
        try {{
            window.history.replaceState(window.history.state, '', window.location.pathname + search + window.location.hash);
            href = window.location.href;
        }} catch (e) {{ /* pushed instead */ }}
    }}
    return [search, href, {{search: search, n: window.foolingWrites}}];
}}
"""
    app.clientside_callback(js, Output(ids.URL, "search", allow_duplicate=True),
                            Output(ids.URL, "href", allow_duplicate=True),
                            Output(ids.URL_WRITTEN, "data", allow_duplicate=True), *inputs, *(states or []),
                            prevent_initial_call=True)


_COPY_JS = """
function(n) {
    return n ? window.location.href : window.dash_clientside.no_update;
}
"""


def register_shell(app) -> None:
    """The shell's callbacks: the query's sanitizer and the copy-link button."""
    app.clientside_callback(SANITIZE_JS, Output(ids.QUERY, "data"), Input(ids.URL, "search"),
                            State(ids.URL_WRITTEN, "data"))
    app.clientside_callback(_COPY_JS, Output(ids.COPY_LINK, "content"), Input(ids.COPY_LINK, "n_clicks"),
                            prevent_initial_call=True)
