"""Hostile callback requests through ``server.test_client()``: never a 5xx, never a callback
that raised, and a normal click still works afterwards.

A callback that raises is caught by the app's ``on_error`` handler, which answers 200 with
the error banner (``app-error``) in the response, and logs the exception; an exception in
Dash's own dispatch is answered 400 by the security layer, and logged. "No 5xx" alone sees
neither, so :func:`problems` also looks for the banner in every response and for any
logged error, and :func:`test_the_check_catches_a_callback_that_raises` shows it failing
on a deliberately broken callback.

The helpers here (:func:`build_body`, :func:`payloads`, :func:`normal_clicks`) build
request bodies from the app's own ``callback_map`` and layout, the way the browser does;
``tests/test_serving.py`` reuses them against a live gunicorn.
"""

from __future__ import annotations

import json
import logging
import math
import random
import time
from dataclasses import dataclass
from typing import Any, Iterator

import pytest
from dash._utils import stringify_id

from app import ids

ROUTE = "/_dash-update-component"
SEED = 20240611
N_PAYLOADS = 1200
FOUR_XX = {400, 404, 413, 415, 422}
WILD = ("ALL", "MATCH", "ALLSMALLER")


# ---- layout and callback introspection ------------------------------------------------------

def _children(node: Any) -> Iterator[Any]:
    kids = getattr(node, "children", None)
    if isinstance(kids, (list, tuple)):
        yield from kids
    elif kids is not None:
        yield kids
    for prop in getattr(node, "_prop_names", ()):  # components held in other props
        if prop == "children":
            continue
        v = getattr(node, prop, None)
        if hasattr(v, "_prop_names"):
            yield v


def components(dash_app) -> dict[str, Any]:
    """Every component with an id in the app's shell or any page, by stringified id."""
    from app.pages import load_pages

    out: dict[str, Any] = {}
    stack = [dash_app.layout] + [page.layout(dash_app.states_[path]) for path, page in load_pages().items()]
    while stack:
        node = stack.pop()
        if not hasattr(node, "_prop_names"):
            continue
        cid = getattr(node, "id", None)
        if cid is not None:
            out[stringify_id(cid)] = node
        stack.extend(_children(node))
    return out


def _parse_id(id_str: str) -> Any:
    return json.loads(id_str) if id_str.startswith("{") else id_str


def _matches(pattern: dict, cid: Any) -> bool:
    if not isinstance(cid, dict) or set(cid) != set(pattern):
        return False
    return all(isinstance(v, list) and v and v[0] in WILD or cid[k] == v for k, v in pattern.items())


def _multi(pattern: Any) -> bool:
    return isinstance(pattern, dict) and any(
        isinstance(v, list) and v and v[0] in ("ALL", "ALLSMALLER") for v in pattern.values())


def _concrete(pattern: Any, comps: dict[str, Any]) -> list[Any]:
    """Ids of the layout's components a (possibly pattern-matching) id stands for."""
    if not isinstance(pattern, dict):
        return [pattern]
    return [c.id for c in comps.values() if _matches(pattern, getattr(c, "id", None))]


def _key(cid: Any, prop: str) -> str:
    return f"{stringify_id(cid)}.{prop}"


def server_callbacks(dash_app) -> list[str]:
    """Output keys of every server-side callback (clientside ones have no function)."""
    return [k for k, v in dash_app.callback_map.items() if callable(v.get("callback"))]


def _split_outputs(output_key: str) -> list[tuple[Any, str]]:
    parts = output_key[2:-2].split("...") if output_key.startswith("..") else [output_key]
    return [(_parse_id(p.rsplit(".", 1)[0]), p.rsplit(".", 1)[1]) for p in parts]


