"""Plumbing for ``bench_browser.py``: a gunicorn process group, a headless Chromium, in-page probes.

Nothing here imports the app: the benchmark talks to it over HTTP and through the browser,
by element id and URL only (the app's internals may change under it). The small
server helpers mirror ``tests/test_serving.py`` (``free_port``, ``Server``,
``gunicorn_cmd``) without importing it, because that module imports app internals.
Every process started here is stopped by pid (its process group, or the pids that
descend from it) in ``close()``/``stop()``, which the benchmark calls in ``finally``.
"""

from __future__ import annotations

import http.client
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
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CHROME_ARGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--no-first-run", "--no-default-browser-check", "--disable-quic",
               "--disable-extensions", "--disable-default-apps", "--disable-features=Translate,MediaRouter",
               "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
               "--disable-backgrounding-occluded-windows", "--mute-audio")
WINDOW = (1280, 900)
ROUTE = "/_dash-update-component"


# ---- processes -----------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def gunicorn_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "gunicorn", *args]


def http_get(port: int, path: str, timeout: float = 5) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        r.read()
        return r.status
    finally:
        conn.close()


def _ppid_map() -> dict[int, int]:
    out = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z":
            out[int(stat.parent.name)] = int(fields[1])
    return out


def children(pid: int) -> set[int]:
    return {p for p, pp in _ppid_map().items() if pp == pid}


def descendants(pid: int) -> set[int]:
    ppid = _ppid_map()
    out, todo = set(), [pid]
    while todo:
        cur = todo.pop()
        for p, pp in ppid.items():
            if pp == cur and p not in out:
                out.add(p)
                todo.append(p)
    return out


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    try:  # a zombie is dead for our purpose
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def kill_pids(pids, grace: float = 5.0) -> None:
    """SIGTERM each pid, then SIGKILL what is still alive after ``grace`` seconds."""
    pids = [p for p in pids if _alive(p)]
    for p in pids:
        try:
            os.kill(p, signal.SIGTERM)
        except ProcessLookupError:
            pass
    end = time.monotonic() + grace
    while time.monotonic() < end and any(_alive(p) for p in pids):
        time.sleep(0.05)
    for p in pids:
        if _alive(p):
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass


def memory(pid: int) -> dict:
    """RSS (``/proc/<pid>/status``) and PSS (``/proc/<pid>/smaps_rollup``) in MiB."""
    out = {}
    for name, path, key in (("rss", f"/proc/{pid}/status", "VmRSS:"), ("pss", f"/proc/{pid}/smaps_rollup", "Pss:")):
        try:
            m = re.search(rf"^{key}\s+(\d+) kB", Path(path).read_text(), re.M)
        except OSError:
            continue
        if m:
            out[name] = int(m.group(1)) / 1024
    return out


