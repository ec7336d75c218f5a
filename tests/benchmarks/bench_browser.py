"""Browser benchmark: click-to-paint, page weight and warm start, against a real gunicorn.

Run: ``python tests/benchmarks/bench_browser.py [--quick] [--only clicks|hover|bytes|start]``
(``--clicks N``, ``--warm-runs N``, ``--cache-dir DIR`` to reuse trained artifacts, ``--busy N``
to measure the clicks with N processes spinning on the CPU: a shared machine's neighbours).

Starts ``gunicorn -c gunicorn.conf.py --bind 127.0.0.1:<free port> app:server`` with a
temporary ``FOOLING_CACHE_DIR`` (the first start trains into it), drives Debian's headless
Chromium through chromedriver, prints tables with the targets beside the numbers, and
writes ``bench_browser.json`` beside this file. Exits 0 whatever the numbers are (it is a
benchmark, not a test). Talks to the app only by URL, element id, ``app.components.PAGES``
and ``gunicorn.conf.py``.

1. **clicks** -- click to painted result on /iris and /mnist (identity, then tanh after
   clicking the ``mnist-network`` radio input). Each click is real pointer input: CDP
   ``Input.dispatchMouseEvent`` mousePressed + mouseReleased at the viewport pixel of a data
   point computed from the map's own axes (``_fullLayout.xaxis.d2p`` + ``_offset`` + the plot's
   bounding box), points spread over the visible map by a Halton sequence. Inside the page a
   capture ``pointerdown`` listener records ``performance.now()``; MutationObservers watch the
   result and the image (their subtrees, plus the style of their wrappers, where ``dcc.Loading``
   hides them; the image is a canvas, ``app.images.Digit``, which stamps its ``data-drawn``
   attribute in the same step that puts its pixels); two ``requestAnimationFrame`` callbacks
   after the last such mutation the paint time is stamped. painted = max(result paint, image paint) - pointerdown (the target's measure); the
   same from the ``pointerup`` (the release, where a click happens) is printed beside it, with
   the press (pointerdown to pointerup: the driver's two commands). A click counts once the
   result's text differs from its text before the click and the image's DOM changed (or
   1.5 s passed after the result without it), and then nothing was in flight and nothing changed
   for a quiet period. ``/_dash-update-component`` requests per click are the Resource Timing
   entries added between arming and settling.
2. **bytes** -- first visit of /mnist and /compare in a fresh Chromium profile (empty cache),
   then a repeat visit in the same browser (via about:blank). Bytes are CDP
   ``Network.loadingFinished.encodedDataLength`` (bytes on the wire, headers included) from
   chromedriver's performance log, counted until the page is loaded, every graph drawn and no
   request in flight or new for 1.5 s; Resource Timing ``transferSize`` is the cross-check.
3. **hover** -- live previews per second on /mnist, identity then tanh: real pointer input
   (CDP ``Input.dispatchMouseEvent`` mouseMoved, trusted events the page cannot tell from a
   mouse) sent 120 times a second, pipelined on the page's DevTools websocket, along a
   Lissajous path over the map for a few seconds; Chromium
   delivers pointer moves once per animation frame, so the ceiling is the frame rate, which
   is counted in the same window (``requestAnimationFrame``). previews/s = new previews
   (``window.foolingHover.count``) / seconds; the identity net's previews must send no
   request (Resource Timing). Also the JS cost of one preview (synthetic pointer moves
   dispatched in a loop), i.e. the headroom above the frame rate.
4. **start** -- one start to fill the cache, then N warm starts: launch to first 200 on /mnist,
   against ``python -c "import dash, plotly, sklearn, scipy"`` (median of 3) in the same run;
   after the last one, a fresh browser visits every page (``app.components.PAGES`` and the
   listed ones) and clicks once on the first ``*-map`` graph of each, then each worker's RSS
   (``/proc/<pid>/status``) and PSS (``/proc/<pid>/smaps_rollup``) are read. The kernel decides
   which worker takes a connection, so one round may leave a worker idle: rounds repeat (up to
   6) until every worker has answered as many callbacks as one round sends (counted in the
   access log, which this script writes with the worker pid), and both readings are reported.

Pitfalls handled here: Bootstrap's ``scroll-behavior: smooth`` (a pixel computed while a
``scrollIntoView`` animates is wrong when the press lands: scroll with ``behavior: 'instant'``);
plotly's double click (two presses within 300 ms reset the zoom: presses are >= 0.6 s apart);
plotly's ``hovermode: 'closest'`` snaps the click to a marker within 20 px (``snap_px``
reports how far ``clickData`` is from the aimed point); the Resource Timing buffer (250 entries
by default; raised before the page's scripts run); Debian Chromium's first-run page on a fresh
profile (requests before the measured navigation and to other hosts are left out).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from urllib.parse import urlsplit

os.environ.setdefault("OMP_NUM_THREADS", "1")
REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.benchmarks.browser_support import (  # noqa: E402
    PROBE_JS, ROUTE, TARGET_JS, WAIT_JS, Browser, NetLog, Server, memory)

OUT = Path(__file__).with_suffix(".json")
PAGES_FALLBACK = ("/", "/iris", "/svm", "/mnist", "/neurons", "/compare")
TARGETS = {"mnist_updates_per_click": 1, "first_visit_mb": 1.5, "warm_start_ratio": 2.0, "worker_rss_mib": 220,
           "mnist_click_p95_ms": 100, "identity_previews_per_s": 60}
QUIET_MS = 400          # nothing new for this long after a click = settled
IMAGE_GRACE_MS = 1500   # a result without an image update after this long counts on its own
CLICK_LIMIT_MS = 15000  # a click that shows no new result by then is recorded as failed
MIN_CLICK_GAP = 0.6     # s between presses: plotly reads two presses within 300 ms as a double click


# ---- small helpers -----------------------------------------------------------------------------

def pct(values, q: float) -> float | None:
    """The q-th percentile (0-100, linear interpolation) or None."""
    v = sorted(x for x in values if x is not None)
    if not v:
        return None
    k = (len(v) - 1) * q / 100
    lo, hi = math.floor(k), math.ceil(k)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def halton(i: int, base: int) -> float:
    f, r = 1.0, 0.0
    while i > 0:
        f /= base
        r += f * (i % base)
        i //= base
    return r


def status(ok: bool | None) -> str:
    return "n/a" if ok is None else ("PASS" if ok else "FAIL")


def fmt(v, spec=".0f", unit=""):
    return "-" if v is None else f"{v:{spec}}{unit}"


def page_paths() -> list[str]:
    """Every page: ``app.components.PAGES`` (paths, in navbar order) plus the required ones."""
    found = []
    try:
        from app.components import PAGES
        for p in PAGES:
            if isinstance(p, str):
                path = p
            elif isinstance(p, dict):
                path = p.get("path")
            else:  # a (path, title, ...) tuple or an object with a .path (PageInfo)
                path = getattr(p, "path", None) or (p[0] if isinstance(p, (tuple, list)) else None)
            if isinstance(path, str) and path.startswith("/"):
                found.append(path)
    except Exception as exc:  # the app is being refactored: fall back to the known URLs
        print(f"(app.components.PAGES not readable: {exc!r}; using the known pages)", file=sys.stderr)
    return list(dict.fromkeys(found + list(PAGES_FALLBACK)))


def short(url: str, n: int = 58) -> str:
    s = urlsplit(url)
    path = s.path + ("?" + s.query if s.query else "")
    return path if len(path) <= n else path[:n - 12] + "..." + path[-9:]


# ---- 1. clicks ---------------------------------------------------------------------------------

def open_page(b: Browser, base: str, path: str, need) -> None:
    b.driver.get(base + path)
    b.wait_idle(need=need, quiet=1.0, limit=90)


def set_network(b: Browser, value: str) -> dict:
    """Click the ``mnist-network`` radio input for ``value``; wait until the page is idle again."""
    d = b.driver
    current = d.execute_script("const i = document.querySelector('#mnist-network input:checked');"
                               "return i ? i.value : null;")
    if current == value:
        return {"clicked": False}
    n0 = d.execute_script("return performance.getEntriesByType('resource').length;")
    el = d.find_element("css selector", f"#mnist-network input[value='{value}']")
    t = time.perf_counter()
    el.click()
    b.wait_idle(need=("mnist-map",), quiet=0.8, limit=60)
    names = d.execute_script(
        "return performance.getEntriesByType('resource').slice(arguments[0]).map(e => e.name);", n0)
    now = d.execute_script("const i = document.querySelector('#mnist-network input:checked');"
                           "return i ? i.value : null;")
    if now != value:
        raise RuntimeError(f"mnist-network did not switch to {value!r} (it reads {now!r})")
    return {"clicked": True, "idle_s": time.perf_counter() - t, "updates": sum(ROUTE in n for n in names)}


def bring_into_view(b: Browser, graph_id: str) -> bool:
    """Scroll the graph fully into the viewport if it is not; wait until the page stops moving.

    Bootstrap 5 sets ``scroll-behavior: smooth`` on ``:root``: a plain ``scrollIntoView`` animates,
    and a pixel computed during the animation is wrong by the time the press lands.
    """
    d = b.driver
    rect = ("const r = document.getElementById(arguments[0]).getBoundingClientRect();"
            "return [r.top, r.left, r.bottom, r.right];")
    top, left, bottom, right = d.execute_script(rect, graph_id)
    w, h = d.execute_script("return [window.innerWidth, window.innerHeight];")
    if top >= 0 and left >= 0 and bottom <= h and right <= w:
        return False
    d.execute_script("document.getElementById(arguments[0]).scrollIntoView({block: 'center', behavior: 'instant'});",
                     graph_id)
    last, end = None, time.monotonic() + 5
    while time.monotonic() < end:
        now = d.execute_script(rect, graph_id)
        if now == last:
            break
        last = now
        time.sleep(0.1)
    return True


def click_series(b: Browser, map_id: str, result_id: str, image_id: str | None, n: int, seed: int) -> dict:
    """``n`` sequential real clicks on ``map_id``; per click the painted latency and requests."""
    d = b.driver
    if not d.execute_script(PROBE_JS, result_id, image_id, map_id):
        raise RuntimeError(f"no #{result_id} / #{image_id} in the page")
    scrolled = bring_into_view(b, map_id)
    samples, skipped, i = [], 0, seed * 1000 + 1
    last_press = 0.0
    while len(samples) < n:
        fx, fy = 0.06 + 0.88 * halton(i, 2), 0.06 + 0.88 * halton(i, 3)
        i += 1
        target = d.execute_script(TARGET_JS, map_id, fx, fy)
        if not (target["inside"] and target["drag"]):  # something (legend, mode bar) covers it
            skipped += 1
            if skipped > 5 * n:
                raise RuntimeError(f"no clickable pixel on #{map_id}: {target}")
            continue
        time.sleep(max(0.0, last_press + MIN_CLICK_GAP - time.monotonic()))
        end = time.monotonic() + 30
        while d.execute_script("return window.__benchInflight;") and time.monotonic() < end:
            time.sleep(0.05)  # never arm while a callback is in flight: its answer would look new
        d.execute_script("window.__bench.arm();")
        last_press = time.monotonic()
        b.mouse_click(target["px"], target["py"])
        r = d.execute_async_script(WAIT_JS, QUIET_MS, CLICK_LIMIT_MS, IMAGE_GRACE_MS, map_id)
        s = {"target": [target["x"], target["y"]], "pixel": [round(target["px"], 1), round(target["py"], 1)],
             "ok": bool(r["ok"] and r["t0"] is not None), "updates": r["updates"], "others": r["others"],
             "text": (r["text"] or "")[:160], "prediction": bool(re.search(r"predict", r["text"] or "", re.I)),
             "hidden": r["hidden"], "spinner": r["spinner"], "map_spinner": r["mapSpinner"],
             "image_mutations": r["imgMuts"], "map_mutations": r["mapMuts"], "image_updated": r["imgMut"] is not None}
        if r["t0"] is None:
            s["error"] = "the press never reached the page (no pointerdown)"
        elif not r["ok"]:
            s["error"] = "no new result within %d ms" % CLICK_LIMIT_MS
        if r["click"]:
            c = r["click"]
            s["click_data"] = [c["x"], c["y"]]
            s["snap_px"] = round(math.hypot(c["px"] - target["plot_px"], c["py"] - target["plot_py"]), 1)
        if s["ok"]:
            t0 = r["t0"]
            paints = [r["resPaint"]] + ([r["imgPaint"]] if r["imgMut"] is not None and r["imgPaint"] else [])
            s["painted_ms"] = max(paints) - t0
            s["result_painted_ms"] = r["resPaint"] - t0
            # from the release (pointerup), where the click happens: the press itself (and the
            # driver's second command) is not the page's time
            s["from_release_ms"] = max(paints) - r["t1"] if r.get("t1") is not None else None
            s["press_ms"] = r["t1"] - t0 if r.get("t1") is not None else None
            s["result_mutated_ms"] = r["resMut"] - t0
            s["image_mutated_ms"] = r["imgMut"] - t0 if r["imgMut"] is not None else None
            s["long_tasks_ms"] = [[round(a - t0), round(b)] for a, b in r["longtasks"]]
            s["long_tasks_total_ms"] = sum(b for _, b in r["longtasks"])
            s["image_painted_ms"] = r["imgPaint"] - t0 if r["imgMut"] is not None and r["imgPaint"] else None
            reqs = r["requests"]
            if reqs:
                s["to_first_request_ms"] = reqs[0][0] - t0
                s["requests_ms"] = max(q[2] for q in reqs) - reqs[0][0]
                s["after_last_response_ms"] = max(paints) - max(q[2] for q in reqs)
                s["response_bytes"] = sum(q[3] for q in reqs)
                s["response_decoded_bytes"] = sum(q[4] for q in reqs)
        samples.append(s)
    return {"scrolled_into_view": scrolled, **summarize_clicks(samples, skipped)}


def summarize_clicks(samples: list[dict], skipped: int) -> dict:
    ok = [s for s in samples if s["ok"]]
    lat = [s["painted_ms"] for s in ok]
    dist: dict[int, int] = {}
    for s in samples:
        dist[s["updates"]] = dist.get(s["updates"], 0) + 1

    def p(key, q):
        return pct([s.get(key) for s in ok], q)

    return {"clicks": len(samples), "ok": len(ok), "failed": len(samples) - len(ok), "skipped_pixels": skipped,
            "painted_p50_ms": pct(lat, 50), "painted_p95_ms": pct(lat, 95), "painted_max_ms": max(lat, default=None),
            "result_painted_p50_ms": p("result_painted_ms", 50), "image_painted_p50_ms": p("image_painted_ms", 50),
            "from_release_p50_ms": p("from_release_ms", 50), "from_release_p95_ms": p("from_release_ms", 95),
            "press_p50_ms": p("press_ms", 50),
            "to_first_request_p50_ms": p("to_first_request_ms", 50), "requests_p50_ms": p("requests_ms", 50),
            "after_last_response_p50_ms": p("after_last_response_ms", 50),
            "response_bytes_p50": p("response_bytes", 50), "long_tasks_total_p50_ms": p("long_tasks_total_ms", 50),
            "map_mutations_p50": pct([s["map_mutations"] for s in samples], 50),
            "response_decoded_bytes_p50": p("response_decoded_bytes", 50),
            "updates_per_click": {str(k): v for k, v in sorted(dist.items())},
            "clicks_with_other_requests": sum(1 for s in samples if s["others"]),
            "clicks_with_hidden_wrapper": sum(1 for s in samples if s["hidden"]),
            "clicks_with_spinner": sum(1 for s in samples if s["spinner"]),
            "clicks_with_map_spinner": sum(1 for s in samples if s["map_spinner"]),
            "clicks_without_image_update": sum(1 for s in ok if not s["image_updated"]),
            "snapped_over_3px": sum(1 for s in samples if (s.get("snap_px") or 0) > 3),
            "snap_p95_px": pct([s.get("snap_px") for s in samples], 95),
            "distinct_results": len({s["text"] for s in ok}),
            "results_without_prediction": sum(1 for s in ok if not s["prediction"]),
            "samples": samples}


BUSY_LIMIT_S = 900  # a busy process ends by itself after this long, whatever happens here


class Busy:
    """``n`` processes spinning on the CPU for as long as the block runs (a shared machine's
    neighbours, made on purpose): the clicks are then measured with that much of the machine
    taken. Each spinner stops by itself after ``BUSY_LIMIT_S``."""

    def __init__(self, n: int):
        self.n, self.procs = n, []

    def __enter__(self):
        code = f"import time\nend = time.monotonic() + {BUSY_LIMIT_S}\nwhile time.monotonic() < end: pass"
        self.procs = [subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.DEVNULL)
                      for _ in range(self.n)]
        return self

    def __exit__(self, *exc):
        for proc in self.procs:
            proc.kill()
        for proc in self.procs:
            proc.wait(timeout=10)


def bench_clicks(base: str, n: int) -> dict:
    """Three series: /iris, /mnist identity, /mnist tanh (same page, after clicking the toggle)."""
    out = {}
    mnist = ("mnist-map", "mnist-result", "mnist-image")
    with Browser() as b:
        try:
            open_page(b, base, "/iris", ("iris-map", "iris-result"))
            out["/iris"] = click_series(b, "iris-map", "iris-result", None, n, seed=1)
        except Exception as exc:
            out["/iris"] = failure(exc)
        for k, network in enumerate(("identity", "tanh")):
            name = f"/mnist {network}"
            try:
                if k == 0 or "error" in out["/mnist identity"]:
                    open_page(b, base, "/mnist", mnist + ("mnist-network",))
                out[name] = {"switch": set_network(b, network), **click_series(b, *mnist, n, seed=2 + k)}
            except Exception as exc:
                out[name] = failure(exc)
    return out


# ---- hover --------------------------------------------------------------------------------------

HOVER_ARM_JS = r"""
const H = window.foolingHover;
if (!H || !H.data) { return null; }
const W = window.__hoverBench = {frames: 0, fresh: 0, seen: H.count, run: true, c0: H.count,
                                 t0: performance.now(), r0: performance.getEntriesByType('resource').length};