def build_body(dash_app, output_key: str, values: dict[str, Any] | None = None,
               changed: list[str] | None = None, comps: dict[str, Any] | None = None) -> dict:
    """The body the browser would POST for callback ``output_key``.

    Parameters
    ----------
    values : dict, optional
        ``"id.prop"`` (stringified id) -> value; other inputs and states carry the
        layout's current value.
    changed : list of str, optional
        ``changedPropIds``; default the first input.
    """
    values = values or {}
    comps = comps if comps is not None else components(dash_app)
    cb = dash_app.callback_map[output_key]

    def item(cid, prop):
        key = _key(cid, prop)
        if key in values:
            value = values[key]
        else:
            value = getattr(comps.get(stringify_id(cid)), prop, None)
        d = {"id": cid, "property": prop}
        if value is not None:
            d["value"] = value
        return d

    def deps(specs):
        out = []
        for spec in specs:
            pattern = _parse_id(spec["id"])
            found = [item(c, spec["property"]) for c in _concrete(pattern, comps)]
            out.append(found if _multi(pattern) else (found[0] if found else
                                                      {"id": pattern, "property": spec["property"]}))
        return out

    inputs = deps(cb["inputs"])
    body = {"output": output_key, "inputs": inputs}
    outs = []
    for pattern, prop in _split_outputs(output_key):
        found = [{"id": c, "property": prop} for c in _concrete(pattern, comps)]
        outs.append(found if _multi(pattern) else (found[0] if found else {"id": pattern, "property": prop}))
    body["outputs"] = outs if output_key.startswith("..") else outs[0]
    if cb["state"]:
        body["state"] = deps(cb["state"])
    if changed is None:
        first = inputs[0] if inputs else None
        first = first[0] if isinstance(first, list) and first else first
        changed = [_key(first["id"], first["property"])] if isinstance(first, dict) else []
    body["changedPropIds"] = changed
    return body


def input_keys(dash_app, output_key: str, comps: dict[str, Any]) -> list[str]:
    """``"id.prop"`` of every concrete input (and state) of a callback."""
    cb = dash_app.callback_map[output_key]
    keys = []
    for spec in list(cb["inputs"]) + list(cb["state"]):
        for c in _concrete(_parse_id(spec["id"]), comps):
            keys.append(_key(c, spec["property"]))
    return keys


# ---- hostile payloads -------------------------------------------------------------------

def _deep(n: int) -> Any:
    v: Any = 0
    for _ in range(n):
        v = [v]
    return v


def hostile_value(rng: random.Random, long_len: int = 4000) -> Any:
    """One value a crafted request might carry where a click, number or choice belongs."""
    nums = [math.nan, math.inf, -math.inf, 1e308, -1e308, 10 ** 30, -(10 ** 30), 2 ** 63, 0, -1,
            1.5, 5e-324, -0.0, 7, 1e7, 1e7 + 1]
    x = rng.choice(nums + ["a", None, True, [1], {"a": 1}])
    y = rng.choice(nums + ["b", None, False, [], {}])
    pool = [
        math.nan, math.inf, -math.inf, 1e308, -1e308, 10 ** 30, -(10 ** 30), 2 ** 64, 0, -1, 3,
        0.5, 1e-300, "", "x", "NaN", "1e308", "<script>alert(1)</script>", "../../etc/passwd",
        "\u202e\u0000\ud7ff", "identity", "tanh", "bogus", None, True, False, [], [1, 2, 3],
        [None], [[[[]]]], {}, {"a": None}, {"points": []}, {"points": None}, {"points": [{}]},
        {"points": "x"}, {"points": [None]}, {"points": [{"x": x, "y": y}]},
        {"points": [{"x": x, "y": y}, {"x": 1, "y": 2}]}, {"points": [{"x": [x], "y": {"v": y}}]},
        {"points": [{"x": x, "y": y, "curveNumber": 10 ** 9, "pointNumber": -5, "customdata": [x]}]},
        {"network": x, "point": [x, y]}, {"network": "identity", "point": "x"},
        {"network": "tanh", "point": [x]}, {"xaxis.range[0]": x, "yaxis.range[1]": y},
        {"autosize": True}, _deep(rng.randint(2, 40)), "x" * long_len,
        list(range(rng.randint(0, 3000))), {str(i): i for i in range(rng.randint(0, 500))},
        [rng.random() for _ in range(50)],
    ]
    return rng.choice(pool)


@dataclass
class Payload:
    """One request: bytes, content type, and what must come back."""

    data: bytes
    content_type: str | None
    kind: str
    must_be_4xx: bool


def _dump(body: Any) -> bytes:
    return json.dumps(body, allow_nan=True).encode()