class Server:
    """``gunicorn -c gunicorn.conf.py ... app:server`` in its own process group, on 127.0.0.1.

    The access log (gunicorn.conf.py sends it to stdout, here the log file) is written with
    the worker pid first, so requests can be counted per worker and per route.
    """

    ACCESS = '%(p)s "%(r)s" %(s)s %(B)s'

    def __init__(self, cache: Path, log: Path, extra: tuple[str, ...] = ()):
        self.port, self.log = free_port(), log
        env = {**os.environ, "FOOLING_CACHE_DIR": str(cache), "PYTHONPATH": str(REPO)}
        env.setdefault("OMP_NUM_THREADS", "1")
        cmd = gunicorn_cmd("-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{self.port}",
                           "--access-logformat", self.ACCESS, *extra, "app:server")
        self._out = open(log, "wb")
        self.t0 = time.perf_counter()
        self.proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=self._out, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_200(self, path: str = "/mnist", limit: float = 600, poll: float = 0.05) -> float:
        """Seconds from launch to the first 200 on ``path``."""
        while time.perf_counter() - self.t0 < limit:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.proc.returncode}:\n{self.text()[-3000:]}")
            try:
                if http_get(self.port, path, timeout=10) == 200:
                    return time.perf_counter() - self.t0
            except OSError:
                pass
            time.sleep(poll)
        raise RuntimeError(f"no 200 on {path} within {limit} s:\n{self.text()[-3000:]}")

    def workers(self, n: int | None = None, timeout: float = 60) -> set[int]:
        """Worker pids (once ``n`` have booted, if given)."""
        end = time.monotonic() + timeout
        while True:
            pids = children(self.proc.pid)
            if n is None or (len(pids) >= n and self.text().count("Booting worker") >= n):
                return pids
            if time.monotonic() > end:
                raise RuntimeError(f"{n} workers not up within {timeout} s")
            time.sleep(0.1)

    def text(self) -> str:
        self._out.flush()
        return self.log.read_text(errors="replace")

    def access(self) -> list[tuple[int, str, str, int]]:
        """(worker pid, method, path, status) of every access-log line so far."""
        out = []
        for m in re.finditer(r'^<?(\d+)>? "(\w+) (\S+) HTTP/[\d.]+" (\d{3}) ', self.text(), re.M):
            out.append((int(m.group(1)), m.group(2), m.group(3), int(m.group(4))))
        return out

    def stop(self) -> None:
        try:
            if self.proc.poll() is None:
                try:
                    os.killpg(self.proc.pid, signal.SIGTERM)
                    self.proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                    self.proc.wait(timeout=10)
        except ProcessLookupError:
            pass
        finally:
            self._out.close()


# ---- the browser ---------------------------------------------------------------------------

# Installed with Page.addScriptToEvaluateOnNewDocument, so it runs before Dash's own scripts:
# a large Resource Timing buffer (the default 250 entries fill up after a few dozen clicks) and
# a count of fetches in flight (Dash sends callbacks with fetch), for "network idle".
NEW_DOCUMENT_JS = r"""
try { performance.setResourceTimingBufferSize(100000); } catch (e) {}
window.__benchInflight = 0;
window.__benchFetches = 0;
window.__benchLastFetchEnd = performance.now();
(function () {
  const orig = window.fetch;
  if (!orig) return;
  window.fetch = function () {
    window.__benchInflight++; window.__benchFetches++;
    const done = () => { window.__benchInflight--; window.__benchLastFetchEnd = performance.now(); };
    try {
      const p = orig.apply(this, arguments);
      p.then(done, done);
      return p;
    } catch (e) { done(); throw e; }
  };
})();
"""

# Returns the page's state: rendered (every dash-graph drawn), callbacks in flight, resources.
STATE_JS = r"""
const graphs = Array.from(document.querySelectorAll('.dash-graph'));
const drawn = graphs.filter(g => { const gd = g.querySelector('.js-plotly-plot');
                                   return gd && gd._fullLayout && gd.querySelector('.main-svg'); });
const need = arguments[0] || [];
return {ready: document.readyState, graphs: graphs.length, drawn: drawn.length,
        missing: need.filter(id => !document.getElementById(id)),
        inflight: window.__benchInflight === undefined ? -1 : window.__benchInflight,
        fetches: window.__benchFetches || 0,
        sinceFetch: performance.now() - (window.__benchLastFetchEnd || 0),
        resources: performance.getEntriesByType('resource').length,
        spinners: document.querySelectorAll('.dash-spinner, ._dash-loading, [data-dash-is-loading="true"]').length};
"""

