"""The app shell and routing: every callback's ids exist, every page routes, unknown paths get a
404 page; responses are compressed and fingerprinted bundles cached; ids are defined once."""

from __future__ import annotations

import ast
import gzip
import json
import re
from pathlib import Path

import brotli
import pytest
from dash import html

from app import ids
from app.pages import PAGES, load_pages

APP = Path(__file__).resolve().parents[2] / "app"


def layout_ids(component) -> set[str]:
    """Every string id and every dict id's 'type' found in a component tree."""
    found = set()
    stack = [component]
    while stack:
        c = stack.pop()
        if isinstance(c, (list, tuple)):
            stack.extend(c)
            continue
        if not hasattr(c, "to_plotly_json"):
            continue
        cid = getattr(c, "id", None)
        if isinstance(cid, str):
            found.add(cid)
        elif isinstance(cid, dict) and "type" in cid:
            found.add(cid["type"])
        for prop in getattr(c, "_prop_names", []):
            value = getattr(c, prop, None)
            if prop != "id" and hasattr(value, "to_plotly_json") or isinstance(value, (list, tuple)):
                stack.append(value)
    return found


def callback_ids(app) -> set[str]:
    ids = set()
    for key, cb in app.callback_map.items():
        for dep in cb["inputs"] + cb.get("state", []):
            ids.add(dep["id"] if not dep["id"].startswith("{") else json.loads(dep["id"])["type"])
        outs = key.strip(".").split("...") if key.startswith("..") else [key]
        for out in outs:
            oid = out.rsplit(".", 1)[0]
            if oid.startswith("{"):
                oid = json.loads(oid.split("@")[0])["type"]
            ids.add(oid.split("@")[0])
    return ids


def test_every_callback_id_exists_in_the_shell_or_a_page(dash_app):
    present = layout_ids(dash_app.layout)
    for path, page in load_pages().items():
        present |= layout_ids(page.layout(dash_app.states_[path]))
    missing = callback_ids(dash_app) - present
    assert not missing, f"callbacks refer to ids no layout has: {sorted(missing)}"


def test_layout_ids_finds_nested_ids():
    tree = html.Div([html.Span(id="a"), html.Div(html.P(id={"type": "b", "index": 1}))], id="root")
    assert layout_ids(tree) == {"root", "a", "b"}


@pytest.mark.parametrize("path", [p.path for p in PAGES])
def test_every_page_routes(dash_app, path):
    assert path in load_pages()
    r = dash_app.server.test_client().get(path)
    assert r.status_code == 200


def _page_body(path: str) -> dict:
    return {"output": f"{ids.PAGE}.children", "outputs": {"id": ids.PAGE, "property": "children"},
            "inputs": [{"id": ids.URL, "property": "pathname", "value": path}],
            "changedPropIds": [f"{ids.URL}.pathname"]}


@pytest.mark.parametrize("path", ["/no-such-page", "/mnist/", "/MNIST", "/iris/x", "/assetsx", "/health/x"])
def test_unknown_paths_answer_404_with_the_shell_and_a_not_found_page(dash_app, path):
    client = dash_app.server.test_client()
    r = client.get(path)
    assert r.status_code == 404
    assert r.mimetype == "text/html" and b"_dash-renderer" in r.data  # the app shell: navbar and all
    page = client.post("/_dash-update-component", json=_page_body(path))
    assert page.status_code == 200
    text = json.dumps(json.loads(page.get_data(as_text=True)))  # undo Dash's \u002f escapes
    assert "Page not found" in text and all(f'"href": "{p.path}"' in text for p in PAGES)


def test_hostile_paths_are_404_too(dash_app):
    client = dash_app.server.test_client()
    for path in ("/%00", "/a/../mnist", "/_dash-component-suites/dash/../../etc/passwd", "/assets/nope.js",
                 "/_fooling/nope.js", "/_fooling/plotly-cartesian-0.0.0.min.js"):
        assert client.get(path).status_code == 404, path