def malformed(rng: random.Random, good: dict, cap: int) -> tuple[bytes, str | None, str]:
    """A body that is broken as a whole (every one must get a 4xx)."""
    g = json.loads(json.dumps(good, allow_nan=True))
    raw = _dump(g)
    k = rng.randrange(30)
    ct = "application/json"
    if k == 0:
        return raw[: rng.randrange(1, max(2, len(raw) - 1))], ct, "truncated"
    if k == 1:
        return rng.choice([b"[]", b'"x"', b"1", b"null", b"true", b"-0.5", b"[{}]"]), ct, "not an object"
    if k == 2:
        return b"{}", ct, "empty object"
    if k == 3:
        g.pop("output")
        return _dump(g), ct, "no output"
    if k == 4:
        g["output"] = rng.choice(["nope.children", "", "page-content", "..a.b...c.d..", "x" * 5000,
                                  "navbar-collapse.is_open"])
        return _dump(g), ct, "unknown output"
    if k == 5:
        g["output"] = rng.choice([1, None, [good["output"]], {"id": 1}, True])
        return _dump(g), ct, "output not a string"
    if k == 6:
        g["inputs"] = rng.choice([{}, "x", None, 7, {"0": g["inputs"]}])
        return _dump(g), ct, "inputs not a list"
    if k == 7:
        g.pop("inputs")
        return _dump(g), ct, "no inputs"
    if k == 8:
        g["inputs"] = g["inputs"] + [{"id": "extra", "property": "value", "value": 1}]
        return _dump(g), ct, "extra input"
    if k == 9:
        g["inputs"] = g["inputs"][:-1]
        return _dump(g), ct, "missing input"
    if k in (10, 11, 12):
        i = rng.randrange(len(g["inputs"]))
        item = g["inputs"][i]
        if isinstance(item, list):
            item = item[0] if item else {"id": {"type": "x", "index": 0}, "property": "n_clicks"}
            g["inputs"][i] = [item]
        which = rng.choice(["no id", "no property", "bad id", "bad property", "id type",
                            "not a dict"])
        if which == "no id":
            item.pop("id", None)
        elif which == "no property":
            item.pop("property", None)
        elif which == "bad id":
            item["id"] = rng.choice(["no-such-id", {"type": "nope", "index": 0}, "URL", ""])
        elif which == "bad property":
            item["property"] = rng.choice(["nope", "", "__class__", "children"])
        elif which == "id type":
            item["id"] = rng.choice([1, None, [1], {"a": [1]}, True, 1.5])
        else:
            g["inputs"][i] = rng.choice([1, "x", None, [1, 2]])
        return _dump(g), ct, f"input item: {which}"
    if k == 13:
        g["state"] = rng.choice(["x", 1, {}, [{"id": "nope", "property": "data"}] * 3])
        return _dump(g), ct, "bad state"
    if k == 14:
        g["outputs"] = rng.choice(["x", 1, None, [], {"id": "nope", "property": "children"},
                                   [{"id": "nope"}] * 5])
        return _dump(g), ct, "bad outputs"
    if k == 15:
        g.pop("outputs", None)
        return _dump(g), ct, "no outputs"
    if k == 16:
        g["changedPropIds"] = rng.choice(["x", 1, {}, [[1]], [None], [{"a": 1}], ["x"] * 101])
        return _dump(g), ct, "bad changedPropIds"
    if k == 17:
        n = rng.choice([1000, 10_000, 30_000])
        return b"[" * n + b"]" * n, ct, f"nested {n}"
    if k == 18:
        n = rng.choice([100, 1000, 5000])
        return (raw[:-1] + b', "junk": ' + b"[" * n + b"]" * n + b"}"), ct, f"nested {n} inside"
    if k == 19:
        return raw.replace(b'"', b'\xff', rng.randint(1, 3)), ct, "non-UTF-8"
    if k == 20:
        return b"\xef\xbb\xbf" + raw, ct, "BOM"
    if k == 21:
        return bytes(rng.randrange(256) for _ in range(rng.randint(1, 300))), ct, "random bytes"
    if k == 22:
        ct = rng.choice([None, "text/plain", "application/x-www-form-urlencoded",
                         "multipart/form-data; boundary=x", "application/xml", "application/jsonx"])
        return raw, ct, f"content type {ct}"
    if k == 23:
        return raw + b" " * (cap + 10 - len(raw)), ct, "over the cap"
    if k == 24:
        return raw[:-1] + b', "n": ' + b"9" * rng.randint(5000, 20000) + b"}", ct, "huge int literal"
    if k == 25:
        return b"", ct, "empty"
    if k == 26:
        return raw + b"garbage", ct, "trailing garbage"
    if k == 27:
        return raw.decode().encode("utf-16"), ct, "UTF-16"
    if k == 28 and any(isinstance(i, dict) for i in g["inputs"]):
        j = next(j for j, i in enumerate(g["inputs"]) if isinstance(i, dict))
        g["inputs"][j] = [g["inputs"][j]] * 3
        return _dump(g), ct, "single input given as list"
    return _dump([g]), ct, "body in a list"