const tick = () => {
  if (!W.run) { return; }
  W.frames++;
  if (H.count !== W.seen) { W.fresh++; W.seen = H.count; }  // this frame shows a new preview
  requestAnimationFrame(tick);
};
requestAnimationFrame(tick);
return H.data.mode;
"""

HOVER_READ_JS = r"""
const W = window.__hoverBench, H = window.foolingHover;
W.run = false;
const names = performance.getEntriesByType('resource').slice(W.r0).map(e => e.name);
return {seconds: (performance.now() - W.t0) / 1000, previews: H.count - W.c0, frames: W.frames, fresh: W.fresh,
        updates: names.filter(n => n.includes('_dash-update-component')).length,
        previews_asked: names.filter(n => n.includes('/_fooling/preview')).length,
        last: H.last ? {x: H.last.x, y: H.last.y, predicted: H.last.predicted, source: H.last.source} : null,
        line: (document.getElementById('mnist-hover') || {}).textContent || ''};
"""

# the JS cost of one preview: synthetic pointer moves straight to the map's listener, in a loop
HOVER_COST_JS = r"""
const gd = document.querySelector('#' + arguments[0] + ' .js-plotly-plot'), n = arguments[1];
const fl = gd._fullLayout, r = gd.getBoundingClientRect(), H = window.foolingHover, c0 = H.count;
const t0 = performance.now();
for (let i = 0; i < n; i++) {
  const f = (i + 0.5) / n;
  gd.dispatchEvent(new PointerEvent('pointermove', {bubbles: true, pointerType: 'mouse',
    clientX: r.left + fl.xaxis._offset + fl.xaxis._length * (0.1 + 0.8 * f),
    clientY: r.top + fl.yaxis._offset + fl.yaxis._length * (0.5 + 0.4 * Math.sin(7 * f))}));
}
return {ms_per_preview: (performance.now() - t0) / n, previews: H.count - c0};
"""


MOVES_PER_S = 120  # pointer moves sent per second: twice the frame rate, so every frame has one


def hover_series(b: Browser, map_id: str, seconds: float) -> dict:
    """Pointer moves back to back over ``map_id`` for ``seconds``; previews, frames, requests."""
    d = b.driver
    bring_into_view(b, map_id)
    lo = d.execute_script(TARGET_JS, map_id, 0.08, 0.08)
    hi = d.execute_script(TARGET_JS, map_id, 0.92, 0.92)
    mode = d.execute_script(HOVER_ARM_JS)
    if mode is None:
        raise RuntimeError("no live preview on the page (window.foolingHover has no data)")
    moves = []
    for i in range(int(seconds * MOVES_PER_S)):
        f = i / 240.0
        fx, fy = 0.5 + 0.5 * math.sin(2 * math.pi * f), 0.5 + 0.5 * math.sin(2 * math.pi * 1.3 * f + 0.7)
        moves.append(("Input.dispatchMouseEvent", {
            "type": "mouseMoved", "x": lo["px"] + fx * (hi["px"] - lo["px"]),
            "y": lo["py"] + fy * (hi["py"] - lo["py"]), "button": "none", "pointerType": "mouse"}))
    sent = b.pipelined_cdp(moves, 1.0 / MOVES_PER_S)
    if mode != "affine":
        time.sleep(0.5)  # the last answer in flight
    r = d.execute_script(HOVER_READ_JS)
    cost = d.execute_script(HOVER_COST_JS, map_id, 200) if mode == "affine" else None
    return {"mode": mode, "moves_sent": sent["sent"], "moves_per_s": sent["sent_per_s"],
            "moves_refused": sent["errors"], "seconds": r["seconds"],
            "previews": r["previews"], "previews_per_s": r["previews"] / r["seconds"],
            "frames_per_s": r["frames"] / r["seconds"], "previews_per_frame": r["previews"] / max(r["frames"], 1),
            "frames_with_new_preview": r["fresh"] / max(r["frames"], 1),
            "update_requests": r["updates"], "preview_requests": r["previews_asked"], "last": r["last"],
            "line": r["line"][:120], "js_cost": cost}


def bench_hover(base: str, seconds: float) -> dict:
    out = {}
    with Browser() as b:
        open_page(b, base, "/mnist", ("mnist-map", "mnist-network"))
        for network in ("identity", "tanh"):
            try:
                set_network(b, network)
                time.sleep(0.5)
                out[network] = hover_series(b, "mnist-map", seconds)
            except Exception as exc:
                out[network] = failure(exc)
    return out


# ---- 2. bytes ----------------------------------------------------------------------------------

RT_JS = r"""
const nav = performance.getEntriesByType('navigation')[0];
const res = performance.getEntriesByType('resource');
return {navigation_type: nav ? nav.type : null, navigation_transfer: nav ? nav.transferSize : null,
        resources_transfer: res.reduce((a, e) => a + (e.transferSize || 0), 0), resources: res.length,
        transfer: (nav ? nav.transferSize : 0) + res.reduce((a, e) => a + (e.transferSize || 0), 0)};
