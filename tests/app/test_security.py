"""app.security through ``server.test_client()``: body cap, callback gate, error handler,
headers, paths, debug off."""

from __future__ import annotations

import io
import json
import logging
import threading
from collections import Counter
from pathlib import Path

import pytest
from dash import ALL, MATCH, Dash, Input, Output, State, html

from app import create_app, ids, security
from app.settings import Settings
from tests.app.test_fuzz import build_body, server_callbacks

ROUTE = "/_dash-update-component"
REPO = Path(__file__).resolve().parents[2]
NAV = {"output": "page-content.children", "outputs": {"id": "page-content", "property": "children"},
       "inputs": [{"id": "url", "property": "pathname", "value": "/"}],
       "changedPropIds": ["url.pathname"]}


def post(client, data, content_type="application/json", **kw):
    if not isinstance(data, (bytes, str)):
        data = json.dumps(data)
    return client.post(ROUTE, data=data, content_type=content_type, **kw)


@pytest.fixture
def client(dash_app):
    return dash_app.server.test_client()


# ---- size cap ---------------------------------------------------------------------------

def test_body_cap_comes_from_settings(resources):
    settings = Settings(max_body=2048, max_upload=30_000)
    small = create_app(resources, settings)
    assert small.server.config["MAX_CONTENT_LENGTH"] == settings.max_upload_body  # the upload's, at most
    assert settings.max_upload_body == 4 * 10_000 + 2048
    c = small.server.test_client()
    assert post(c, NAV).status_code == 200
    padded = json.dumps(NAV) + " " * 2048
    r = post(c, padded)
    assert r.status_code == 413 and r.is_json and "2048" in r.json["error"]


def _upload_body(app, contents: str) -> dict:
    (key,) = [k for k in app.callback_map if any(i["property"] == "contents" for i in app.callback_map[k]["inputs"])]
    (upload,) = [i["id"] for i in app.callback_map[key]["inputs"] if i["property"] == "contents"]
    return build_body(app, key, {f"{upload}.contents": contents}, changed=[f"{upload}.contents"])


def test_only_the_upload_callback_takes_an_upload_sized_body(resources):
    """A body over ``max_body`` reaches only a callback with an upload's ``contents`` input, and
    only up to the upload cap; any other callback gets 413 however the body is dressed up."""
    settings = Settings(max_body=4096, max_upload=30_000)
    app = create_app(resources, settings)
    c = app.server.test_client()
    big = "data:image/png;base64," + "A" * 20_000  # over max_body, under the upload cap: not a PNG
    r = post(c, _upload_body(app, big))
    assert r.status_code == 200, r.get_data()[:200]
    # the page's own message (an alert in the result's static markup), not the error banner
    assert "sideUpdate" not in r.json and '"alert alert-' in json.dumps(r.json["response"])
    huge = "data:image/png;base64," + "A" * (settings.max_upload_body + 10)
    r = post(c, _upload_body(app, huge))
    assert r.status_code == 413 and str(settings.max_upload_body) in r.json["error"]
    # the navigation callback with a "contents" key smuggled in, or plain padding: the small cap
    for body in ({**NAV, "contents": big}, {**NAV, "pad": big}):
        r = post(c, body)
        assert r.status_code == 413 and "4096" in r.json["error"], r.get_data()[:200]


def test_declared_length_over_cap_is_413_before_reading(client, dash_app):
    cap = dash_app.server.config["MAX_CONTENT_LENGTH"]

    class Exploding(io.RawIOBase):
        def readable(self):
            return True

        def readinto(self, b):
            raise AssertionError("the body was read")

    small = Settings().max_body  # only the callback route may carry an upload's body
    for path, method, length in ((ROUTE, "POST", cap + 1), ("/", "GET", small + 1),
                                 ("/health", "GET", small + 1), ("/nope", "PUT", small + 1)):
        r = client.open(path, method=method, content_type="application/json",
                        environ_overrides={"wsgi.input": Exploding(), "CONTENT_LENGTH": str(length)})
        assert r.status_code == 413, (path, r.status_code)


