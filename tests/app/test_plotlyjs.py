"""app.plotlyjs: the cartesian partial bundle, fetched from a (local, fake) npm registry,
verified, cached, served before Dash's scripts; every fallback to the full bundle."""

from __future__ import annotations

import base64
import hashlib
import http.server
import io
import json
import logging
import re
import socket
import tarfile
import threading
from pathlib import Path

import plotly.graph_objects as go
import pytest
from plotly.basedatatypes import BaseTraceType

from app import create_app, plotlyjs

REPO = Path(__file__).resolve().parents[2]
VERSION = "9.8.7"  # not pinned: its digest comes from the registry's metadata


def fake_js(version: str = VERSION) -> bytes:
    return (f"/**\n* plotly.js (cartesian - minified) v{version}\n*/\nwindow.Plotly={{version:'{version}'}};\n"
            + "/*" + "x" * 4000 + "*/").encode()


def tarball(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def integrity(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


class Registry:
    """A local HTTP server answering like the npm registry for one package version."""

    def __init__(self, tgz: bytes, digest: str | None = None):
        self.tgz, self.digest, self.hits = tgz, digest or integrity(tgz), []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 -- the http.server API
                outer.hits.append(self.path)
                if self.path == f"/{plotlyjs.BUNDLE}/{VERSION}":
                    body = json.dumps({"dist": {"integrity": outer.digest}}).encode()
                elif self.path == f"/{plotlyjs.BUNDLE}/-/{plotlyjs.BUNDLE}-{VERSION}.tgz":
                    body = outer.tgz
                else:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def registry():
    made = []

    def make(tgz=None, digest=None):
        r = Registry(tarball({f"package/{plotlyjs.FILE}": fake_js()}) if tgz is None else tgz, digest)
        made.append(r)
        return r

    yield make
    for r in made:
        r.close()


def test_fetch_verifies_and_caches_then_loads_without_the_network(tmp_path, registry):
    reg = registry()
    b = plotlyjs.fetch(tmp_path, VERSION, registry=reg.url)
    assert b.data == fake_js() and b.version == VERSION and b.route.endswith(f"-{VERSION}.min.js")
    assert len(reg.hits) == 2  # the metadata (its digest), then the tarball
    reg.close()
    again = plotlyjs.fetch(tmp_path, VERSION, registry=reg.url)  # the registry is gone: the cache answers
    assert again == b and plotlyjs.load(tmp_path, VERSION) == b


def test_a_pinned_version_is_checked_against_the_pinned_digest(tmp_path, registry, monkeypatch):
    tgz = tarball({f"package/{plotlyjs.FILE}": fake_js()})
    monkeypatch.setitem(plotlyjs.PINNED, VERSION, integrity(b"something else"))
    reg = registry(tgz)  # the registry's own metadata would agree with the tarball
    with pytest.raises(plotlyjs.BundleError, match="does not match its published SHA-512"):
        plotlyjs.fetch(tmp_path, VERSION, registry=reg.url)
    assert all("tgz" in h for h in reg.hits)  # a pinned digest: no metadata asked for
    assert plotlyjs.load(tmp_path, VERSION) is None and not list(tmp_path.rglob("*.js"))


@pytest.mark.parametrize("case", ["tampered", "not a tarball", "no bundle inside", "not plotly", "wrong version"])
def test_bad_packages_are_refused_and_nothing_is_cached(tmp_path, registry, case):
    good = tarball({f"package/{plotlyjs.FILE}": fake_js()})
    tgz, digest = {
        "tampered": (good, integrity(good + b"!")),
        "not a tarball": (b"<html>hello</html>", None),
        "no bundle inside": (tarball({"package/README.md": b"hi"}), None),
        "not plotly": (tarball({f"package/{plotlyjs.FILE}": b"alert('hi')" * 50}), None),
        "wrong version": (tarball({f"package/{plotlyjs.FILE}": fake_js("1.0.0")}), None),
    }[case]
    reg = registry(tgz, digest)
    with pytest.raises(plotlyjs.BundleError) as err:
        plotlyjs.fetch(tmp_path, VERSION, registry=reg.url)
    assert str(err.value) and "Traceback" not in str(err.value)
    assert plotlyjs.load(tmp_path, VERSION) is None


def test_an_unreachable_registry_is_a_clear_message_and_ensure_falls_back(tmp_path, caplog, monkeypatch):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    with pytest.raises(plotlyjs.BundleError, match=f"could not fetch {plotlyjs.BUNDLE}@{VERSION} from {url}"):
        plotlyjs.fetch(tmp_path, VERSION, registry=url, timeout=5)
    monkeypatch.setenv("NPM_CONFIG_REGISTRY", url)
    monkeypatch.setattr(plotlyjs, "plotlyjs_version", lambda: VERSION)
    with caplog.at_level(logging.WARNING, logger="app.plotlyjs"):
        assert plotlyjs.ensure(tmp_path, timeout=5) is None
    assert "full plotly.js" in caplog.text


@pytest.mark.parametrize("damage", ["truncated", "digest lost", "other bytes"])
def test_a_corrupt_cached_bundle_is_removed_with_a_warning(tmp_path, registry, caplog, damage):
    reg = registry()
    plotlyjs.fetch(tmp_path, VERSION, registry=reg.url)
    (js,) = tmp_path.rglob("*.min.js")
    (digest,) = tmp_path.rglob("*.sha256")
    if damage == "truncated":
        js.write_bytes(js.read_bytes()[:100])
    elif damage == "digest lost":
        digest.unlink()
    else:
        js.write_bytes(fake_js().replace(b"window", b"WINDOW"))
    with caplog.at_level(logging.WARNING, logger="app.plotlyjs"):
        assert plotlyjs.load(tmp_path, VERSION) is None
    assert "corrupt" in caplog.text and not js.exists()
    assert plotlyjs.fetch(tmp_path, VERSION, registry=reg.url).data == fake_js()  # fetched again


def test_turned_off_by_the_environment(tmp_path, registry, monkeypatch):
    reg = registry()
    plotlyjs.fetch(tmp_path, VERSION, registry=reg.url)
    monkeypatch.setenv("FOOLING_PLOTLY_BUNDLE", "full")
    assert plotlyjs.load(tmp_path, VERSION) is None and plotlyjs.ensure(tmp_path) is None


# ---- the app ------------------------------------------------------------------------------


def _scripts(html: str) -> list[str]:
    return re.findall(r'<script[^>]*src="([^"]+)"', html)


def test_the_app_serves_the_bundle_before_dashs_scripts(resources, registry, monkeypatch, tmp_path):
    reg = registry()
    monkeypatch.setattr(plotlyjs, "plotlyjs_version", lambda: VERSION)
    plotlyjs.fetch(resources.analysis.cache_dir, VERSION, registry=reg.url)
    try:
        app = create_app(resources)
        client = app.server.test_client()
        scripts = _scripts(client.get("/mnist").get_data(as_text=True))
        route = plotlyjs.route(VERSION)
        # after Dash's polyfills and React, before the components and the renderer
        assert route in scripts and not any("plotly.min.js" in s for s in scripts)
        later = [i for i, s in enumerate(scripts) if "/dcc/" in s or "dash-renderer" in s or "bootstrap" in s]
        assert later and scripts.index(route) < min(later), scripts
        r = client.get(route, headers={"Accept-Encoding": "br"})
        assert r.status_code == 200 and r.headers["Content-Encoding"] == "br"
        assert "immutable" in r.headers["Cache-Control"] and r.mimetype == "text/javascript"
        plain = client.get(route, headers={"Accept-Encoding": "identity"})
        assert plain.get_data() == fake_js()
    finally:
        for p in Path(resources.analysis.cache_dir).rglob(f"plotly-cartesian-{VERSION}.*"):
            p.unlink()
    # without a bundle: Dash's own (loaded by dcc.Graph on demand), and no route
    app = create_app(resources)
    client = app.server.test_client()
    assert plotlyjs.route(VERSION) not in client.get("/mnist").get_data(as_text=True)
    assert client.get(plotlyjs.route(VERSION)).status_code == 404


def _trace_types_in_source() -> set[str]:
    names = {c.lower() for c in dir(go) if isinstance(getattr(go, c), type)
             and issubclass(getattr(go, c), BaseTraceType)}
    found = set()
    for path in (REPO / "app").rglob("*.py"):
        text = path.read_text()
        found |= {m for m in re.findall(r'type\s*=\s*"(\w+)"|"type"\s*:\s*"(\w+)"', text) for m in m if m}
        found |= {m.lower() for m in re.findall(r"go\.(\w+)\(", text)}
    return found & names


def test_every_trace_the_pages_draw_is_in_the_bundle(page_states):
    used = _trace_types_in_source()
    assert {"scatter", "heatmap"} <= used  # the scan sees the pages' traces
    assert used <= plotlyjs.TRACES, used - plotlyjs.TRACES
    # and the figures the pages actually build
    built = set()

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("data"), list) and isinstance(node.get("layout"), dict):
                built.update(t.get("type", "scatter") for t in node["data"] if isinstance(t, dict))
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    from app.pages import load_pages

    for path, page in load_pages().items():
        walk(json.loads(json.dumps(page.layout(page_states[path]).to_plotly_json(),
                                   default=lambda o: o.to_plotly_json() if hasattr(o, "to_plotly_json") else None,
                                   allow_nan=True)))
    assert "heatmap" in built and built <= plotlyjs.TRACES, built - plotlyjs.TRACES
