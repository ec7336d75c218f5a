"""/mnist's live preview in a real browser: real pointer events (CDP) over the map give, for
every network the preview covers, the library's own inversion of the point under the pointer;
the identity net's preview sends no request, the others' come from the server (and say so);
a touch drag previews too."""

from __future__ import annotations

import re
import time

import numpy as np

from app import ids
from app.components import percent
from fooling.inversion import InversionError
from tests.browser.conftest import console_errors
from tests.browser.test_mnist import open_page

N_POINTS = 20
LINE = f"#{ids.MNIST_HOVER}"
SHOWN = re.compile(r"^(\S+) \((>?\d+\.\d\d)%\) at \((\S+), (\S+)\)")

AXES = """
const gd = document.querySelector('#' + arguments[0] + ' .js-plotly-plot');
const r = gd.getBoundingClientRect(), xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
return {left: r.left + xa._offset, top: r.top + ya._offset, xlen: xa._length, ylen: ya._length,
        xrange: xa.range.slice(), yrange: ya.range.slice(),
        pixels: (arguments[1] || []).map(p => [r.left + xa._offset + xa.l2p(p[0]),
                                               r.top + ya._offset + ya.l2p(p[1])])};
"""
"""A map's plot area in viewport pixels, its axes' ranges, and ``arguments[1]``'s data points
as viewport pixels (the axes' own data-to-pixel map)."""

LAST = """
const H = window.foolingHover;
if (!H || !H.last) { return {count: H ? H.count : 0, last: null}; }
const r = H.last;
return {count: H.count, last: {network: r.network, x: r.x, y: r.y, source: r.source || null,
        message: r.message || null, predicted: r.predicted === undefined ? null : r.predicted,
        confidence: r.confidence === undefined ? null : r.confidence,
        image: r.image ? Array.from(r.image) : null}};
"""

REQUESTS = """
performance.setResourceTimingBufferSize(100000);
const names = performance.getEntriesByType('resource').map(e => e.name);
return {update: names.filter(n => n.includes('/_dash-update-component')).length,
        preview: names.filter(n => n.includes('/_fooling/preview')).length,
        fetched: window.__fetched || []};
"""

RECORD_FETCH = """
if (!window.__fetched) {
    window.__fetched = [];
    window.__inflight = 0;
    window.__maxInflight = 0;
    const f = window.fetch, o = XMLHttpRequest.prototype.open;
    window.fetch = function (u) {
        const url = String(u && u.url || u);
        window.__fetched.push(url);
        let p = f.apply(this, arguments);
        if (url.includes('/_fooling/preview')) {
            const wait = window.__slow || 0;  /* a slow server, when a test asks for one */
            p = p.then(r => new Promise(ok => setTimeout(() => ok(r), wait)));
            window.__inflight += 1;
            window.__maxInflight = Math.max(window.__maxInflight, window.__inflight);
            p.finally(() => { window.__inflight -= 1; }).catch(() => {});
        }
        return p;
    };
    XMLHttpRequest.prototype.open = function (m, u) {
        window.__fetched.push(String(u));
        return o.apply(this, arguments);
    };
}
"""


def axes(dash_duo, points=(), graph: str = ids.MNIST_MAP):
    return dash_duo.driver.execute_script(AXES, graph, [list(map(float, p)) for p in points])


