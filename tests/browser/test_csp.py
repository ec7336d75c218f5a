"""The Content-Security-Policy lets every page work (empty console, no 'unsafe-eval') and
still blocks inline scripts it does not know."""

from __future__ import annotations

import urllib.request

from app import ids
from tests.browser.conftest import console_errors, emit_click

PROBE = """
const s = document.createElement('script');
s.textContent = 'window.__cspProbe = 1;';
document.head.appendChild(s);
return window.__cspProbe === undefined;
"""


def _csp(url: str) -> str:
    with urllib.request.urlopen(url, timeout=20) as r:
        return r.headers["Content-Security-Policy"] or ""


def test_pages_render_under_the_csp(dash_duo, dash_app, resources):
    dash_duo.start_server(dash_app)
    policy = _csp(dash_duo.server_url + "/mnist")
    assert "script-src 'self' 'sha256-" in policy and "''" not in policy
    assert "unsafe-eval" not in policy
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy

    dash_duo.wait_for_element("#" + ids.OVERVIEW_TABLE, timeout=20)
    assert len(dash_duo.find_elements(f"#{ids.OVERVIEW_TABLE} tbody tr")) >= 3
    assert console_errors(dash_duo) == []

    dash_duo.driver.get(dash_duo.server_url + "/mnist")
    dash_duo.wait_for_element(f"#{ids.MNIST_MAP} .js-plotly-plot", timeout=20)
    dash_duo.wait_for_element(f"#{ids.MNIST_MAP} .main-svg", timeout=20)
    x, y = (float(v) for v in resources.plane("identity").centroid)
    emit_click(dash_duo, ids.MNIST_MAP, x, y)
    dash_duo.wait_for_contains_text("#" + ids.MNIST_RESULT, "Prediction", timeout=20)
    assert console_errors(dash_duo) == []

    for path, graph in (("/iris", ids.IRIS_MAP), ("/svm", ids.SVM_RBF_MAP),
                        ("/neurons", ids.ATTACK_IMAGE)):
        dash_duo.driver.get(dash_duo.server_url + path)
        dash_duo.wait_for_element(f"#{graph} .js-plotly-plot", timeout=20)
        dash_duo.wait_for_element(f"#{graph} .main-svg", timeout=20)
        assert console_errors(dash_duo) == [], path


def test_csp_blocks_unknown_inline_scripts(dash_duo, dash_app):
    dash_duo.start_server(dash_app)
    dash_duo.wait_for_element("#" + ids.OVERVIEW_TABLE, timeout=20)
    assert console_errors(dash_duo) == []
    assert dash_duo.driver.execute_script(PROBE) is True
    logs = console_errors(dash_duo)
    assert any("Content Security Policy" in e.get("message", "") for e in logs), logs
