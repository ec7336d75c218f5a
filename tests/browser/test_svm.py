"""/svm in a real browser: both predictions on a click, and linked zoom between the maps."""

from __future__ import annotations

import numpy as np
from selenium.webdriver.support.ui import WebDriverWait

from app.resources import IRIS_BOUNDS
from tests.browser.conftest import console_errors, emit_click
from tests.browser.test_iris import TIMEOUT, _gd, _library, _marker, _prediction

MAPS = ("svm-linear-map", "svm-rbf-map")


def _open(dash_duo, dash_app):
    dash_duo.start_server(dash_app)
    dash_duo.driver.get(dash_duo.server_url + "/svm")
    for graph_id in MAPS:
        dash_duo.wait_for_element(f"#{graph_id} .nsewdrag", timeout=TIMEOUT)
        dash_duo.wait_for_element(f"#{graph_id} .heatmaplayer", timeout=TIMEOUT)


def _range(dash_duo, graph_id, axis="xaxis"):
    return _gd(dash_duo, graph_id, f"gd._fullLayout.{axis}.range")


def test_click_on_the_linear_map_shows_both_predictions(dash_duo, dash_app, resources):
    _open(dash_duo, dash_app)
    emit_click(dash_duo, "svm-linear-map", 10, 10)
    WebDriverWait(dash_duo.driver, TIMEOUT).until(
        lambda _: len(dash_duo.find_elements("#svm-result .prediction")) == 2)
    assert _prediction(dash_duo, "#svm-result") == [
        _library(resources, 10, 10, "svm_linear"), _library(resources, 10, 10, "svm_rbf")]
    text = dash_duo.find_element("#svm-result").text
    assert text.index("Linear SVM") < text.index("RBF SVM")
    for graph_id in MAPS:  # the point is marked on both maps
        WebDriverWait(dash_duo.driver, TIMEOUT).until(lambda _: _marker(dash_duo, graph_id) == [10, 10])

    emit_click(dash_duo, "svm-rbf-map", -2, -6)
    dash_duo.wait_for_contains_text("#svm-result", "petal length -2.00 cm", timeout=TIMEOUT)
    assert _prediction(dash_duo, "#svm-result") == [
        _library(resources, -2, -6, "svm_linear"), _library(resources, -2, -6, "svm_rbf")]
    assert console_errors(dash_duo) == []


def test_zoom_on_one_map_moves_the_other(dash_duo, dash_app):
    _open(dash_duo, dash_app)
    wait = WebDriverWait(dash_duo.driver, TIMEOUT)
    assert np.allclose(_range(dash_duo, "svm-rbf-map"), IRIS_BOUNDS[:2])
    dash_duo.driver.execute_script(
        "Plotly.relayout(document.querySelector('#svm-linear-map .js-plotly-plot'),"
        " {'xaxis.range': [0, 5]});")
    wait.until(lambda _: np.allclose(_range(dash_duo, "svm-rbf-map"), [0, 5]))
    # and back the other way, in the form a drag or scroll sends
    dash_duo.driver.execute_script(
        "Plotly.relayout(document.querySelector('#svm-rbf-map .js-plotly-plot'),"
        " {'yaxis.range[0]': -1, 'yaxis.range[1]': 3});")
    wait.until(lambda _: np.allclose(_range(dash_duo, "svm-linear-map", "yaxis"), [-1, 3]))
    assert np.allclose(_range(dash_duo, "svm-linear-map"), [0, 5])
    # a click patches the marker only: both maps keep the zoom
    emit_click(dash_duo, "svm-linear-map", 2, 1)
    _prediction(dash_duo, "#svm-result")
    wait.until(lambda _: _marker(dash_duo, "svm-rbf-map") == [2, 1])
    for graph_id in MAPS:
        assert np.allclose(_range(dash_duo, graph_id), [0, 5])
        assert np.allclose(_range(dash_duo, graph_id, "yaxis"), [-1, 3])
    # autorange (a double click) resets both
    dash_duo.driver.execute_script(
        "Plotly.relayout(document.querySelector('#svm-linear-map .js-plotly-plot'),"
        " {'xaxis.autorange': true, 'yaxis.autorange': true});")
    wait.until(lambda _: _gd(dash_duo, "svm-rbf-map", "gd._fullLayout.xaxis.autorange") is True)
    wait.until(lambda _: np.allclose(_range(dash_duo, "svm-rbf-map"), _range(dash_duo, "svm-linear-map")))
    assert console_errors(dash_duo) == []


def test_real_drag_pans_both_maps(dash_duo, dash_app):
    from selenium.webdriver.common.action_chains import ActionChains

    _open(dash_duo, dash_app)
    wait = WebDriverWait(dash_duo.driver, TIMEOUT)
    for source, other in (MAPS, MAPS[::-1]):
        before = _range(dash_duo, source)
        drag = dash_duo.find_element(f"#{source} .nsewdrag")
        ActionChains(dash_duo.driver).move_to_element(drag).click_and_hold().pause(0.2) \
            .move_by_offset(-60, 0).pause(0.2).move_by_offset(-60, 0).release().perform()
        wait.until(lambda _: not np.allclose(_range(dash_duo, source), before))
        wait.until(lambda _: np.allclose(_range(dash_duo, other), _range(dash_duo, source)))
        assert _range(dash_duo, source)[0] > before[0]  # dragged left: the view moved right
    assert console_errors(dash_duo) == []
