"""Hardening of the Flask server behind the Dash app.

:func:`install` adds, to an app whose callbacks are all registered:

- a request body cap: a declared ``Content-Length`` above ``settings.max_body`` gets 413
  before the body is read; chunked bodies are read through Werkzeug's capped stream and
  get 413 once they pass the cap. Only a callback that takes an upload (an input named
  ``contents``, ``dcc.Upload``'s) may receive up to ``settings.max_upload_body``;
- a gate in front of ``POST /_dash-update-component``: the body must be JSON
  (``Content-Type: application/json``, UTF-8, nesting at most :data:`MAX_DEPTH` deep) and
  its shape must match a callback of the app (``output`` names a server-side callback,
  ``inputs``/``state``/``outputs`` carry exactly the ids and properties that callback
  declares). Anything else gets a short JSON 4xx. The query string may carry only the
  parameters Dash's renderer sends (:data:`DASH_ARGS`: the page load's signed ``endId``; a
  background job's ``cacheKey``/``job``/``oldJob`` on background callbacks only; ``cancelJob``),
  short; a callback with a guard in ``dash_app.callback_guards`` (by output) is asked too
  (/lab: a background job starts only for a ticket it can claim, else 204). Values are not
  judged here: the callbacks validate them and show a message in the page;
- an error handler: an exception left over in the callback route is logged and answered
  with 400, never a 500 carrying a traceback;
- security headers on every response (CSP built from ``dash_app.csp_hashes()``, nosniff,
  frame denial, no referrer, same-origin opener);
- no path with a ``..`` segment, a backslash or a NUL reaches a route;
- Flask debug off and Dash's hot-reload hash route closed unless dev tools are on;
- Dash's first-request setup made thread-safe: Dash flags it done *before* it has
  registered its script routes, so a fresh worker's concurrent first requests could get
  404/500 for the JS bundles (a blank page). Requests now wait until the setup has finished.

Nothing here unpickles, evaluates or stores request data.
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Any

from dash.exceptions import DependencyException
from flask import Response, request
from werkzeug.exceptions import HTTPException

__all__ = ["DASH_ARGS", "MAX_DEPTH", "MAX_MULTI", "Rejected", "check_callback_args", "check_callback_body",
           "content_security_policy", "install", "takes_upload"]

log = logging.getLogger(__name__)

MAX_DEPTH = 64
"""Deepest nesting (lists and objects) a callback request body may have."""

MAX_MULTI = 1000
"""Most components one pattern-matching (ALL) input may list."""

_WILD = ("ALL", "MATCH", "ALLSMALLER")
_MISSING = object()

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}


class Rejected(Exception):
    """A request refused with ``status`` and a short ``message``."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def content_security_policy(script_hashes) -> str:
    """The CSP header value; ``script_hashes`` are ``dash_app.csp_hashes()`` (already quoted)."""
    directives = {
        "default-src": ["'self'"],
        # the hashes cover Dash's inline renderer start-up and clientside callbacks. No
        # 'unsafe-eval': the app draws no WebGL traces (scattergl & co. compile shaders with
        # Function() and would need it); the browser tests check every page's console
        "script-src": ["'self'", *dict.fromkeys(script_hashes)],  # once each, in order
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "worker-src": ["'self'", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{k} {' '.join(v)}" for k, v in directives.items())


# --- callback request bodies -------------------------------------------------------------

def _depth(obj: Any, limit: int) -> int:
    """Nesting depth of parsed JSON, iteratively; stops counting past ``limit``."""
    deepest = 0
    stack = [(obj, 1)]
    while stack:
        node, d = stack.pop()
        if isinstance(node, (list, dict)):
            if d > deepest:
                deepest = d
                if deepest > limit:
                    return deepest
            stack.extend((v, d + 1) for v in (node.values() if isinstance(node, dict) else node))
    return deepest


def _pattern(component_id: Any) -> str | dict:
    """A declared id as a plain string or a dict whose wildcard values are 'ALL' etc."""
    if isinstance(component_id, str) and component_id.startswith("{"):
        try:
            component_id = json.loads(component_id)
        except ValueError:
            return component_id
    if isinstance(component_id, dict):
        out = {}
        for k, v in component_id.items():
            if isinstance(v, list) and len(v) == 1 and v[0] in _WILD:
                v = v[0]
            elif hasattr(v, "value") and getattr(v, "value", None) in _WILD:  # dash Wildcard
                v = v.value
            else:
                v = ("=", v)
            out[k] = v
        return out
    return component_id


def _is_multi(pattern: str | dict) -> bool:
    return isinstance(pattern, dict) and any(v in ("ALL", "ALLSMALLER") for v in pattern.values())


def _clean(prop: str) -> str:
    return prop.split("@", 1)[0]


def _check_one(item: Any, pattern: str | dict, prop: str, where: str) -> None:
    if not isinstance(item, dict):
        raise Rejected(400, f"{where}: each item must be an object")
    got_prop = item.get("property")
    if not isinstance(got_prop, str) or _clean(got_prop) != _clean(prop):
        raise Rejected(400, f"{where}: property does not match the callback")
    cid = item.get("id", _MISSING)
    if isinstance(pattern, str):
        if cid != pattern:
            raise Rejected(400, f"{where}: id does not match the callback")
        return
    if not isinstance(cid, dict) or set(cid) != set(pattern):
        raise Rejected(400, f"{where}: id does not match the callback")
    for k, want in pattern.items():
        v = cid[k]
        if isinstance(want, tuple):
            if type(v) is not type(want[1]) or v != want[1]:
                raise Rejected(400, f"{where}: id does not match the callback")
        elif isinstance(v, bool) or not isinstance(v, (str, int, float)) or v != v \
                or (isinstance(v, str) and len(v) > 1000):
            raise Rejected(400, f"{where}: a pattern id value must be a string or number")


def _check_deps(items: Any, specs: list[tuple[str | dict, str]], where: str) -> None:
    if not isinstance(items, list):
        raise Rejected(400, f"{where} must be a list")
    if len(items) != len(specs):
        raise Rejected(400, f"{where}: expected {len(specs)} items, got {len(items)}")
    for item, (pattern, prop) in zip(items, specs):
        if _is_multi(pattern):
            if not isinstance(item, list) or len(item) > MAX_MULTI:
                raise Rejected(400, f"{where}: a pattern-matching item must be a list")
            for sub in item:
                _check_one(sub, pattern, prop, where)
        else:
            _check_one(item, pattern, prop, where)


def _declared(deps: Any) -> list[tuple[str | dict, str]]:
    """(id pattern, property) of declared dependencies (dicts or dash dependency objects)."""
    out = []
    for d in deps or []:
        if isinstance(d, dict):
            out.append((_pattern(d["id"]), d["property"]))
        else:
            out.append((_pattern(d.component_id), d.component_property))
    return out


def check_callback_body(body: Any, callback_map: dict) -> dict:
    """Check a parsed callback request against the app's callbacks.

    Parameters
    ----------
    body : object
        The parsed JSON body of ``POST /_dash-update-component``.
    callback_map : dict
        ``dash_app.callback_map``.

    Returns
    -------
    dict
        The callback's entry in ``callback_map``.

    Raises
    ------
    Rejected
        With 400 (malformed) or 404 (no such server-side callback).
    """
    if not isinstance(body, dict):
        raise Rejected(400, "the body must be a JSON object")
    output = body.get("output")
    if not isinstance(output, str) or not output or len(output) > 4000:
        raise Rejected(400, "'output' must be a callback's output string")
    cb = callback_map.get(output)
    if not isinstance(cb, dict) or not callable(cb.get("callback")):
        raise Rejected(404, "no such callback")
    if "inputs" not in body:
        raise Rejected(400, "'inputs' is missing")
    _check_deps(body["inputs"], _declared(cb.get("inputs")), "inputs")
    states = _declared(cb.get("state"))
    state = body.get("state")
    if states:
        _check_deps(state, states, "state")
    elif state not in (None, []):
        raise Rejected(400, "this callback takes no state")
    if not cb.get("no_output"):
        declared = cb.get("output")
        multi = isinstance(declared, (list, tuple))
        outs = _declared(declared if multi else [declared])
        got = body.get("outputs", _MISSING)
        if got is _MISSING:
            raise Rejected(400, "'outputs' is missing")
        _check_deps(got if multi else [got], outs, "outputs")
    changed = body.get("changedPropIds", [])
    if not isinstance(changed, list) or len(changed) > 100 or not all(
            isinstance(c, str) and len(c) <= 4000 for c in changed):
        raise Rejected(400, "'changedPropIds' must be a list of strings")
    return cb


DASH_ARGS = {"endId": False, "cacheKey": True, "job": True, "oldJob": True, "cancelJob": False}
"""Query parameters Dash's renderer sends to the callback route: name -> background callbacks only.
(``endId`` signs the page load; ``cacheKey``/``job`` poll a background job, ``oldJob`` ends the
previous one, ``cancelJob`` goes to the cancel callback; Dash verifies their signatures.)"""


def check_callback_args(args, cb: dict) -> None:
    """Refuse query parameters Dash does not send, too many or too long, or background-job
    parameters on a callback that is not a background callback."""
    if len(args) > len(DASH_ARGS):
        raise Rejected(400, "too many query parameters")
    for name in args:
        values = args.getlist(name)
        if name not in DASH_ARGS:
            raise Rejected(400, "unknown query parameter")
        if len(values) > 8 or any(len(v) > 512 for v in values):
            raise Rejected(400, "query parameter too long")
        if DASH_ARGS[name] and not cb.get("background"):
            raise Rejected(400, "background-job parameters on a callback that is not a background callback")


def takes_upload(cb: dict) -> bool:
    """Whether a callback has an upload's ``contents`` among its inputs."""
    return any(prop == "contents" for _, prop in _declared(cb.get("inputs")))


def _read_json_body(max_depth: int = MAX_DEPTH) -> Any:
    """The current request's body parsed as JSON, or :class:`Rejected`."""
    if request.mimetype != "application/json":
        raise Rejected(415, "Content-Type must be application/json")
    raw = request.get_data(cache=True)  # capped by MAX_CONTENT_LENGTH: 413 past it
    if not raw:
        raise Rejected(400, "empty body")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Rejected(400, "the body is not UTF-8") from None
    try:
        body = json.loads(text)
    except RecursionError:
        raise Rejected(400, "the body is nested too deeply") from None
    except ValueError:
        raise Rejected(400, "the body is not valid JSON") from None
    if _depth(body, max_depth) > max_depth:
        raise Rejected(400, "the body is nested too deeply")
    return body


def _reply(status: int, message: str) -> Response:
    return Response(json.dumps({"error": message}), status=status, mimetype="application/json")


# --- installation -----------------------------------------------------------------------

def _serialize_first_request_setup(dash_app) -> None:
    """Make every request wait until Dash's one-time ``_setup_server`` has completed."""
    funcs = dash_app.server.before_request_funcs.get(None, [])
    original = getattr(dash_app, "_setup_server", None)
    if original is None or original not in funcs:
        return
    lock, done = threading.Lock(), threading.Event()

    def setup_once() -> None:
        if done.is_set():
            return
        with lock:
            if not done.is_set():
                original()
                done.set()

    funcs[funcs.index(original)] = setup_once


def install(dash_app, settings) -> None:
    """Attach request limits, error handlers and security headers to ``dash_app``.

    Call once, after every callback (clientside ones included) is registered.

    Parameters
    ----------
    dash_app : dash.Dash
    settings : app.settings.Settings
        ``max_body`` caps request bodies.
    """
    server = dash_app.server
    max_body = int(settings.max_body)
    upload_body = max(max_body, int(getattr(settings, "max_upload_body", max_body)))
    server.config.update(MAX_CONTENT_LENGTH=upload_body, MAX_FORM_MEMORY_SIZE=max_body,
                         MAX_FORM_PARTS=100, DEBUG=False, TRAP_HTTP_EXCEPTIONS=False)
    server.debug = False
    prefix = dash_app.config.routes_pathname_prefix
    callback_route = prefix + "_dash-update-component"
    reload_route = prefix + "_reload-hash"
    csp: dict[str, str] = {}

    def policy() -> str:
        if "value" not in csp:  # after every callback is registered (first request)
            csp["value"] = content_security_policy(dash_app.csp_hashes())
        return csp["value"]

    _serialize_first_request_setup(dash_app)

    @server.before_request
    def _guard():
        path = request.path
        if ".." in path.split("/") or "\\" in path or "\x00" in path:
            return _reply(404, "not found")
        is_callback = path == callback_route and request.method == "POST"
        cap = upload_body if is_callback else max_body  # the callback's own cap is checked below
        length = request.content_length
        if length is not None and length > cap:
            return _reply(413, f"request body larger than {cap} bytes")
        if length is None and "chunked" in request.headers.get("Transfer-Encoding", "").lower():
            # Werkzeug's capped stream stops quietly AT its limit: read one byte more than
            # allowed to tell "exactly the cap" from "longer" (per-request limit: Flask 3.1+)
            try:
                request.max_content_length = cap + 1
            except AttributeError:  # older Flask: the config cap truncates instead
                pass
            if len(request.get_data(cache=True)) > cap:
                return _reply(413, f"request body larger than {cap} bytes")
        if path == reload_route and not getattr(dash_app, "_dev_tools", {}).get("hot_reload"):
            return _reply(404, "not found")
        if is_callback:
            try:
                if len(request.get_data(cache=True)) > max_body and b'"contents"' not in request.get_data(cache=True):
                    raise Rejected(413, f"request body larger than {max_body} bytes")  # not even parsed
                body = _read_json_body()
                cb = check_callback_body(body, dash_app.callback_map)
                if len(request.get_data(cache=True)) > max_body and not takes_upload(cb):
                    raise Rejected(413, f"request body larger than {max_body} bytes")
                check_callback_args(request.args, cb)
            except Rejected as exc:
                return _reply(exc.status, exc.message)
            guard = getattr(dash_app, "callback_guards", {}).get(body["output"])
            if guard is not None:  # e.g. /lab: a job starts only for a ticket it can claim
                answer = guard(body, request.args)
                if answer is not None:
                    return answer
        return None

    @server.errorhandler(Exception)
    def _on_error(exc: Exception):
        if isinstance(exc, HTTPException):
            if request.path == callback_route or exc.code == 413:
                return _reply(exc.code or 400, exc.description or exc.name)
            return exc
        if isinstance(exc, DependencyException):  # a component suite of no registered library
            return _reply(404, "not found")
        if request.path == callback_route:
            log.exception("callback request failed: %s", type(exc).__name__)
            return _reply(400, "the request could not be processed")
        log.exception("request failed: %s %s", request.method, request.path)
        return Response("Internal Server Error", status=500, mimetype="text/plain")

    @server.after_request
    def _headers(response: Response) -> Response:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        response.headers.setdefault("Content-Security-Policy", policy())
        return response