# The click probe: a pointerdown listener (capture) records t0; MutationObservers on the result
# and the image (their subtrees, and the style/class of their two nearest ancestors, which is
# where a dcc.Loading wrapper hides its children) record mutation times; two
# requestAnimationFrame callbacks after the last mutation of each, the "painted" time is
# stamped: the frame that holds the mutation has been produced by then.
PROBE_JS = r"""
const resultId = arguments[0], imageId = arguments[1], mapId = arguments[2];
if (window.__bench && window.__bench.resultId === resultId && window.__bench.imageId === imageId) return true;
const res = document.getElementById(resultId);
const img = imageId ? document.getElementById(imageId) : null;
if (!res || (imageId && !img)) return false;
const B = window.__bench = {resultId, imageId, armed: false, t0: null, before: null, text: null,
  resMut: null, imgMut: null, resPaint: null, imgPaint: null, imgMuts: 0, resMuts: 0, lastMut: 0,
  gen: {res: 0, img: 0}, rt0: 0, click: null, hidden: 0, spinner: 0, mapSpinner: 0, mapMuts: 0};
const paint = (key) => {
  const g = ++B.gen[key];
  requestAnimationFrame(() => requestAnimationFrame(() => {
    if (g === B.gen[key]) B[key + 'Paint'] = performance.now();
  }));
};
const watch = (el, fn) => {
  new MutationObserver(fn).observe(el, {subtree: true, childList: true, characterData: true, attributes: true});
  let a = el.parentElement;
  for (let i = 0; i < 2 && a && a !== document.body; i++, a = a.parentElement) {
    new MutationObserver(fn).observe(a, {attributes: true, attributeFilter: ['style', 'class']});
  }
};
B.longtasks = [];
try {  // main-thread tasks over 50 ms, to see where a slow click spends its time
  new PerformanceObserver(list => { for (const e of list.getEntries()) B.longtasks.push([e.startTime, e.duration]); })
    .observe({type: 'longtask'});
} catch (e) {}
const hiddenNow = el => getComputedStyle(el).visibility === 'hidden';
document.addEventListener('pointerdown', () => {
  if (B.armed) { B.t0 = performance.now(); B.t1 = null; B.armed = false; }
}, true);
document.addEventListener('pointerup', () => {  // the release: where a click happens
  if (B.t0 !== null && B.t1 === null) B.t1 = performance.now();
}, true);
watch(res, () => {
  if (B.t0 === null) return;
  B.lastMut = performance.now();
  if (hiddenNow(res)) B.hidden++;
  const t = res.textContent;
  if (t !== B.before && t !== B.text) { B.resMut = B.lastMut; B.resMuts++; B.text = t; paint('res'); }
  else if (B.resMut !== null) { B.resMut = B.lastMut; paint('res'); }  // e.g. un-hidden after the text came
});
if (img) watch(img, () => {
  if (B.t0 === null) return;
  B.imgMut = B.lastMut = performance.now(); B.imgMuts++;
  if (hiddenNow(img)) B.hidden++;
  paint('img');
});
B.arm = () => {
  Object.assign(B, {armed: true, t0: null, before: res.textContent, text: null, resMut: null, imgMut: null,
                    resPaint: null, imgPaint: null, imgMuts: 0, resMuts: 0, lastMut: 0, click: null, hidden: 0,
                    spinner: 0, mapSpinner: 0, longtasks: [], mapMuts: 0,
                    rt0: performance.getEntriesByType('resource').length});
  B.gen.res++; B.gen.img++;
};
// how much of the map's own DOM changed (a redraw shows as many mutations), for the report
const mapEl = document.getElementById(mapId);
if (mapEl) new MutationObserver(list => { if (B.t0 !== null) B.mapMuts += list.length; })
  .observe(mapEl, {subtree: true, childList: true, attributes: true});
// what plotly reported for the click (its clickData point), in data units and in pixels
const gd = document.querySelector('#' + mapId + ' .js-plotly-plot');
if (gd && gd.on) gd.on('plotly_click', d => {
  const p = d && d.points && d.points[0];
  if (!p) { B.click = null; return; }
  const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;  // pixels inside the plot area
  B.click = {x: p.x, y: p.y, curve: p.curveNumber, at: performance.now(), px: xa.d2p(p.x), py: ya.d2p(p.y)};
});
return true;
"""