"""


def visit_bytes(b: Browser, net: NetLog, url: str, host: str) -> dict:
    b.driver.get("about:blank")
    time.sleep(0.3)
    net.take()  # whatever came before (the profile's first-run page, the previous visit)
    t = time.perf_counter()
    b.driver.get(url)
    b.wait_idle(quiet=1.5, limit=90, net_log=net)
    elapsed = time.perf_counter() - t
    rt = b.driver.execute_script(RT_JS)
    reqs = net.take()
    ours = [r for r in reqs if urlsplit(r.get("url", "")).netloc == host]
    other = [r.get("url", "?") for r in reqs if urlsplit(r.get("url", "")).netloc not in (host, "")
             and not r.get("url", "").startswith(("data:", "about:", "chrome"))]
    total = sum(r["encoded"] for r in ours)
    rows = sorted(ours, key=lambda r: -r["encoded"])
    kinds: dict[str, dict] = {}
    for r in ours:
        k = kinds.setdefault(r.get("type") or "?", {"requests": 0, "bytes": 0})
        k["requests"] += 1
        k["bytes"] += r["encoded"]
    return {"seconds_to_idle": elapsed, "bytes": total, "requests": len(ours),
            "from_cache": sum(1 for r in ours if r["cache"]),
            "revalidated_304": sum(1 for r in ours if r.get("wire_status") == 304),
            "failed": [r["url"] for r in ours if r.get("failed")],
            "callback_requests": sum(1 for r in ours if ROUTE in r.get("url", "")),
            "callback_bytes": sum(r["encoded"] for r in ours if ROUTE in r.get("url", "")),
            "compressed_bytes_share": (sum(r["encoded"] for r in ours if r.get("encoding")) / total) if total else None,
            "by_type": kinds, "resource_timing": rt, "external_requests": other,
            "largest": [{"url": short(r.get("url", "")), "full_url": r.get("url"), "type": r.get("type"),
                         "bytes": r["encoded"], "decoded": r["decoded"], "encoding": r.get("encoding") or "none",
                         "status": r.get("wire_status") or r.get("status"), "cache": r["cache"],
                         "cache_control": r.get("cache_control")}
                        for r in rows[:10]]}


def bench_bytes(base: str) -> dict:
    host = urlsplit(base).netloc
    out = {}
    for path in ("/mnist", "/compare"):
        try:
            with Browser(perf_log=True) as b:  # a fresh profile: an empty cache
                net = NetLog(b.driver, host)
                first = visit_bytes(b, net, base + path, host)
                repeat = visit_bytes(b, net, base + path, host)
            out[path] = {"first": first, "repeat": repeat}
        except Exception as exc:
            out[path] = failure(exc)
    return out


# ---- 3. start and memory -----------------------------------------------------------------------

def import_seconds() -> float:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import dash, plotly, sklearn, scipy"], cwd=REPO, env=env, check=True,
                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, timeout=300)
    return time.perf_counter() - t


def visit_everything(server: Server, pages: list[str]) -> dict:
    """A browser visits every page once and clicks once on every ``*-map`` graph."""
    visited = {}
    with Browser() as b:
        for path in pages:
            entry = {}
            try:
                open_page(b, server.url, path, ())
                maps = b.driver.execute_script(
                    "return Array.from(document.querySelectorAll('.dash-graph[id$=\"-map\"]'))"
                    ".filter(g => g.querySelector('.js-plotly-plot') && g.querySelector('.js-plotly-plot')._fullLayout)"
                    ".map(g => g.id);")
                entry["maps"] = maps
                if maps:
                    target = b.driver.execute_script(TARGET_JS, maps[0], 0.3, 0.65)
                    f0 = b.driver.execute_script("return window.__benchFetches;")
                    b.mouse_click(target["px"], target["py"])
                    time.sleep(0.3)
                    b.wait_idle(quiet=0.8, limit=60)
                    entry["clicked"] = maps[0]
                    entry["click_fetches"] = b.driver.execute_script("return window.__benchFetches;") - f0
            except Exception as exc:
                entry["error"] = repr(exc)
            visited[path] = entry
    return visited


def served_by_worker(srv: Server) -> dict[str, dict]:
    """Requests and callback requests each worker pid has answered (from the access log)."""
    served: dict[str, dict] = {}
    for pid, _method, path, _code in srv.access():
        w = served.setdefault(str(pid), {"requests": 0, "callbacks": 0})
        w["requests"] += 1
        w["callbacks"] += path.startswith(ROUTE)
    return served


def memory_after_visits(srv: Server, pages: list[str], max_rounds: int) -> dict:
    """Each worker's RSS/PSS after one browser round over every page, and after enough rounds
    that every worker has answered at least as many callbacks as one round sends.

    Which worker answers a connection is up to the kernel: after one round a worker may have
    served nothing, so its memory says nothing about a worker that has shown every page.
    """
    pids, end = srv.workers(), time.monotonic() + 20
    while time.monotonic() < end:  # the preloaded master forks them all at once: wait until stable
        time.sleep(1.0)
        now = srv.workers()
        if now == pids:
            break
        pids = now
    before = {pid: w["callbacks"] for pid, w in served_by_worker(srv).items()}
    rounds = [visit_everything(srv, pages)]
    time.sleep(0.5)
    served = served_by_worker(srv)
    per_round = sum(w["callbacks"] for w in served.values()) - sum(before.values())
    first = {"worker_mib": {str(p): memory(p) for p in sorted(srv.workers())}, "served": served}
    while len(rounds) < max_rounds and per_round and \
            min(served.get(str(p), {}).get("callbacks", 0) for p in srv.workers()) < per_round:
        print(f"  visit round {len(rounds) + 1} (a worker has answered under {per_round} callbacks) ...",
              file=sys.stderr)
        rounds.append(visit_everything(srv, pages))
        time.sleep(0.5)
        served = served_by_worker(srv)
    return {"visits": rounds[0], "rounds": len(rounds), "callbacks_per_round": per_round,
            "every_worker_busy": all(served.get(str(p), {}).get("callbacks", 0) >= per_round for p in srv.workers()),
            "after_one_round": first, "visit_errors": [e for r in rounds for e in r.values() if "error" in e],
            "worker_mib": {str(p): memory(p) for p in sorted(srv.workers())}, "served": served,
            "master_mib": memory(srv.proc.pid)}


def bench_start(cache: Path, runs: int, logs: Path, pages: list[str], filled: dict | None,
                max_rounds: int) -> dict:
    out: dict = {"runs": [], "imports_s": []}
    if filled is None:  # nothing started on this cache yet in this run: fill it
        print("  filling the artifact cache (first start) ...", file=sys.stderr)
        srv = Server(cache, logs / "fill.log")
        try:
            filled = {"first_mnist_200_s": srv.wait_200("/mnist")}
        finally:
            srv.stop()
    out["fill_start"] = filled
    for i in range(max(3, runs)):
        if i < 3:
            out["imports_s"].append(import_seconds())
        if i >= runs:
            continue
        print(f"  warm start {i + 1}/{runs} ...", file=sys.stderr)
        srv = Server(cache, logs / f"warm{i}.log")
        try:
            run = {"first_mnist_200_s": srv.wait_200("/mnist")}
            if i == runs - 1:
                run.update(memory_after_visits(srv, pages, max_rounds))
            out["runs"].append(run)
        finally:
            srv.stop()
    times = [r["first_mnist_200_s"] for r in out["runs"]]
    out["warm_median_s"] = statistics.median(times)
    out["import_median_s"] = statistics.median(out["imports_s"])
    out["ratio"] = out["warm_median_s"] / out["import_median_s"]
    last = out["runs"][-1]
    mibs = list(last["worker_mib"].values()) + list(last["after_one_round"]["worker_mib"].values())
    out["worker_rss_max_mib"] = max((m.get("rss", 0) for m in mibs), default=None)
    out["worker_pss_max_mib"] = max((m.get("pss", 0) for m in mibs), default=None)
    return out


# ---- report ------------------------------------------------------------------------------------

def table(headers, rows) -> str:
    cells = [[str(c) for c in r] for r in rows]
    widths = [max(len(str(h)), *(len(r[i]) for r in cells)) if cells else len(str(h)) for i, h in enumerate(headers)]
    line = lambda r: "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths)))  # noqa: E731
    return "\n".join([line([str(h) for h in headers]), line(["-" * w for w in widths])] + [line(r) for r in cells])


def report(out: dict) -> list[list]:
    """Print every section's table; return the summary rows (metric, measured, target, status)."""
    summary = []
    if "clicks" in out and "error" not in out["clicks"]:
        rows = []
        for name, c in out["clicks"].items():
            if "error" in c:
                summary.append([f"{name}: clicks (did not run)", c["message"], "-", "FAIL"])
                continue
            dist = ", ".join(f"{k}: {v}" for k, v in c["updates_per_click"].items())
            target_ok = None
            if name.startswith("/mnist"):
                target_ok = c["updates_per_click"] == {"1": c["clicks"]}
            rows.append([name, f"{c['ok']}/{c['clicks']}", fmt(c["painted_p50_ms"]), fmt(c["painted_p95_ms"]),
                         fmt(c["result_painted_p50_ms"]), fmt(c["image_painted_p50_ms"]),
                         fmt(c["to_first_request_p50_ms"]), fmt(c["requests_p50_ms"]),
                         fmt(c["after_last_response_p50_ms"]), fmt(c["long_tasks_total_p50_ms"]),
                         fmt(c["map_mutations_p50"]), dist, c["clicks_with_spinner"],
                         "exactly 1" if name.startswith("/mnist") else "-", status(target_ok)])
            p95_ok = c["painted_p95_ms"] <= TARGETS["mnist_click_p95_ms"] if name.startswith("/mnist") else None
            summary.append([f"{name}: click to painted p50 / p95", f"{fmt(c['painted_p50_ms'])} / "
                            f"{fmt(c['painted_p95_ms'])} ms",
                            f"p95 <= {TARGETS['mnist_click_p95_ms']} ms" if name.startswith("/mnist") else "-",
                            status(p95_ok) if p95_ok is not None else "info"])
            summary.append([f"{name}: from the release, p50 / p95 (press p50)",
                            f"{fmt(c['from_release_p50_ms'])} / {fmt(c['from_release_p95_ms'])} ms "
                            f"({fmt(c['press_p50_ms'])} ms)", "-", "info"])
            if name.startswith("/mnist"):
                summary.append([f"{name}: update requests per click", dist, "1 on every click", status(target_ok)])
        busy = out.get("busy_during_clicks") or 0
        print("\nClick to painted result (ms from pointerdown; real CDP mouse input; sequential"
              + (f"; {busy} process(es) spinning on the CPU meanwhile" if busy else "") + ")")
        print(table(["page", "ok", "p50", "p95", "result p50", "image p50", "->request p50", "request(s) p50",
                     "response->paint p50", "long tasks p50", "map DOM muts p50", "requests/click (n: clicks)",
                     "spinner", "target", "status"], rows))
    if "hover" in out and "error" not in out["hover"]:
        rows = []
        for network, h in out["hover"].items():
            if "error" in h:
                summary.append([f"/mnist {network}: hover (did not run)", h["message"], "-", "FAIL"])
                continue
            identity = network == "identity"
            ok = (h["previews_per_s"] >= TARGETS["identity_previews_per_s"] and h["update_requests"] == 0
                  and h["preview_requests"] == 0) if identity else None
            cost = h["js_cost"]["ms_per_preview"] if h["js_cost"] else None
            rows.append([network, h["mode"], f"{h['moves_per_s']:.0f}", f"{h['frames_per_s']:.1f}",
                         f"{h['previews_per_s']:.1f}", f"{h['previews_per_frame']:.2f}",
                         f"{100 * h['frames_with_new_preview']:.0f}%", h["update_requests"],
                         h["preview_requests"], fmt(cost, ".2f"),
                         f">= {TARGETS['identity_previews_per_s']}/s, 0 requests" if identity else "measured",
                         status(ok) if identity else "info"])
            summary.append([f"/mnist {network}: hover previews per second",
                            f"{h['previews_per_s']:.1f}/s ({h['frames_per_s']:.1f} frames/s; "
                            f"{h['update_requests'] + h['preview_requests']} requests)",
                            f">= {TARGETS['identity_previews_per_s']}/s" if identity else "measured",
                            status(ok) if identity else "info"])
        print("\nLive hover on /mnist (real CDP pointer moves back to back; previews are drawn images)")
        print(table(["network", "computed", "moves sent/s", "frames/s", "previews/s", "previews/frame",
                     "frames with a new one", "callback requests", "preview requests", "JS ms/preview", "target", "status"], rows))
    if "bytes" in out and "error" not in out["bytes"]:
        rows = []
        for path, v in out["bytes"].items():
            if "error" in v:
                summary.append([f"{path}: bytes (did not run)", v["message"], "-", "FAIL"])
                continue
            for kind in ("first", "repeat"):
                r = v[kind]
                mb = r["bytes"] / 1e6
                ok = mb <= TARGETS["first_visit_mb"] if kind == "first" else None
                rt = r["resource_timing"]["transfer"] / 1e6
                rows.append([f"{path} {kind}", f"{mb:.3f}", f"{rt:.3f}", r["requests"], r["from_cache"],
                             r["revalidated_304"],
                             r["callback_requests"], f"{r['callback_bytes'] / 1e3:.1f}",
                             f"{100 * (r['compressed_bytes_share'] or 0):.0f}%", f"{r['seconds_to_idle']:.1f}",
                             f"<= {TARGETS['first_visit_mb']}" if kind == "first" else "-", status(ok)])
                if kind == "first":
                    summary.append([f"{path}: first-visit bytes", f"{mb:.3f} MB", f"<= {TARGETS['first_visit_mb']} MB",
                                    status(ok)])
        print("\nPage weight (MB = 1e6 bytes; CDP encodedDataLength, headers included; "
              "RT = Resource Timing transferSize)")
        print(table(["visit", "MB (CDP)", "MB (RT)", "requests", "cached", "304", "callbacks", "callback kB",
                     "compressed", "s to idle", "target MB", "status"], rows))
        for path, v in out["bytes"].items():
            if "error" in v:
                continue
            print(f"\n10 largest resources, first visit of {path}")
            print(table(["resource", "type", "status", "kB on wire", "kB decoded", "Content-Encoding", "Cache-Control"],
                        [[r["url"], r["type"], r["status"], f"{r['bytes'] / 1e3:.1f}", f"{r['decoded'] / 1e3:.1f}",
                          r["encoding"],
                          (r["cache_control"] or "-")[:28]] for r in v["first"]["largest"]]))
            if v["first"]["external_requests"]:
                print(f"  requests to other hosts: {v['first']['external_requests']}")
    if "start" in out and "error" not in out["start"]:
        s = out["start"]
        times = [r["first_mnist_200_s"] for r in s["runs"]]
        ok = s["ratio"] <= TARGETS["warm_start_ratio"]
        print("\nWarm start (launch to first 200 on /mnist) against the bare imports")
        print(table(["what", "runs", "median s", "min s", "max s", "target", "status"], [
            ["fill start (cache empty or reused)", 1, f"{s['fill_start']['first_mnist_200_s']:.2f}", "-", "-", "-",
             "info"],
            ["warm start", len(times), f"{s['warm_median_s']:.2f}", f"{min(times):.2f}", f"{max(times):.2f}", "-",
             "info"],
            ["import dash, plotly, sklearn, scipy", len(s["imports_s"]), f"{s['import_median_s']:.2f}",
             f"{min(s['imports_s']):.2f}", f"{max(s['imports_s']):.2f}", "-", "info"],
            ["ratio warm / import", "", f"{s['ratio']:.2f}", "", "", f"<= {TARGETS['warm_start_ratio']}", status(ok)]]))
        summary.append(["warm start / bare imports", f"{s['ratio']:.2f} ({s['warm_median_s']:.2f} s / "
                        f"{s['import_median_s']:.2f} s)", f"<= {TARGETS['warm_start_ratio']}", status(ok)])
        last = s["runs"][-1]
        one = last["after_one_round"]
        rows = []
        for pid, m in last["worker_mib"].items():
            m1, w1, w = one["worker_mib"].get(pid, {}), one["served"].get(pid, {}), last["served"].get(pid, {})
            wok = max(m.get("rss", 0), m1.get("rss", 0)) <= TARGETS["worker_rss_mib"]
            rows.append([f"worker {pid}", fmt(m1.get("rss")), fmt(m1.get("pss")), w1.get("callbacks", 0),
                         fmt(m.get("rss")), fmt(m.get("pss")), w.get("callbacks", 0),
                         f"<= {TARGETS['worker_rss_mib']}", status(wok)])
        m = last["master_mib"]
        rows.append(["master", "-", "-", "-", fmt(m.get("rss")), fmt(m.get("pss")), "-", "-", "info"])
        print(f"\nWorker memory (MiB) after one visit of every page with one click per map page, and after "
              f"{last['rounds']} such round(s) (until every worker answered >= {last['callbacks_per_round']} "
              f"callbacks: {'yes' if last['every_worker_busy'] else 'NO'})")
        print(table(["process", "RSS 1 round", "PSS 1 round", "callbacks", f"RSS {last['rounds']} rounds",
                     f"PSS {last['rounds']} rounds", "callbacks", "target RSS", "status"], rows))
        print("  pages: " + ", ".join(f"{p}{' (click ' + e['clicked'] + ')' if e.get('clicked') else ''}"
                                      for p, e in last["visits"].items()))
        if last["visit_errors"]:
            print(f"  errors during the visits: {last['visit_errors']}")
        rss_ok = s["worker_rss_max_mib"] is not None and s["worker_rss_max_mib"] <= TARGETS["worker_rss_mib"]
        summary.append(["largest worker RSS (PSS)",
                        f"{fmt(s['worker_rss_max_mib'])} MiB ({fmt(s['worker_pss_max_mib'])})",
                        f"<= {TARGETS['worker_rss_mib']} MiB", status(rss_ok)])
    for section in ("clicks", "hover", "bytes", "start"):
        if section in out and "error" in out[section]:
            summary.append([f"{section} (did not run)", out[section]["message"], "-", "FAIL"])
    print("\nSummary")
    print(table(["metric", "measured", "target", "status"], summary))
    return summary