def payloads(dash_app, n: int = N_PAYLOADS, seed: int = SEED, cap: int = 65536) -> list[Payload]:
    """``n`` hostile payloads spread over every server-side callback, reproducibly."""
    rng = random.Random(seed)
    comps = components(dash_app)
    keys = server_callbacks(dash_app)
    goods = {k: build_body(dash_app, k, comps=comps) for k in keys}
    inputs = {k: input_keys(dash_app, k, comps) for k in keys}
    out = []
    for i in range(n):
        key = keys[i % len(keys)]
        if rng.random() < 0.35:
            data, ct, kind = malformed(rng, goods[key], cap)
            out.append(Payload(data, ct, f"{key}: {kind}", True))
            continue
        fuzzed = rng.sample(inputs[key], k=rng.randint(1, len(inputs[key]))) if inputs[key] else []
        values = {f: hostile_value(rng, long_len=rng.choice([10, 4000, cap - 4000])) for f in fuzzed}
        changed = [rng.choice(fuzzed)] if fuzzed and rng.random() < 0.9 else rng.choice(
            [[], ["nope.value"], ['{"index":1e308,"type":"x"}.n_clicks'], ["{bad json.value"]])
        body = build_body(dash_app, key, values, changed, comps)
        data = _dump(body)
        out.append(Payload(data, "application/json", f"{key}: values {sorted(values)}",
                           len(data) > cap))
    return out


def normal_clicks(dash_app, res) -> list[tuple[dict, str]]:
    """(body, text the response must contain) for ordinary use of the app's callbacks."""
    comps = components(dash_app)
    out = []
    for key in server_callbacks(dash_app):
        cb = dash_app.callback_map[key]
        props = {(d["id"], d["property"]) for d in cb["inputs"]}
        if (ids.URL, "pathname") in props:
            out.append((build_body(dash_app, key, {"url.pathname": "/mnist"}, comps=comps), ids.MNIST_MAP))
        for graph, xy in ((ids.MNIST_MAP, None), (ids.IRIS_MAP, (4.0, 1.2)),
                          (ids.SVM_LINEAR_MAP, (4.0, 1.2)), (ids.SVM_RBF_MAP, (4.0, 1.2))):
            if (graph, "clickData") not in props:
                continue
            if xy is None:
                network = getattr(comps.get(ids.MNIST_NETWORK), "value", None) or "identity"
                xy = tuple(float(v) for v in res.plane(network).centroid)
            click = {"points": [{"x": xy[0], "y": xy[1], "curveNumber": 0, "pointNumber": 0}]}
            prop = f"{graph}.clickData"
            out.append((build_body(dash_app, key, {prop: click}, [prop], comps), "Prediction"))
    return out


# ---- the check ----------------------------------------------------------------------------

ERROR_MARKERS = (ids.ERROR.encode(), b"Something went wrong")
"""What a response carries when a callback raised (the error banner's id and text)."""


def _post(client, p: Payload):
    headers = {"Content-Type": p.content_type} if p.content_type else {}
    return client.post(ROUTE, data=p.data, headers=headers)


def problems(client, items: list[Payload], caplog) -> dict[str, list]:
    """Post every payload; every way the app failed, by kind (all lists empty: none).

    ``5xx``: a server error; ``not 4xx``: a broken body that got through; ``traceback``: a
    4xx answer carrying more than a short message; ``banner``: a 200 carrying the error
    banner (a callback raised and ``on_error`` caught it); ``logged``: an error logged while
    answering (a callback raised, or Dash's dispatch did and the security layer answered 400).
    """
    found: dict[str, list] = {"5xx": [], "not 4xx": [], "traceback": [], "banner": [], "logged": []}
    statuses: dict[int, int] = {}
    for p in items:
        caplog.clear()
        r = _post(client, p)
        body = r.get_data()
        statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
        if r.status_code >= 500:
            found["5xx"].append((r.status_code, p.kind, body[:200]))
        elif p.must_be_4xx and r.status_code not in FOUR_XX:
            found["not 4xx"].append((r.status_code, p.kind))
        if r.status_code >= 400 and (len(body) >= 300 or b"Traceback" in body):
            found["traceback"].append((p.kind, body[:300]))
        if r.status_code < 300 and any(m in body for m in ERROR_MARKERS):
            found["banner"].append((p.kind, body[:200]))
        errors = [rec for rec in caplog.records if rec.levelno >= logging.ERROR]
        if errors:
            found["logged"].append((p.kind, errors[0].getMessage(), errors[0].exc_info and
                                    repr(errors[0].exc_info[1])))
    found["statuses"] = statuses  # type: ignore[assignment]
    return found