# Pixel of data point (x, y) of a graph's main axes, in viewport coordinates, and what is there.
TARGET_JS = r"""
const gd = document.querySelector('#' + arguments[0] + ' .js-plotly-plot');
const fx = arguments[1], fy = arguments[2];
const fl = gd._fullLayout, xa = fl.xaxis, ya = fl.yaxis;
const lin = (a, f) => a.range[0] + f * (a.range[1] - a.range[0]);   // in the axis' linear units
const x = xa.l2d(lin(xa, fx)), y = ya.l2d(lin(ya, fy));
const r = gd.getBoundingClientRect();
const px = r.left + xa._offset + xa.d2p(x), py = r.top + ya._offset + ya.d2p(y);
const hit = document.elementFromPoint(px, py);
const drag = hit && gd.contains(hit) && hit.classList.contains('drag');
return {x, y, px, py, plot_px: xa.d2p(x), plot_py: ya.d2p(y), scrollY: window.scrollY,
        drag, hit: hit ? (hit.tagName + '.' + (hit.getAttribute('class') || '')) : null,
        visible: r.top >= 0 && r.left >= 0 && r.bottom <= window.innerHeight && r.right <= window.innerWidth,
        inside: px >= r.left + xa._offset && px <= r.left + xa._offset + xa._length &&
                py >= r.top + ya._offset && py <= r.top + ya._offset + ya._length};
"""

# Resolve when the click has settled: result changed, image updated (or given up on), the
# paints stamped, no callback in flight and nothing new (mutation, resource) for `quiet` ms.
WAIT_JS = r"""
const quiet = arguments[0], limit = arguments[1], imgGrace = arguments[2], done = arguments[arguments.length - 1];
const B = window.__bench, start = performance.now();
let lastRt = performance.getEntriesByType('resource').length, lastChange = performance.now();
// dcc.Loading draws its spinner beside the children it wraps: look next to the result and image
const roots = [document.getElementById(B.resultId), B.imageId && document.getElementById(B.imageId)]
  .filter(Boolean).map(e => (e.parentElement && e.parentElement.parentElement) || e);
const mapEl = document.getElementById(arguments[3]);
const mapRoot = mapEl && ((mapEl.parentElement && mapEl.parentElement.parentElement) || mapEl);
const tick = () => {
  const now = performance.now();
  if (roots.some(r => r.querySelector('[class*="spinner"]'))) B.spinner++;
  if (mapRoot && mapRoot.querySelector('[class*="spinner"]')) B.mapSpinner++;
  const rt = performance.getEntriesByType('resource').length;
  if (rt !== lastRt) { lastRt = rt; lastChange = now; }
  if (B.lastMut > lastChange) lastChange = B.lastMut;
  const changed = B.text !== null && B.text !== B.before;
  const imgOk = !B.imageId || B.imgMut !== null || (changed && now - B.resMut > imgGrace);
  const painted = changed && B.resPaint !== null && (B.imgMut === null || B.imgPaint !== null);
  const idle = window.__benchInflight === 0 && now - lastChange >= quiet &&
               now - (window.__benchLastFetchEnd || 0) >= quiet;
  if ((changed && imgOk && painted && idle) || now - start > limit) {
    const entries = performance.getEntriesByType('resource').slice(B.rt0);
    const upd = entries.filter(e => e.name.indexOf('/_dash-update-component') >= 0);
    done({ok: changed && imgOk && painted, t0: B.t0, t1: B.t1 === undefined ? null : B.t1,
          longtasks: B.longtasks.filter(t => B.t0 !== null && t[0] + t[1] >= B.t0), resMut: B.resMut, imgMut: B.imgMut,
          resPaint: B.resPaint, imgPaint: B.imgPaint, imgMuts: B.imgMuts, resMuts: B.resMuts,
          hidden: B.hidden, spinner: B.spinner, mapSpinner: B.mapSpinner, mapMuts: B.mapMuts,
          before: B.before, text: B.text, click: B.click,
          updates: upd.length,
          requests: upd.map(e => [e.startTime, e.responseStart, e.responseEnd, e.transferSize, e.decodedBodySize]),
          others: entries.filter(e => e.name.indexOf('/_dash-update-component') < 0).map(e => e.name)});
  } else setTimeout(tick, 25);
};
tick();
"""


