"""Helpers for the /lab tests and benchmarks: a real Redis, real Celery workers, and a client that
drives the page's callbacks the way Dash's renderer does.

* :func:`redis_server` starts Debian's ``redis-server`` on a free loopback port with no
  persistence (``--save '' --appendonly no``) and stops it afterwards.
* :func:`celery_worker` starts ``celery --app app.jobs:celery_app worker`` as a subprocess in
  its own process group (so a test can kill it, children included) with its own cache folder:
  the web side shares no disk with it.
* :class:`LabClient` posts to ``/_dash-update-component`` what the browser would: the spec
  callback, the background job's start request and its polls (``endId``/``cacheKey``/``job``
  query parameters, inputs blanked as the renderer blanks them), the results, clicks, cancel.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable

from app import ids
from app.markup import text as markup_text
from app.registry import new_session
from tests.app.test_fuzz import ROUTE, build_body, components

REPO = Path(__file__).resolve().parents[1]
CELERY = str(Path(sys.executable).with_name("celery"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def redis_server(timeout: float = 15):
    """A fresh ``redis-server`` on 127.0.0.1; yields its URL."""
    exe = shutil.which("redis-server") or "/usr/bin/redis-server"
    port = free_port()
    proc = subprocess.Popen([exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--protected-mode", "yes", "--loglevel", "warning"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        end = time.time() + timeout
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.time() > end:
                raise RuntimeError(f"redis-server did not start (exit {proc.poll()})")
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        _stop(proc)


def _stop(proc: subprocess.Popen, sig=signal.SIGTERM, wait: float = 10) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        try:
            proc.wait(wait)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


class Worker:
    """A running Celery worker: its process (a group leader), log file and cache folder."""

    def __init__(self, proc: subprocess.Popen, log: Path, cache: Path):
        self.proc, self.log, self.cache = proc, log, cache

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL the whole worker (its pool processes too), as an OOM killer or a crash would."""
        _stop(self.proc, signal.SIGKILL)


@contextmanager
def celery_worker(redis_url: str, *, concurrency: int = 1, name: str = "w1", env: dict | None = None,
                  timeout: float = 90):
    """``celery --app app.jobs:celery_app worker`` with its own cache folder; yields a :class:`Worker`."""
    cache = Path(tempfile.mkdtemp(prefix=f"fooling-worker-{name}-"))
    log = cache / "worker.log"
    full = {**os.environ, "REDIS_URL": redis_url, "FOOLING_CACHE_DIR": str(cache), "OMP_NUM_THREADS": "1",
            "PYTHONPATH": str(REPO), **(env or {})}
    cmd = [CELERY, "--app", "app.jobs:celery_app", "worker", "--concurrency", str(concurrency), "--pool", "prefork",
           "--loglevel", "INFO", "-n", f"{name}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat"]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=REPO, env=full, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    worker = Worker(proc, log, cache)
    try:
        end = time.time() + timeout
        while "ready." not in worker.text():
            if proc.poll() is not None or time.time() > end:
                raise RuntimeError(f"the Celery worker did not start:\n{worker.text()[-3000:]}")
            time.sleep(0.1)
        yield worker
    finally:
        _stop(proc)
        shutil.rmtree(cache, ignore_errors=True)


def local_transport(dash_app) -> tuple[Callable, Callable]:
    """``(post, get)`` over ``dash_app.server.test_client()``: ``post(url, body) -> (status, json or None)``."""
    client = dash_app.server.test_client()

    def post(url: str, body: dict):
        r = client.post(url, json=body)
        return r.status_code, (r.get_json(silent=True) if r.data else None)

    def get(url: str):
        r = client.get(url)
        return r.status_code, r.get_data(as_text=True)

    return post, get


def http_transport(port: int, timeout: float = 30) -> tuple[Callable, Callable]:
    """``(post, get)`` against a live server on 127.0.0.1:``port``."""
    import http.client

    def request(method, url, body=None):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        try:
            data = json.dumps(body).encode() if body is not None else None
            conn.request(method, url, body=data, headers={"Content-Type": "application/json"} if data else {})
            r = conn.getresponse()
            return r.status, r.read()
        finally:
            conn.close()

    def post(url, body):
        status, raw = request("POST", url, body)
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            return status, {"raw": raw.decode(errors="replace")}

    def get(url):
        status, raw = request("GET", url)
        return status, raw.decode(errors="replace")

    return post, get


