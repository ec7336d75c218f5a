"""/iris in a real browser: a mouse click, emitted clicks, probes, overlays and views."""

from __future__ import annotations

import re

import numpy as np
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.support.ui import WebDriverWait

from app.resources import IRIS_BOUNDS, IRIS_DATA_BOUNDS
from tests.browser.conftest import console_errors, emit_click, marker
from tests.conftest import shown_value

PREDICTION = re.compile(r"Prediction: (\w+) \((>?\d+\.\d\d)%\)")
TIMEOUT = 20


def _open(dash_duo, dash_app):
    dash_duo.start_server(dash_app)
    dash_duo.driver.get(dash_duo.server_url + "/iris")
    dash_duo.wait_for_element("#iris-map .nsewdrag", timeout=TIMEOUT)
    dash_duo.wait_for_element("#iris-map .heatmaplayer", timeout=TIMEOUT)


def _gd(dash_duo, graph_id: str, expr: str):
    return dash_duo.driver.execute_script(
        f"const gd = document.querySelector('#{graph_id} .js-plotly-plot'); return {expr};")


def _marker(dash_duo, graph_id: str = "iris-map"):
    """[x, y] of the clicked marker drawn over the map, or [None, None]."""
    return marker(dash_duo, graph_id) or [None, None]


def _prediction(dash_duo, selector: str = "#iris-result") -> list[tuple[str, float]]:
    dash_duo.wait_for_contains_text(selector, "Prediction:", timeout=TIMEOUT)
    text = dash_duo.find_element(selector).text.replace("\n", " ")
    return [(m.group(1), float(m.group(2).lstrip(">"))) for m in PREDICTION.finditer(text)]


def _library(resources, x, y, name="logistic"):
    p = resources.iris.models[name].predict_proba(np.array([[x, y]]))[0]
    k = int(np.argmax(p))
    return resources.iris.names[k], shown_value(p[k])


def test_real_mouse_click_on_the_map_shows_the_models_answer(dash_duo, dash_app, resources):
    _open(dash_duo, dash_app)
    drag = dash_duo.find_element("#iris-map .nsewdrag")
    w, h = drag.size["width"], drag.size["height"]
    # selenium 4.2: offsets from the element's top-left corner
    ActionChains(dash_duo.driver).move_to_element_with_offset(drag, int(0.8 * w), int(0.25 * h)) \
        .pause(0.3).click().perform()
    [(label, percent)] = _prediction(dash_duo)
    WebDriverWait(dash_duo.driver, TIMEOUT).until(lambda _: _marker(dash_duo)[0] is not None)
    x, y = _marker(dash_duo)
    x0, x1, y0, y1 = IRIS_BOUNDS
    # the click landed where it was aimed (within a few grid cells)
    assert abs(x - (x0 + 0.8 * (x1 - x0))) < 0.6 and abs(y - (y1 - 0.25 * (y1 - y0))) < 0.6
    assert (label, percent) == _library(resources, x, y)
    assert console_errors(dash_duo) == []


def test_far_point_is_virginica_at_near_certainty_and_probes_show_the_essay(dash_duo, dash_app, resources):
    _open(dash_duo, dash_app)
    emit_click(dash_duo, "iris-map", 10, 10)
    [(label, percent)] = _prediction(dash_duo)
    assert label == "virginica" and percent >= 99.0
    WebDriverWait(dash_duo.driver, TIMEOUT).until(lambda _: _marker(dash_duo) == [10, 10])

    buttons = dash_duo.find_elements("#page-content button[id*='iris-probe']")
    assert len(buttons) == 3
    for i, ((x, y), essay_label, essay_p) in enumerate(resources.essay["iris_probes"]):
        dash_duo.find_elements("#page-content button[id*='iris-probe']")[i].click()
        dash_duo.wait_for_contains_text("#iris-result", f"The essay: {essay_label}", timeout=TIMEOUT)
        assert _prediction(dash_duo) == [_library(resources, x, y)]
        assert f"{100 * essay_p:.1f}%" in dash_duo.find_element("#iris-result .essay").text
        WebDriverWait(dash_duo.driver, TIMEOUT).until(lambda _: _marker(dash_duo) == [x, y])
    assert console_errors(dash_duo) == []


def test_overlays_and_view_switch_patch_the_map(dash_duo, dash_app):
    _open(dash_duo, dash_app)
    emit_click(dash_duo, "iris-map", 5, -5)
    _prediction(dash_duo)
    wait = WebDriverWait(dash_duo.driver, TIMEOUT)

    def visible(name):
        return _gd(dash_duo, "iris-map", f"gd.data.find(t => t.name === {name!r}).visible")

    assert visible("P = 1/2 (boundary)") is True and visible("P = 1/3 (max. uncertainty)") is False
    switches = dash_duo.find_elements("#iris-overlays input")
    switches[1].click()  # P = 1/3 on
    wait.until(lambda _: visible("P = 1/3 (max. uncertainty)") is True)
    switches[0].click()  # P = 1/2 off
    wait.until(lambda _: visible("P = 1/2 (boundary)") is False)

    def ranges():
        return _gd(dash_duo, "iris-map", "[gd._fullLayout.xaxis.range, gd._fullLayout.yaxis.range]")

    radios = dash_duo.find_elements("#iris-view input")
    radios[1].click()  # near the data
    near = [list(IRIS_DATA_BOUNDS[:2]), list(IRIS_DATA_BOUNDS[2:])]
    wait.until(lambda _: np.allclose(ranges(), near))
    radios[0].click()  # far out
    wait.until(lambda _: np.allclose(ranges(), [list(IRIS_BOUNDS[:2]), list(IRIS_BOUNDS[2:])]))
    # patched, not rebuilt: the clicked marker is still where it was (and drawn there, in the new view)
    assert _marker(dash_duo) == [5, -5]
    assert console_errors(dash_duo) == []