class Browser:
    """Headless Chromium through chromedriver, with a fresh profile in a temporary folder."""

    def __init__(self, perf_log: bool = False):
        from selenium import webdriver
        from selenium.webdriver.chrome.options import Options
        from selenium.webdriver.chrome.service import Service

        self.profile = tempfile.mkdtemp(prefix="fooling-bench-chrome-")
        self.driver = None
        self._pids: set[int] = set()
        options = Options()
        binary = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
        if binary:
            options.binary_location = binary
        for arg in CHROME_ARGS + (f"--window-size={WINDOW[0]},{WINDOW[1]}", f"--user-data-dir={self.profile}"):
            options.add_argument(arg)
        if perf_log:  # CDP Network.* events, read back with driver.get_log("performance")
            options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
        driver_path = shutil.which("chromedriver") or "chromedriver"
        self.service = Service(driver_path, log_path=os.devnull)
        try:
            self.driver = webdriver.Chrome(service=self.service, options=options)
            self._remember()
            self.driver.set_script_timeout(120)
            self.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": NEW_DOCUMENT_JS})
        except BaseException:
            self.close()
            raise

    def _remember(self) -> None:
        proc = getattr(self.service, "process", None)
        if proc is not None:
            self._pids |= {proc.pid} | descendants(proc.pid)

    def close(self) -> None:
        self._remember()  # chromium's pids, before quit() lets them be reparented
        try:
            if self.driver is not None:
                self.driver.quit()
        except Exception:
            pass
        try:
            self.service.stop()
        except Exception:
            pass
        kill_pids(self._pids)
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- page helpers --

    def state(self, need=()) -> dict:
        return self.driver.execute_script(STATE_JS, list(need))

    def wait_idle(self, need=(), quiet: float = 1.0, limit: float = 60.0, net_log=None) -> dict:
        """Until the page is loaded, every graph drawn, no fetch in flight and nothing new for ``quiet`` s."""
        end = time.monotonic() + limit
        last_sig, last_change = None, time.monotonic()
        while True:
            st = self.state(need)
            pending = net_log.pending() if net_log is not None else 0
            sig = (st["resources"], st["fetches"], st["drawn"], st["graphs"],
                   net_log.count if net_log is not None else 0)
            now = time.monotonic()
            if sig != last_sig:
                last_sig, last_change = sig, now
            ok = (st["ready"] == "complete" and not st["missing"] and st["inflight"] == 0 and pending == 0
                  and st["drawn"] == st["graphs"] and st["sinceFetch"] >= quiet * 1000)
            if ok and now - last_change >= quiet:
                return st
            if now > end:
                raise TimeoutError(f"page not idle within {limit} s: {st}, pending {pending}")
            time.sleep(0.1)

    def pipelined_cdp(self, commands: list[tuple[str, dict]], interval: float) -> dict:
        """Send CDP ``commands`` to the current page every ``interval`` seconds without waiting
        for each answer (chromedriver's ``execute_cdp_cmd`` waits for every one: at most one
        input event per round trip). A second DevTools client on the page's own websocket
        (Chromium accepts several), through ``trio-websocket`` (a dependency of selenium).
        Returns the send rate and how many commands were answered without an error."""
        import trio
        from trio_websocket import open_websocket_url

        address = self.driver.capabilities["goog:chromeOptions"]["debuggerAddress"]
        here = self.driver.current_url
        conn = http.client.HTTPConnection(address, timeout=10)
        conn.request("GET", "/json")
        targets = json.loads(conn.getresponse().read())
        conn.close()
        page = next(t for t in targets if t.get("type") == "page" and t.get("url") == here)
        result = {"sent": 0, "answered": 0, "errors": 0}

        async def run():
            async with open_websocket_url(page["webSocketDebuggerUrl"], max_message_size=2**24) as ws:
                async def read():
                    while result["answered"] < len(commands):
                        msg = json.loads(await ws.get_message())
                        if "id" in msg:
                            result["answered"] += 1
                            result["errors"] += "error" in msg

                async with trio.open_nursery() as nursery:
                    nursery.start_soon(read)
                    t0 = trio.current_time()
                    for i, (method, params) in enumerate(commands):
                        await trio.sleep_until(t0 + i * interval)
                        await ws.send_message(json.dumps({"id": i + 1, "method": method, "params": params}))
                        result["sent"] += 1
                    result["send_seconds"] = trio.current_time() - t0
                    with trio.move_on_after(10):
                        while result["answered"] < len(commands):
                            await trio.sleep(0.01)
                    nursery.cancel_scope.cancel()

        trio.run(run)
        result["sent_per_s"] = result["sent"] / max(result.get("send_seconds", 0), 1e-9)
        return result

    def mouse_click(self, x: float, y: float) -> None:
        """A real left click at viewport pixel (x, y): CDP mousePressed then mouseReleased."""
        for kind in ("mousePressed", "mouseReleased"):
            self.driver.execute_cdp_cmd("Input.dispatchMouseEvent", {
                "type": kind, "x": x, "y": y, "button": "left", "buttons": 1 if kind == "mousePressed" else 0,
                "clickCount": 1, "pointerType": "mouse"})