def mouse(dash_duo, kind: str, x: float, y: float, **extra) -> None:
    dash_duo.driver.execute_cdp_cmd("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y, **extra})


def wait_preview(dash_duo, count: int, near, tol, timeout: float = 10) -> dict:
    """The first preview after ``count`` previews that lies within ``tol`` of ``near``."""
    end = time.time() + timeout
    got = None
    while time.time() < end:
        got = dash_duo.driver.execute_script(LAST)
        last = got["last"]
        if got["count"] > count and last and abs(last["x"] - near[0]) <= tol[0] and abs(last["y"] - near[1]) <= tol[1]:
            return last
        time.sleep(0.02)
    raise AssertionError(f"no preview at {near} (within {tol}); the last one: "
                         f"{ {k: v for k, v in (got['last'] or {}).items() if k != 'image'} }")


PLACED = """
const over = document.getElementById(arguments[0]), under = document.querySelector('#' + arguments[1] + ' canvas');
const box = (el) => { const r = el.getBoundingClientRect(); return {x: r.left, y: r.top, w: r.width, h: r.height}; };
return [Object.assign(box(over), {active: over.classList.contains('active')}), box(under)];
"""


def select_network(dash_duo, name: str) -> None:
    radio = dash_duo.find_element(f"#{ids.MNIST_NETWORK} input[value='{name}']")
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", radio)
    radio.click()
    end = time.time() + 20
    while time.time() < end and dash_duo.driver.execute_script(
            "const H = window.foolingHover; return H && H.data ? H.data.network : null;") != name:
        time.sleep(0.05)
    time.sleep(0.5)  # the map of that network has been drawn
    dash_duo.wait_for_element(f"#{ids.MNIST_MAP} .js-plotly-plot .heatmaplayer", timeout=20)


def show_map(dash_duo, graph: str = ids.MNIST_MAP) -> None:
    area = dash_duo.find_element(f"#{graph} .nsewdrag")
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", area)
    time.sleep(0.2)


def sample(rng, geometry, lo=(-np.inf, -np.inf), hi=(np.inf, np.inf), margin=0.03) -> np.ndarray:
    """N_POINTS random points inside the axes' ranges (and [lo, hi]), away from the edges."""
    (x0, x1), (y0, y1) = sorted(geometry["xrange"]), sorted(geometry["yrange"])
    x0, x1 = max(x0, lo[0]), min(x1, hi[0])
    y0, y1 = max(y0, lo[1]), min(y1, hi[1])
    assert x0 < x1 and y0 < y1, geometry
    wx, wy = margin * (x1 - x0), margin * (y1 - y0)
    return np.column_stack([rng.uniform(x0 + wx, x1 - wx, N_POINTS), rng.uniform(y0 + wy, y1 - wy, N_POINTS)])


def hover_checks(dash_duo, name: str, inverter, points, source: str, graph: str = ids.MNIST_MAP) -> int:
    """Move the mouse over each point's pixel of map ``graph``; check the preview against
    ``inverter``. Returns how many points were previewed with an image."""
    show_map(dash_duo, graph)
    g = axes(dash_duo, points, graph)
    px_x = abs(g["xrange"][1] - g["xrange"][0]) / g["xlen"]  # one pixel in data units
    px_y = abs(g["yrange"][1] - g["yrange"][0]) / g["ylen"]
    imaged = 0
    for (x, y), (cx, cy) in zip(points, g["pixels"]):
        assert g["left"] < cx < g["left"] + g["xlen"] and g["top"] < cy < g["top"] + g["ylen"]
        count = dash_duo.driver.execute_script(LAST)["count"]
        mouse(dash_duo, "mouseMoved", cx, cy)
        last = wait_preview(dash_duo, count, (x, y), (1.01 * px_x, 1.01 * px_y))
        assert last["network"] == name and last["source"] == source, last
        bx, by = last["x"], last["y"]  # the point the browser read off the axes
        try:
            ref = inverter.invert(np.array([bx, by]))
        except InversionError:
            ref = None
        if ref is None:  # the server says no image reaches it
            assert last["image"] is None and "No image reaches" in last["message"], last
            assert dash_duo.find_element(LINE).text == last["message"]
            continue
        imaged += 1
        image = np.array(last["image"], dtype=float)
        assert image.shape == ref.image.shape
        np.testing.assert_allclose(image, ref.image, rtol=0, atol=1e-6)
        assert str(last["predicted"]) == str(ref.predicted)
        assert abs(last["confidence"] - ref.confidence) <= 1e-6
        text = dash_duo.find_element(LINE).text
        m = SHOWN.match(text)
        assert m, text
        assert m.group(1) == str(ref.predicted) and m.group(2) + "%" == percent(ref.confidence)
        shown = (float(m.group(3)), float(m.group(4)))  # 4 significant digits (toPrecision)
        assert abs(shown[0] - bx) <= 5e-4 * abs(bx) and abs(shown[1] - by) <= 5e-4 * abs(by), (text, bx, by)
        assert ("preview from the server" in text) == (source == "server"), text
        # the preview is shown exactly over the pinned image's canvas
        over, under = dash_duo.driver.execute_script(PLACED, ids.MNIST_HOVER_IMAGE, ids.MNIST_IMAGE)
        assert over["active"] and all(abs(over[k] - under[k]) < 0.5 for k in ("x", "y", "w", "h")), (over, under)
    return imaged


def test_identity_hover_is_the_librarys_inversion_and_sends_no_request(dash_duo, dash_app, resources):
    inv = resources.plane("identity").model.inverter
    open_page(dash_duo, dash_app)
    dash_duo.wait_for_element(f"#{ids.MNIST_RBF_MAP} .js-plotly-plot .heatmaplayer", timeout=20)
    assert dash_duo.find_element(LINE).text == "Hover over the map to preview."
    assert dash_duo.find_element(LINE).get_attribute("title") == "preview computed in your browser"
    time.sleep(1.0)  # the page's start-up requests are over
    dash_duo.driver.execute_script(RECORD_FETCH)
    before = dash_duo.driver.execute_script(REQUESTS)
    show_map(dash_duo)
    points = sample(np.random.default_rng(9), axes(dash_duo))
    assert hover_checks(dash_duo, "identity", inv, points, "browser") == N_POINTS
    # the RBF map previews the same way (the same hidden plane)
    show_map(dash_duo, ids.MNIST_RBF_MAP)
    rbf = sample(np.random.default_rng(19), axes(dash_duo, graph=ids.MNIST_RBF_MAP))[:5]
    assert hover_checks(dash_duo, "identity", inv, rbf, "browser", ids.MNIST_RBF_MAP) == 5
    show_map(dash_duo)
    # a touch drag previews the same way (a finger down, moved, lifted)
    g = axes(dash_duo, [points[0], points[1]])
    (ax, ay), (bx, by) = g["pixels"]
    count = dash_duo.driver.execute_script(LAST)["count"]

    def touch(kind, pts):
        dash_duo.driver.execute_cdp_cmd("Input.dispatchTouchEvent", {"type": kind, "touchPoints": pts})

    touch("touchStart", [{"x": ax, "y": ay}])
    for f in np.linspace(0, 1, 12)[1:]:
        touch("touchMove", [{"x": ax + f * (bx - ax), "y": ay + f * (by - ay)}])
        time.sleep(0.02)
    px_x = abs(g["xrange"][1] - g["xrange"][0]) / g["xlen"]
    px_y = abs(g["yrange"][1] - g["yrange"][0]) / g["ylen"]
    last = wait_preview(dash_duo, count, points[1], (1.01 * px_x, 1.01 * px_y))
    touch("touchEnd", [])
    after = dash_duo.driver.execute_script(LAST)["count"]
    assert after - count >= 5, f"a touch drag of 11 moves gave {after - count} previews"
    ref = inv.invert(np.array([last["x"], last["y"]]))
    np.testing.assert_allclose(np.array(last["image"]), ref.image, rtol=0, atol=1e-6)
    assert str(last["predicted"]) == str(ref.predicted)
    time.sleep(1.0)  # anything the moves set off has had time to go out
    now = dash_duo.driver.execute_script(REQUESTS)
    assert now["update"] == before["update"] and now["preview"] == before["preview"], (before, now)
    assert now["fetched"] == [], now["fetched"]
    # the pointer leaves the map: the preview is hidden
    mouse(dash_duo, "mouseMoved", 2, 2)
    dash_duo.wait_for_text_to_equal(LINE, "Hover over the map to preview.", timeout=10)
    assert console_errors(dash_duo) == []


def test_tanh_and_relu_hover_come_from_the_server_and_are_the_librarys(dash_duo, dash_app, resources):
    open_page(dash_duo, dash_app)
    rng = np.random.default_rng(90)
    codomain = {"tanh": ((-1, -1), (1, 1)), "relu": ((0, 0), (np.inf, np.inf))}
    for name in ("tanh", "relu"):
        select_network(dash_duo, name)
        assert dash_duo.find_element(LINE).get_attribute("title") == "preview from the server"
        show_map(dash_duo)
        before = dash_duo.driver.execute_script(REQUESTS)["preview"]
        points = sample(rng, axes(dash_duo), *codomain[name])
        imaged = hover_checks(dash_duo, name, resources.plane(name).model.inverter, points, "server")
        assert imaged >= N_POINTS // 2, f"{name}: only {imaged} of {N_POINTS} points had an image"
        sent = dash_duo.driver.execute_script(REQUESTS)["preview"] - before
        assert N_POINTS <= sent <= N_POINTS + 2, f"{name}: {sent} preview requests for {N_POINTS} moves"
        # moves faster than the server answers (made slow: 300 ms): one request in flight, and
        # the latest point wins (the ones between are dropped, not queued)
        dash_duo.driver.execute_script(RECORD_FETCH + "window.__slow = 300;")
        g = axes(dash_duo, points)
        before = dash_duo.driver.execute_script(REQUESTS)["preview"]
        count = dash_duo.driver.execute_script(LAST)["count"]
        for cx, cy in g["pixels"][:10]:
            mouse(dash_duo, "mouseMoved", cx, cy)
        px = (abs(g["xrange"][1] - g["xrange"][0]) / g["xlen"], abs(g["yrange"][1] - g["yrange"][0]) / g["ylen"])
        last = wait_preview(dash_duo, count, points[9], (1.01 * px[0], 1.01 * px[1]))
        time.sleep(0.5)
        assert dash_duo.driver.execute_script(LAST)["last"]["x"] == last["x"]  # nothing older came after
        burst = dash_duo.driver.execute_script(REQUESTS)["preview"] - before
        assert 2 <= burst <= 3 and dash_duo.driver.execute_script("return window.__maxInflight;") == 1, burst
        # an answer on its way when the pointer leaves is not drawn after it left
        mouse(dash_duo, "mouseMoved", *g["pixels"][3])
        mouse(dash_duo, "mouseMoved", 2, 2)
        time.sleep(1.0)
        assert dash_duo.find_element(LINE).text == "Hover over the map to preview."
        assert "active" not in dash_duo.find_element(f"#{ids.MNIST_HOVER_IMAGE}").get_attribute("class")
        dash_duo.driver.execute_script("window.__slow = 0;")
    assert console_errors(dash_duo) == []
