"""Browser tests: dash_duo driving Debian's headless Chromium.

In CI (CI=true) a missing chromedriver fails the run; elsewhere those tests skip and
say so loudly.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from selenium.webdriver.chrome.options import Options

from tests.conftest import require_or_skip

WINDOW = (1280, 900)


def pytest_setup_options():
    """Chrome options dash[testing] uses for every dash_duo browser."""
    options = Options()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium:
        options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--disable-quic", f"--window-size={WINDOW[0]},{WINDOW[1]}"):
        options.add_argument(arg)
    return options


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/browser/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session", autouse=True)
def plotly_bundle(session_cache):
    """The smaller plotly.js every app of the session serves (None when the npm registry could
    not be reached: the pages then load Dash's full bundle; tests/browser/test_bundle.py
    requires it in CI)."""
    from app import plotlyjs

    return plotlyjs.ensure(session_cache)


@pytest.fixture(autouse=True)
def _need_chromedriver():
    require_or_skip(shutil.which("chromedriver") is not None,
                    "chromedriver not installed (apt-get install chromium chromium-driver)")


def emit_click(dash_duo, graph_id: str, x: float, y: float) -> None:
    """Fire ``plotly_click`` on a graph as if the point (x, y) had been clicked."""
    dash_duo.driver.execute_script(
        """
        const gd = document.querySelector('#' + arguments[0] + ' .js-plotly-plot');
        gd.emit('plotly_click', {points: [{x: arguments[1], y: arguments[2], curveNumber: 0,
                                           pointNumber: 0, data: gd.data[0]}], event: {}});
        """, graph_id, x, y)


def console_errors(dash_duo) -> list:
    """SEVERE browser console entries (an empty list means a clean console)."""
    return [e for e in dash_duo.get_logs() or [] if e.get("level") == "SEVERE"]


MARKER_JS = """
const gd = document.querySelector('#' + arguments[0] + ' .js-plotly-plot');
const M = window.foolingMarkers, s = M && M.state ? M.state[arguments[0]] : null;
const at = s ? s[arguments[1]] : null;
const node = gd ? gd.querySelector('svg.fooling-markers .marker-' + arguments[1]) : null;
let drawn = null, want = null, inside = false;
if (node && node.getAttribute('visibility') === 'visible') {
    const m = /translate\\(([^,]+),([^)]+)\\)/.exec(node.getAttribute('transform') || '');
    drawn = m ? [parseFloat(m[1]), parseFloat(m[2])] : [NaN, NaN];
}
if (at && gd && gd._fullLayout) {
    const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
    want = [xa._offset + xa.l2p(at[0]), ya._offset + ya.l2p(at[1])];
    inside = want[0] >= xa._offset && want[0] <= xa._offset + xa._length &&
             want[1] >= ya._offset && want[1] <= ya._offset + ya._length;
}
return {at: at, drawn: drawn, want: want, inside: inside};
"""


DIGIT_JS = """
const cv = document.querySelector('#' + CSS.escape(arguments[0]) + ' canvas.digit-canvas');
if (!cv || !cv.foolingDigit) { return null; }
const d = cv.foolingDigit, n = cv.width, rgba = cv.getContext('2d').getImageData(0, 0, n, n).data;
const shown = [];
for (let i = 0; i < n * n; i++) { shown.push([rgba[4 * i], rgba[4 * i + 1], rgba[4 * i + 2], rgba[4 * i + 3]]); }
return {pixels: d.pixels ? Array.from(d.pixels) : null, zmin: d.zmin, zmax: d.zmax, n: n, h: cv.height, shown: shown,
        drawn: Number(cv.getAttribute('data-drawn'))};
"""


def digit_pixels(dash_duo, element_id: str):
    """The pixels a digit image (``app.images.Digit``) holds, rows top-down (n x n; all NaN when
    empty), or None before it has drawn; checks the canvas shows them: grey, black at the grey
    range's low end and white at its top, clipped."""
    r = dash_duo.driver.execute_script(DIGIT_JS, element_id)
    if r is None:
        return None
    n = r["n"]
    assert r["h"] == n and r["drawn"] >= 1, r
    shown = np.array(r["shown"], dtype=float).reshape(n, n, 4)
    if r["pixels"] is None:
        assert (shown[..., 3] == 0).all()  # nothing drawn
        return np.full((n, n), np.nan)
    px = np.array(r["pixels"], dtype=float).reshape(n, n)
    grey = np.clip(np.round((px - r["zmin"]) * 255 / (r["zmax"] - r["zmin"])), 0, 255)
    assert (shown[..., 3] == 255).all() and (shown[..., 0] == shown[..., 1]).all() and (shown[..., 1] == shown[..., 2]).all()
    assert np.abs(shown[..., 0] - grey).max() <= 1, "the canvas does not show the pixels it holds"
    return px


def click_option(dash_duo, group: str, label: str) -> None:
    """Choose the option labelled ``label`` of the radio group ``group`` (a click on its label;
    found and clicked in one script, so a group drawn again meanwhile cannot leave a stale
    element behind)."""
    found = dash_duo.driver.execute_script("""
        for (const el of document.querySelectorAll('#' + CSS.escape(arguments[0]) + ' label')) {
            if (el.textContent.trim() === arguments[1]) { el.click(); return true; }
        }
        return false;""", group, label)
    assert found, f"no option {label!r} in #{group}"


def marker(dash_duo, graph_id: str, kind: str = "clicked"):
    """The data point [x, y] of the ``kind`` marker ('clicked' or 'nearest') drawn over a map
    (``assets/markers.js``), or None; checks the mark is drawn at that point's pixel (or hidden
    when there is none, or when it lies outside the plot area)."""
    m = dash_duo.driver.execute_script(MARKER_JS, graph_id, kind)
    if m["at"] is None or not m["inside"]:
        assert m["drawn"] is None, m
    else:
        assert m["drawn"] is not None and all(abs(a - b) < 0.5 for a, b in zip(m["drawn"], m["want"])), m
    return m["at"]
