"""Browser tests: dash_duo driving Debian's headless Chromium.

In CI (CI=true) a missing chromedriver fails the run; elsewhere those tests skip and
say so loudly.
"""

from __future__ import annotations

import shutil

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