class LabClient:
    """One browser tab on /lab, speaking Dash's callback protocol.

    Parameters
    ----------
    dash_app : dash.Dash
        An app of this code (for its callback map and layouts; the server may be elsewhere).
    post, get : callable
        A transport (:func:`local_transport` or :func:`http_transport`).
    """

    def __init__(self, dash_app, post, get, session: str | None = None):
        self.app, self.post, self.get = dash_app, post, get
        self.comps = components(dash_app)
        cmap = dash_app.callback_map

        def key(pred):
            return next(k for k, v in cmap.items() if callable(v.get("callback")) and pred(k, v))

        def takes(v, cid, prop):
            return any(d["id"] == cid and d["property"] == prop for d in v["inputs"])

        self.k_spec = key(lambda k, v: k.startswith("..") and ids.LAB_MESSAGE + ".children" in k)
        self.k_job = key(lambda k, v: bool(v.get("background")) and ids.LAB_OUTCOME in k)
        self.k_show = key(lambda k, v: ids.LAB_RATES in k)
        self.k_click = key(lambda k, v: takes(v, ids.LAB_MAP, "clickData") and ids.LAB_INSPECT in k)
        self.k_cancel = key(lambda k, v: takes(v, ids.LAB_CANCEL, "n_clicks") and ids.LAB_PROGRESS in k)
        self.k_ended = key(lambda k, v: takes(v, ids.LAB_RUNNING, "data"))
        status, page = get("/lab")
        assert status == 200, status
        config = json.loads(re.search(r'<script id="_dash-config" type="application/json">(.*?)</script>',
                                      page, re.S).group(1))
        self.end_id = config["end_id"]
        self.session = session or new_session()

    def call(self, key: str, values: dict, changed: list[str], args: str = "") -> tuple[int, Any]:
        body = build_body(self.app, key, values, changed, self.comps)
        return self.post(f"{ROUTE}?endId={self.end_id}{args}", body)

    @staticmethod
    def response(status: int, data: Any) -> dict:
        """``{id: {prop: value}}`` of a 200 answer (``{}`` for 204)."""
        if status == 204:
            return {}
        assert status == 200, (status, data)
        return data.get("response", {})

    def open(self, params: dict | None) -> dict:
        """The page opened with the query ``params`` (``{key: [values]}``, as the shell parses it)."""
        prop = f"{ids.QUERY}.data"
        return self.response(*self.call(self.k_spec, {prop: params, f"{ids.LAB_SESSION}.data": self.session},
                                        [prop]))

    def train(self, **form) -> dict:
        """Train pressed with the form's fields changed by ``form`` (LabSpec field names)."""
        from app.pages.lab.callbacks import FIELDS
        from app.pages.lab.layout import FORM, form_values
        from fooling.lab import DEFAULT

        values = dict(zip(FIELDS, form_values(DEFAULT)))
        values.update(form)
        prop = f"{ids.LAB_TRAIN}.n_clicks"
        body = {f"{fid}.value": values[f] for fid, f in zip(FORM, FIELDS)}
        body.update({prop: 1, f"{ids.LAB_SESSION}.data": self.session})
        return self.response(*self.call(self.k_spec, body, [prop]))

    def start(self, ticket: Any) -> tuple[int, Any]:
        """The background job's start request (``(204, None)`` when the gate refuses it)."""
        prop = f"{ids.LAB_TICKET}.data"
        return self.call(self.k_job, {prop: ticket}, [prop])

    def run(self, ticket: Any, *, timeout: float = 180, interval: float = 0.2,
            on_poll: Callable[[list], None] | None = None) -> tuple[dict | None, list[list], int]:
        """Start the job and poll it until it answers: ``(outcome or None, progress seen, last status)``."""
        status, handles = self.start(ticket)
        if status != 200:
            return None, [], status
        prop = f"{ids.LAB_TICKET}.data"
        args = f"&cacheKey={handles['cacheKey']}&job={handles['job']}"
        seen: list[list] = []
        end = time.time() + timeout
        while time.time() < end:
            # the renderer blanks the inputs of a poll
            status, data = self.call(self.k_job, {prop: None}, [prop], args)
            if status != 200:
                return None, seen, status
            if data.get("progress"):
                p = data["progress"]
                seen.append([p.get(f"{ids.LAB_PROGRESS_BAR}.value"), p.get(f"{ids.LAB_PROGRESS}.children")])
            if on_poll:
                on_poll(seen)
            if "response" in data:
                return data["response"][ids.LAB_OUTCOME]["data"], seen, status
            time.sleep(interval)
        raise AssertionError(f"the job did not answer within {timeout} s; progress {seen[-3:]}")

    def show(self, outcome: Any) -> dict:
        prop = f"{ids.LAB_OUTCOME}.data"
        return self.response(*self.call(self.k_show, {prop: outcome}, [prop]))

    def click(self, outcome: Any, x: float, y: float, valid: bool = False) -> dict:
        prop = f"{ids.LAB_MAP}.clickData"
        return self.response(*self.call(self.k_click, {prop: {"points": [{"x": x, "y": y}]},
                                                       f"{ids.LAB_OUTCOME}.data": outcome,
                                                       f"{ids.LAB_VALID}.value": valid}, [prop]))

    def preset(self, outcome: Any, digit: int) -> dict:
        """The far preset button of ``digit`` pressed."""
        from dash._utils import stringify_id

        prop = f"{stringify_id({'type': ids.LAB_PRESET, 'index': digit})}.n_clicks"
        return self.response(*self.call(self.k_click, {prop: 1, f"{ids.LAB_OUTCOME}.data": outcome}, [prop]))

    def cancel(self, ticket: Any) -> dict:
        prop = f"{ids.LAB_CANCEL}.n_clicks"
        return self.response(*self.call(self.k_cancel, {prop: 1, f"{ids.LAB_TICKET}.data": ticket,
                                                        f"{ids.LAB_SESSION}.data": self.session}, [prop]))

    def ended(self, ticket: Any) -> dict:
        """The job's poll ended (Dash sets ``LAB_RUNNING`` false)."""
        prop = f"{ids.LAB_RUNNING}.data"
        return self.response(*self.call(self.k_ended, {prop: False, f"{ids.LAB_TICKET}.data": ticket}, [prop]))


def text_of(resp: dict, cid: str, prop: str = "children") -> str:
    """All the text inside one output of a callback answer (whitespace collapsed)."""
    out: list[str] = []

    def walk(node):
        if isinstance(node, str):
            out.append(node)
        elif isinstance(node, (int, float)) and not isinstance(node, bool):
            out.append(str(node))
        elif isinstance(node, list):
            for n in node:
                walk(n)
        elif isinstance(node, dict):
            props = node.get("props", {})
            if node.get("type") == "Markup":  # static markup: its JSONML tree
                out.append(markup_text(props.get("tree") or []))
            else:
                walk(props.get("children"))

    walk(resp.get(cid, {}).get(prop))
    return " ".join(" ".join(out).split())
