"""The app shell and routing: every callback's ids exist, every page routes, unknown paths don't."""

from __future__ import annotations

import json

import pytest
from dash import html

from app.components import PAGES


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


def test_every_callback_id_exists_in_the_shell_or_a_page(dash_app, resources):
    from app import _pages

    present = layout_ids(dash_app.layout)
    for page in _pages().values():
        present |= layout_ids(page.layout(resources))
    missing = callback_ids(dash_app) - present
    assert not missing, f"callbacks refer to ids no layout has: {sorted(missing)}"


def test_layout_ids_finds_nested_ids():
    tree = html.Div([html.Span(id="a"), html.Div(html.P(id={"type": "b", "index": 1}))], id="root")
    assert layout_ids(tree) == {"root", "a", "b"}


@pytest.mark.parametrize("path", [p for p, _, _ in PAGES])
def test_every_page_routes(dash_app, path):
    from app import _pages

    assert path in _pages()
    r = dash_app.server.test_client().get(path)
    assert r.status_code == 200


def test_page_html_is_small(dash_app):
    """The HTML shell carries no figures (pages arrive through a callback)."""
    r = dash_app.server.test_client().get("/mnist")
    assert r.status_code == 200 and len(r.data) < 100_000
    layout = dash_app.server.test_client().get("/_dash-layout")
    assert len(layout.data) < 100_000