def test_known_pages_and_routes_are_not_404(dash_app):
    client = dash_app.server.test_client()
    for path in [p.path for p in PAGES] + ["/health", "/_dash-layout", "/_dash-dependencies"]:
        assert client.get(path).status_code == 200, path


def test_page_html_is_small(dash_app):
    """The HTML shell carries no figures (pages arrive through a callback)."""
    r = dash_app.server.test_client().get("/mnist")
    assert r.status_code == 200 and len(r.data) < 100_000
    layout = dash_app.server.test_client().get("/_dash-layout")
    assert len(layout.data) < 100_000


def _scripts(client) -> list[str]:
    return re.findall(r'src="(/_dash-component-suites/[^"]+)"', client.get("/").get_data(as_text=True))


def test_bundles_are_compressed_and_fingerprinted_ones_cached_for_a_year(dash_app):
    client = dash_app.server.test_client()
    scripts = _scripts(client)
    assert len(scripts) > 5
    for url in scripts:
        plain = client.get(url, headers={"Accept-Encoding": "identity"})
        br = client.get(url, headers={"Accept-Encoding": "gzip, deflate, br, zstd"})
        gz = client.get(url, headers={"Accept-Encoding": "gzip"})
        assert plain.status_code == br.status_code == gz.status_code == 200, url
        assert "Content-Encoding" not in plain.headers
        if len(plain.data) >= 1024:
            assert br.headers["Content-Encoding"] == "br" and gz.headers["Content-Encoding"] == "gzip"
            assert brotli.decompress(br.data) == plain.data and gzip.decompress(gz.data) == plain.data
            assert len(br.data) < 0.6 * len(plain.data)
            assert "Accept-Encoding" in br.headers["Vary"]
        if re.search(r"\.v[\w-]+m\d+\.", url):
            cc = br.headers["Cache-Control"]
            assert "max-age=31536000" in cc and "immutable" in cc, (url, cc)


def test_plotly_bundle_gets_the_best_compression_once_it_is_ready(dash_app):
    client = dash_app.server.test_client()
    url = next(u for u in _scripts(client) + ["/_dash-component-suites/plotly/package_data/plotly.min.js"]
               if "plotly" in u and u.endswith((".js", ".min.js")))
    plain = client.get(url, headers={"Accept-Encoding": "identity"}).data
    assert len(plain) > 3_000_000
    first = client.get(url, headers={"Accept-Encoding": "br"}).data  # a quick copy, the best one follows
    assert brotli.decompress(first) == plain
    assert dash_app.compressor_.finish(timeout=300)
    best = client.get(url, headers={"Accept-Encoding": "br"}).data
    assert brotli.decompress(best) == plain and len(best) <= len(first) and len(best) < 1_250_000


def test_dynamic_responses_are_compressed(dash_app):
    client = dash_app.server.test_client()
    r = client.post("/_dash-update-component", json=_page_body("/mnist"), headers={"Accept-Encoding": "br"})
    assert r.status_code == 200 and r.headers["Content-Encoding"] == "br"
    assert b"mnist-map" in brotli.decompress(r.data)


def test_every_element_id_is_defined_once_in_app_ids():
    """One rule: page code names element ids through app.ids, never as string literals."""
    defined = {v for k, v in vars(ids).items() if k.isupper() and isinstance(v, str)}
    assert len(defined) == len([k for k in vars(ids) if k.isupper() and isinstance(vars(ids)[k], str)])
    offenders = []
    for path in APP.rglob("*.py"):
        if path.name == "ids.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.keyword) and node.arg == "id" and isinstance(node.value, ast.Constant):
                offenders.append(f"{path.relative_to(APP)}:{node.lineno} id={node.value.value!r}")
    assert offenders == []


@pytest.mark.parametrize("p, shown", [(0.5, "50.00%"), (0.99994, "99.99%"), (0.99995, ">99.99%"),
                                      (1 - 1e-12, ">99.99%"), (1.0, "100.00%"), (0.0, "0.00%"),
                                      (0.123456, "12.35%")])
def test_percent_never_rounds_up_to_certainty(p, shown):
    from app.components import percent

    assert percent(p) == shown