def test_chunked_body_over_cap_is_413(client, dash_app):
    cap = Settings().max_body  # NAV's callback takes no upload: the small cap
    ok = json.dumps(NAV).encode()
    for body, want in ((ok, 200), (ok + b" " * (cap - len(ok)), 200), (ok + b" " * cap, 413),
                       (b"[" * (cap * 4), 413)):
        r = client.post(ROUTE, input_stream=io.BytesIO(body),
                        headers={"Transfer-Encoding": "chunked", "Content-Type": "application/json"},
                        environ_overrides={"wsgi.input_terminated": True})
        assert r.status_code == want, (len(body), r.status_code, r.get_data()[:100])


# ---- callback gate ----------------------------------------------------------------------

MALFORMED = [
    (b"{", 400), (b"[]", 400), (b'"x"', 400), (b"1", 400), (b"null", 400), (b"{}", 400),
    (b"", 400), (b"[" * 10_000 + b"]" * 10_000, 400), (b"\xff\xfe\x00{", 400),
    (b"\xef\xbb\xbf" + json.dumps(NAV).encode(), 400),
    (json.dumps({**NAV, "output": "no-such.children"}), 404),
    (json.dumps({**NAV, "output": "navbar-collapse.is_open"}), 404),  # clientside only
    (json.dumps({**NAV, "output": 5}), 400),
    (json.dumps({k: v for k, v in NAV.items() if k != "inputs"}), 400),
    (json.dumps({**NAV, "inputs": {"id": "url"}}), 400),
    (json.dumps({**NAV, "inputs": "url"}), 400),
    (json.dumps({**NAV, "inputs": []}), 400),
    (json.dumps({**NAV, "inputs": [{"property": "pathname", "value": "/"}]}), 400),
    (json.dumps({**NAV, "inputs": [{"id": "url", "value": "/"}]}), 400),
    (json.dumps({**NAV, "inputs": [{"id": "nope", "property": "pathname"}]}), 400),
    (json.dumps({**NAV, "inputs": [{"id": "url", "property": "href"}]}), 400),
    (json.dumps({**NAV, "inputs": [{"id": ["url"], "property": "pathname"}]}), 400),
    (json.dumps({**NAV, "inputs": [{"id": {"type": "url"}, "property": "pathname"}]}), 400),
    (json.dumps({**NAV, "inputs": [[{"id": "url", "property": "pathname"}]]}), 400),
    (json.dumps({**NAV, "inputs": NAV["inputs"] * 2}), 400),
    (json.dumps({**NAV, "outputs": "page-content"}), 400),
    (json.dumps({**NAV, "outputs": {"id": "url", "property": "children"}}), 400),
    (json.dumps({k: v for k, v in NAV.items() if k != "outputs"}), 400),
    (json.dumps({**NAV, "state": [{"id": "url", "property": "pathname"}]}), 400),
    (json.dumps({**NAV, "changedPropIds": "url.pathname"}), 400),
    (json.dumps({**NAV, "changedPropIds": [["url.pathname"]]}), 400),
    (json.dumps({**NAV, "x": json.loads("[" * 100 + "]" * 100)}), 400),
    (json.dumps(NAV)[:-1] + ', "n": ' + "9" * 5000 + "}", 400),
    (json.dumps(NAV) + "junk", 400),
]


