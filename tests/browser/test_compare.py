"""/compare in a real browser: the table against the core library, every curve, the model switch."""

from __future__ import annotations

import re

import pytest
from dash.testing.wait import until
from selenium.webdriver.common.by import By

from app import create_app, ids
from app.pages.compare import compute as compare
from fooling.analysis import workspace_fooling_rates
from tests.app.test_compare import SMALL
from tests.browser.conftest import click_option, console_errors

NUMBER = re.compile(r"(-?\d+(?:\.\d+)?)%")
GD = "document.querySelector('#%s .js-plotly-plot')"


@pytest.fixture
def small_app(monkeypatch, resources):
    """An app whose /compare page measures on the test's coarse grids (patched before it is built)."""
    for k, v in SMALL.items():
        monkeypatch.setattr(compare, k, v)
    app = create_app(resources)
    assert app.states_["/compare"].summary["resolution"] == SMALL["RESOLUTION"]
    return app


def percent(cell: str) -> float:
    m = NUMBER.search(cell)
    assert m, cell
    return float(m.group(1))


def plot(dash_duo, graph_id: str, expr: str):
    return dash_duo.driver.execute_script(f"const gd = {GD % graph_id}; return gd ? {expr} : null;")


def test_compare_page_measures_every_model(dash_duo, small_app, resources):
    truth = workspace_fooling_rates(resources.workspace, Rs=compare.RS, threshold=compare.THRESHOLD,
                                    resolution=SMALL["RESOLUTION"])
    dash_duo.start_server(small_app)
    dash_duo.driver.get(dash_duo.server_url + "/compare")
    dash_duo.wait_for_element(f"#{ids.COMPARE_TABLE} tbody tr", timeout=30)

    # the table: six models, numbers equal to the library's
    rows = dash_duo.find_elements(f"#{ids.COMPARE_TABLE} tbody tr")
    assert len(rows) == 6
    seen = []
    for row in rows:
        name = row.get_attribute("class").split("row-", 1)[1].split()[0]
        seen.append(name)
        cells = [td.text for td in row.find_elements(By.TAG_NAME, "td")]
        assert cells[0] == compare.LABELS[name]
        m = truth["models"][name]
        for i, R in enumerate(compare.RS, start=1):
            assert percent(cells[i]) == pytest.approx(100 * m[f"R{R:g}"], abs=0.0051)
        assert percent(cells[5]) == pytest.approx(100 * m["max_confidence"], abs=0.0051)
        if m["flagged_by_density"] is None:
            assert cells[6] == "n/a"
        else:
            assert percent(cells[6]) == pytest.approx(100 * m["flagged_by_density"], abs=0.0051)
    assert seen == list(compare.MODELS)
    assert f"{SMALL['RESOLUTION']} × {SMALL['RESOLUTION']}" in dash_duo.find_element(f"#{ids.COMPARE_TEXT}").text

    # the curves: every model on one chart
    until(lambda: (plot(dash_duo, ids.COMPARE_CURVES, "gd.data.length") or 0) >= 6, timeout=20)
    names = plot(dash_duo, ids.COMPARE_CURVES, "gd.data.map(t => t.name)")
    for name in compare.MODELS:
        assert compare.LABELS[name] in names

    # the density map follows the model chosen
    note = f"#{ids.COMPARE_DENSITY_NOTE}"
    dash_duo.wait_for_contains_text(note, compare.LABELS[compare.DEFAULT_MODEL], timeout=20)
    assert plot(dash_duo, ids.COMPARE_DENSITY, "gd.layout.xaxis.title.text") == "hidden unit 1"
    click_option(dash_duo, ids.COMPARE_MODEL, compare.LABELS["logistic"])
    dash_duo.wait_for_contains_text(note, compare.LABELS["logistic"], timeout=20)
    until(lambda: plot(dash_duo, ids.COMPARE_DENSITY, "gd.layout.uirevision")
                        == "compare-density-logistic-disc", timeout=20)
    assert plot(dash_duo, ids.COMPARE_DENSITY, "gd.layout.xaxis.title.text") == "petal length (cm)"
    shown = dash_duo.find_element(note).text
    threshold, share, flagged = (float(v) for v in NUMBER.findall(shown)[:3])
    assert threshold == 100 * compare.THRESHOLD
    assert share == pytest.approx(100 * truth["models"]["logistic"]["R10"], abs=0.0051)
    assert flagged == pytest.approx(100 * truth["models"]["logistic"]["flagged_by_density"], abs=0.0051)

    # and zooms to the data on request
    before = plot(dash_duo, ids.COMPARE_DENSITY, "gd.layout.yaxis.range")
    click_option(dash_duo, ids.COMPARE_VIEW, compare.VIEWS["near"])
    until(lambda: plot(dash_duo, ids.COMPARE_DENSITY, "gd.layout.uirevision")
                        == "compare-density-logistic-near", timeout=20)
    after = plot(dash_duo, ids.COMPARE_DENSITY, "gd.layout.yaxis.range")
    assert after[1] - after[0] < (before[1] - before[0]) / 2
    assert console_errors(dash_duo) == []