def assert_no_problems(found: dict[str, list]) -> None:
    for kind, items in found.items():
        if kind != "statuses":
            assert items == [], f"{kind}: {len(items)} payloads, e.g. {items[:5]}"


# ---- tests ------------------------------------------------------------------------------

def test_builder_bodies_are_accepted(dash_app):
    """The baseline body of every callback passes the gate (so the fuzz reaches callbacks)."""
    client = dash_app.server.test_client()
    keys = server_callbacks(dash_app)
    assert keys, "no server-side callbacks"
    for key in keys:
        r = client.post(ROUTE, json=build_body(dash_app, key))
        assert r.status_code in (200, 204), (key, r.status_code, r.get_data()[:300])


def test_fuzz_never_fails_and_clicks_still_work(dash_app, resources, caplog):
    caplog.set_level(logging.WARNING)
    client = dash_app.server.test_client()
    cap = dash_app.server.config["MAX_CONTENT_LENGTH"]
    items = payloads(dash_app, cap=cap)
    assert len(items) >= 1000
    assert len({p.kind.split(":")[0] for p in items}) == len(server_callbacks(dash_app))
    t0 = time.perf_counter()
    found = problems(client, items, caplog)
    elapsed = time.perf_counter() - t0
    assert_no_problems(found)
    statuses = found["statuses"]
    # the gate does not swallow everything: well-formed hostile bodies reach the callbacks
    assert statuses.get(200, 0) + statuses.get(204, 0) >= 0.3 * sum(
        not p.must_be_4xx for p in items), statuses
    assert elapsed < 120, f"{len(items)} payloads took {elapsed:.0f} s"

    clicks = normal_clicks(dash_app, resources)
    assert clicks
    for body, expect in clicks:
        r = client.post(ROUTE, json=body)
        assert r.status_code == 200, (body["output"], r.status_code)
        assert expect in r.get_data(as_text=True), body["output"]
        assert not any(m in r.get_data() for m in ERROR_MARKERS)


def test_the_check_catches_a_callback_that_raises(resources, monkeypatch, caplog):
    """A /mnist network check that raises KeyError on a non-string (instead of a message)
    must fail the fuzz check; the real one passes the same payloads."""
    from app import create_app
    from app.pages.mnist import callbacks as mnist_callbacks

    caplog.set_level(logging.WARNING)
    real = mnist_callbacks.check_network

    def broken(state, value):
        if not isinstance(value, str):
            raise KeyError(value)
        return real(state, value)

    def mnist_payloads(dash_app):
        key = next(k for k in server_callbacks(dash_app) if ids.MNIST_MAP in k and "figure" in k)
        # enough payloads for this one callback however many callbacks the pages register
        n = max(N_PAYLOADS, 60 * len(server_callbacks(dash_app)))
        return [p for p in payloads(dash_app, n=n) if p.kind.startswith(key + ":")]

    good_app = create_app(resources)
    items = mnist_payloads(good_app)
    assert len(items) > 50
    assert_no_problems(problems(good_app.server.test_client(), items, caplog))

    monkeypatch.setattr(mnist_callbacks, "check_network", broken)
    bad_app = create_app(resources)
    found = problems(bad_app.server.test_client(), mnist_payloads(bad_app), caplog)
    assert found["5xx"] == []  # the crash hides behind a 200 ...
    assert found["banner"] and found["logged"]  # ... and the check sees it anyway
    assert any("KeyError" in str(item) for item in found["logged"])
    with pytest.raises(AssertionError, match="banner"):
        assert_no_problems(found)


def test_payloads_are_reproducible(dash_app):
    a = payloads(dash_app, n=50)
    b = payloads(dash_app, n=50)
    assert [p.data for p in a] == [p.data for p in b]
    assert any(p.must_be_4xx for p in a) and any(not p.must_be_4xx for p in a)