class NetLog:
    """CDP ``Network.*`` events from chromedriver's performance log, per request."""

    def __init__(self, driver, host: str):
        self.driver, self.host = driver, host
        self.requests: dict[str, dict] = {}
        self.count = 0

    def drain(self) -> None:
        for entry in self.driver.get_log("performance"):
            try:
                msg = json.loads(entry["message"])["message"]
            except (KeyError, ValueError):
                continue
            method, p = msg.get("method", ""), msg.get("params", {})
            if not method.startswith("Network.") or "requestId" not in p:
                continue
            self.count += 1
            r = self.requests.setdefault(p["requestId"], {"id": p["requestId"], "done": False, "encoded": 0,
                                                          "decoded": 0, "cache": False})
            if method == "Network.requestWillBeSent":
                if "redirectResponse" in p:  # the redirect's own bytes count too
                    r["encoded"] += p["redirectResponse"].get("encodedDataLength", 0)
                r.update(url=p["request"]["url"], method=p["request"]["method"], type=p.get("type"))
            elif method == "Network.responseReceived":
                resp = p["response"]
                headers = {k.lower(): v for k, v in resp.get("headers", {}).items()}
                r.update(status=resp.get("status"), mime=resp.get("mimeType"), type=p.get("type", r.get("type")),
                         encoding=headers.get("content-encoding", ""), cache_control=headers.get("cache-control", ""),
                         content_length=headers.get("content-length"), protocol=resp.get("protocol"),
                         url=resp.get("url", r.get("url")))
                if resp.get("fromDiskCache") or resp.get("fromPrefetchCache") or resp.get("fromServiceWorker"):
                    r["cache"] = True
            elif method == "Network.responseReceivedExtraInfo":  # the status on the wire (304 shows here)
                r["wire_status"] = p.get("statusCode")
            elif method == "Network.requestServedFromCache":
                r["cache"] = True
            elif method == "Network.dataReceived":
                r["decoded"] += p.get("dataLength", 0)
            elif method == "Network.loadingFinished":
                r["encoded"] += p.get("encodedDataLength", 0)
                r["done"] = True
            elif method == "Network.loadingFailed":
                r.update(done=True, failed=p.get("errorText", "failed"))

    def pending(self) -> int:
        self.drain()
        return sum(1 for r in self.requests.values() if not r["done"] and self.host in r.get("url", ""))

    def take(self) -> list[dict]:
        """Every request so far (then forget them)."""
        self.drain()
        out = list(self.requests.values())
        self.requests = {}
        return out