# ---- main --------------------------------------------------------------------------------------

def failure(exc: BaseException) -> dict:
    """A part that could not run: its traceback, and one line for the table."""
    first = (str(exc).strip().splitlines() or [""])[0]
    return {"error": traceback.format_exc(), "message": f"{type(exc).__name__}: {first}"[:100]}


def _raise_exit(signum, frame):
    raise SystemExit(128 + signum)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="12 clicks a series, 1 warm start")
    p.add_argument("--only", choices=("clicks", "hover", "bytes", "start"), action="append",
                   help="run only this part (repeatable)")
    p.add_argument("--clicks", type=int, help="clicks per series (default 40, 12 with --quick)")
    p.add_argument("--warm-runs", type=int, help="timed warm starts (default 3, 1 with --quick)")
    p.add_argument("--cache-dir", type=Path, help="artifact cache to use (default: a fresh temporary one)")
    p.add_argument("--hover-seconds", type=float, help="seconds of pointer moves per network (default 4)")
    p.add_argument("--busy", type=int, default=0,
                   help="processes spinning on the CPU while the clicks are measured (default 0)")
    args = p.parse_args(argv)
    parts = args.only or ["clicks", "hover", "bytes", "start"]
    n_clicks = args.clicks or (12 if args.quick else 40)
    warm_runs = args.warm_runs or (1 if args.quick else 3)
    signal.signal(signal.SIGTERM, _raise_exit)

    out: dict = {"parts": parts, "clicks_per_series": n_clicks, "warm_runs": warm_runs, "targets": TARGETS,
                 "busy_during_clicks": args.busy,
                 "grid": os.environ.get("FOOLING_GRID", "default"), "mnist": os.environ.get("FOOLING_MNIST", "bundled"),
                 "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                             "platform": platform.platform(), "load_avg": os.getloadavg()}}
    t_start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="fooling-bench-browser-") as tmp:
        tmp = Path(tmp)
        cache = args.cache_dir or tmp / "cache"
        filled = None
        browser_parts = [part for part in ("clicks", "hover", "bytes") if part in parts]
        if browser_parts:
            print("starting gunicorn (the first start trains into an empty cache) ...", file=sys.stderr)
            server = None
            try:
                server = Server(cache, tmp / "server.log")
                filled = {"first_mnist_200_s": server.wait_200("/mnist")}
                out["server"] = {"port": server.port, **filled}
            except Exception as exc:
                for part in browser_parts:
                    out[part] = failure(exc)
                print(traceback.format_exc(), file=sys.stderr)
            try:
                for part in browser_parts:
                    if part in out:  # the server did not start
                        continue
                    print(f"{part} ...", file=sys.stderr)
                    try:
                        if part == "clicks":
                            with Busy(args.busy):
                                out[part] = bench_clicks(server.url, n_clicks)
                        else:
                            out[part] = (bench_hover(server.url, args.hover_seconds or 4.0) if part == "hover" else
                                         bench_bytes(server.url))
                    except Exception as exc:
                        out[part] = failure(exc)
                        print(out[part]["error"], file=sys.stderr)
            finally:
                if server is not None:
                    server.stop()
        if "start" in parts:
            print("start ...", file=sys.stderr)
            try:
                out["start"] = bench_start(cache, warm_runs, tmp, page_paths(), filled,
                                           max_rounds=3 if args.quick else 6)
            except Exception as exc:
                out["start"] = failure(exc)
                print(out["start"]["error"], file=sys.stderr)
    out["seconds"] = time.perf_counter() - t_start
    out["machine"]["load_avg_end"] = os.getloadavg()
    try:
        out["summary"] = report(out)
    except Exception:  # a report bug must not lose the measurements
        traceback.print_exc()
    OUT.write_text(json.dumps(out, indent=2, default=str))
    print(f"\nwrote {OUT.relative_to(REPO)} ({out['seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