@pytest.mark.parametrize("data,status", MALFORMED, ids=range(len(MALFORMED)))
def test_malformed_callback_bodies_get_short_4xx(client, data, status):
    r = post(client, data)
    assert r.status_code == status, r.get_data()[:200]
    assert r.is_json and set(r.json) == {"error"} and len(r.get_data()) < 200


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x", "text/json"])
def test_wrong_content_type_is_415(client, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    r = client.post(ROUTE, data=json.dumps(NAV), headers=headers)
    assert r.status_code == 415 and r.json == {"error": "Content-Type must be application/json"}


def test_values_reach_the_callback(client):
    """The gate judges shape, not values: NaN, 1e308, a dict as a path go to the callback."""
    for value in (float("nan"), 1e308, -1e308, "x" * 1000, {"a": [1]}, None, [], "/mnist"):
        body = json.dumps({**NAV, "inputs": [{"id": "url", "property": "pathname", "value": value}]})
        r = post(client, body)
        assert r.status_code == 200, (value, r.status_code)
        assert r.json["response"]["page-content"]["children"]


def test_every_callback_accepts_what_the_browser_sends(dash_app, client):
    keys = server_callbacks(dash_app)
    assert len(keys) >= 2
    for key in keys:
        r = post(client, build_body(dash_app, key))
        assert r.status_code in (200, 204), (key, r.status_code, r.get_data()[:200])


def _pattern_app():
    app = Dash(__name__)
    app.layout = html.Div([html.Button(id={"type": "b", "index": i}) for i in range(3)]
                          + [html.Div(id={"type": "o", "index": i}) for i in range(3)]
                          + [html.Div(id="total"), html.Div(id="store")])
    app.callback(Output("total", "children"), Input({"type": "b", "index": ALL}, "n_clicks"),
                 State("store", "children"))(lambda clicks, s: f"{sum(c or 0 for c in clicks)}")
    app.callback(Output({"type": "o", "index": MATCH}, "children"),
                 Input({"type": "b", "index": MATCH}, "n_clicks"))(lambda n: f"n={n}")
    security.install(app, Settings(max_body=2 ** 20))
    return app


def test_pattern_matching_ids_are_checked():
    app = _pattern_app()
    c = app.server.test_client()
    buttons = [{"id": {"type": "b", "index": i}, "property": "n_clicks", "value": i} for i in range(3)]
    all_body = {"output": "total.children", "outputs": {"id": "total", "property": "children"},
                "inputs": [buttons], "state": [{"id": "store", "property": "children"}],
                "changedPropIds": ['{"index":1,"type":"b"}.n_clicks']}
    r = post(c, all_body)
    assert r.status_code == 200 and r.json["response"]["total"]["children"] == "3"
    match_key = next(k for k in app.callback_map if k.startswith("{"))
    match_body = {"output": match_key, "outputs": {"id": {"type": "o", "index": 2}, "property": "children"},
                  "inputs": [buttons[2]], "changedPropIds": ['{"index":2,"type":"b"}.n_clicks']}
    assert post(c, match_body).status_code == 200
    bad = [
        {**all_body, "inputs": [buttons[0]]},  # ALL needs a list
        {**all_body, "inputs": [[{**buttons[0], "id": {"type": "x", "index": 0}}]]},
        {**all_body, "inputs": [[{**buttons[0], "id": {"type": "b", "index": [1]}}]]},
        {**all_body, "inputs": [[{**buttons[0], "id": {"type": "b", "index": 0, "x": 1}}]]},
        {**all_body, "inputs": [buttons * 334]},  # more than MAX_MULTI
        {**all_body, "state": None},
        {**match_body, "inputs": [[buttons[2]]]},
        {**match_body, "outputs": {"id": {"type": "b", "index": 2}, "property": "children"}},
        {**match_body, "outputs": {"id": "total", "property": "children"}},
    ]
    for body in bad:
        assert post(c, body).status_code == 400, body


def test_check_callback_body_accepts_allow_duplicate_suffixes(dash_app):
    key = next((k for k in dash_app.callback_map if "@" in k and callable(
        dash_app.callback_map[k].get("callback"))), None)
    assert key is not None, "no allow_duplicate callback in the app"
    body = build_body(dash_app, key)
    assert security.check_callback_body(body, dash_app.callback_map) is dash_app.callback_map[key]


def test_leftover_exception_in_the_callback_route_is_400_and_logged(dash_app, client, caplog):
    @dash_app.callback(Output(ids.PAGE, "className"), Input(ids.URL, "search"))
    def broken(_):
        return object()  # not JSON: fails after the callback, outside on_error

    body = {"output": f"{ids.PAGE}.className", "outputs": {"id": ids.PAGE, "property": "className"},
            "inputs": [{"id": ids.URL, "property": "search", "value": "?x"}],
            "changedPropIds": [f"{ids.URL}.search"]}
    with caplog.at_level(logging.ERROR, logger="app.security"):
        r = post(client, body)
    assert r.status_code == 400 and r.json == {"error": "the request could not be processed"}
    assert any("callback request failed" in rec.getMessage() for rec in caplog.records)
    assert post(client, NAV).status_code == 200


# ---- headers ----------------------------------------------------------------------------

def test_security_headers_on_every_response(client):
    responses = [client.get("/"), client.get("/mnist"), client.get("/health"), client.get("/_dash-layout"),
                 client.get("/_fooling/bootstrap.min.css"), client.get("/assets/style.css"),
                 client.get("/assets/nope.css"), post(client, NAV), post(client, b"{"),
                 post(client, b"x", content_type="text/plain"), client.put("/health")]
    assert [r.status_code for r in responses] == [200, 200, 200, 200, 200, 200, 404, 200, 400, 415, 405]
    for r in responses:
        h = r.headers
        assert h["X-Content-Type-Options"] == "nosniff"
        assert h["X-Frame-Options"] == "DENY"
        assert h["Referrer-Policy"] == "no-referrer"
        assert h["Cross-Origin-Opener-Policy"] == "same-origin"
        assert "frame-ancestors 'none'" in h["Content-Security-Policy"]


def test_csp_carries_dash_hashes_quoted_once(dash_app, client):
    policy = client.get("/").headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    script = directives["script-src"].split()
    hashes = dash_app.csp_hashes()
    assert len(hashes) >= 2  # the renderer start-up and the navbar's clientside callback
    for h in hashes:
        assert h.startswith("'sha256-") and h.endswith("'")
        assert script.count(h) == 1
    assert "''" not in policy and "'unsafe-inline'" not in directives["script-src"]
    assert "'unsafe-inline'" in directives["style-src"]
    assert directives["object-src"] == "'none'" and directives["base-uri"] == "'self'"
    assert set(directives["img-src"].split()) >= {"'self'", "data:", "blob:"}
    assert "*" not in policy and "http" not in policy


# ---- paths and debug --------------------------------------------------------------------

TRAVERSAL = ["/assets/../pyproject.toml", "/assets/%2e%2e/pyproject.toml", "/assets/%2E%2E%2Fpyproject.toml",
             "/assets/..%2fpyproject.toml", "/assets/..%5cpyproject.toml", "/assets/....//pyproject.toml",
             "/_dash-component-suites/../../etc/passwd", "/_dash-component-suites/dash/../../../etc/passwd",
             "/_dash-component-suites/dash/..%2f..%2f..%2fetc%2fpasswd",
             "/_dash-component-suites/dash/%2e%2e/%2e%2e/app/settings.py",
             "/_dash-component-suites/app/settings.py", "/_dash-component-suites/fooling/store.py",
             "/assets/%00../pyproject.toml", "/static/../pyproject.toml", "/..%2f..%2fetc/passwd",
             "/_fooling/../pyproject.toml"]


@pytest.mark.parametrize("path", TRAVERSAL)
def test_no_file_outside_assets_is_served(client, path):
    r = client.get(path)
    body = r.get_data()
    assert b"[project]" not in body and b"root:" not in body and b"def " not in body
    assert r.status_code in (400, 404) or (r.status_code == 200 and body.startswith(b"<!DOCTYPE html>"))


def test_dotdot_paths_are_404(client):
    for path in TRAVERSAL[:5] + TRAVERSAL[6:10]:
        assert client.get(path).status_code in (400, 404), path


def test_assets_are_served(client):
    r = client.get("/assets/style.css")
    assert r.status_code == 200 and r.get_data() == (REPO / "assets" / "style.css").read_bytes()


def test_debug_and_dev_tools_off(dash_app, client):
    assert dash_app.server.debug is False and dash_app.server.config["DEBUG"] is False
    assert not dash_app._dev_tools.get("ui") and not dash_app._dev_tools.get("hot_reload")
    assert client.get("/_reload-hash").status_code == 404
    config = client.get("/").get_data(as_text=True)
    assert '"ui":false' in config and '"props_check":false' in config
    r = post(client, b"[" * 5000)
    assert b"Traceback" not in r.get_data() and b"File \"" not in r.get_data()


def test_concurrent_first_requests_all_get_the_scripts():
    """Dash's one-time setup flags itself done before registering its script routes: a
    fresh worker's concurrent first requests got 404/500 for the bundles without the lock."""
    path = "/_dash-component-suites/dash/dash-renderer/build/dash_renderer.min.js"
    statuses = Counter()
    for _ in range(10):
        app = _pattern_app()
        barrier = threading.Barrier(8)

        def get(client=app.server.test_client, barrier=barrier):
            c = client()
            barrier.wait()
            statuses[c.get(path).status_code] += 1

        threads = [threading.Thread(target=get) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
    assert statuses == Counter({200: 80}), statuses
