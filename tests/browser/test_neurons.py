"""/neurons in a real browser: neuron controls redraw both images; the slider flips a 7 to a 0."""

from __future__ import annotations

import re
import time

import numpy as np
import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from fooling.attacks import normalized_pattern, overlay_sweep
from fooling.network import forward
from fooling.neurons import activity_weighted_average, effective_weights
from tests.browser.conftest import WINDOW, console_errors
from tests.conftest import shown_value

PREDICTION = re.compile(r"Prediction: (\d) \((>?\d+\.\d\d)%\)")
TIMEOUT = 20
GRAPHS = ("neurons-effective", "neurons-average", "neurons-sparsity", "attack-image", "attack-curve")

Z_SUM = """
const gd = document.querySelector('#' + arguments[0] + ' .js-plotly-plot');
let total = 0, n = 0;
const walk = (a) => {
  for (const v of a) { if (typeof v === 'number') { total += v; n += 1; } else walk(v); }
};
walk(gd._fullData[0].z);  // the decoded rows plotly drew (gd.data keeps the typed-array spec)
return [total, n];
"""


@pytest.fixture(scope="module")
def sweeps(resources):
    """The default attack (7 -> 0) recomputed from the core library, clipped and not."""
    m = resources.workspace.mnist["neurons"]
    net, split = m.net, m.split
    pred = net.classes[forward(net, split.X_test).argmax(axis=1)]
    row = int(np.flatnonzero((split.y_test == 7) & (pred == 7))[0])
    pattern = normalized_pattern(effective_weights(net, 3, 0))
    return {clip: overlay_sweep(net, split.X_test[row], pattern, 0, np.linspace(0, 3, 301),
                                clip=(0.0, 1.0) if clip else None) for clip in (True, False)}


def _open(dash_duo, dash_app):
    dash_duo.start_server(dash_app)
    dash_duo.driver.set_window_size(*WINDOW)
    dash_duo.driver.get(dash_duo.server_url + "/neurons")
    dash_duo.wait_for_contains_text("#attack-result", "Prediction: 7", timeout=TIMEOUT)
    for graph in GRAPHS:  # every graph drawn, so the layout has stopped moving
        dash_duo.wait_for_element(f"#{graph} .js-plotly-plot .main-svg", timeout=TIMEOUT)


def _into_view(dash_duo, element):
    """Scroll ``element`` to the middle at once (Bootstrap makes scrolling smooth, i.e. late)."""
    dash_duo.driver.execute_script(
        "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", element)
    return element


def _z(dash_duo, graph_id):
    total, n = dash_duo.driver.execute_script(Z_SUM, graph_id)
    assert n == 784
    return total


def _wait_for_z(dash_duo, graph_id, want, timeout=TIMEOUT):
    end = time.time() + timeout
    while time.time() < end:
        if abs(_z(dash_duo, graph_id) - want) < 1e-3 * max(1.0, abs(want)):
            return
        time.sleep(0.1)
    raise AssertionError(f"{graph_id}: sum of z is {_z(dash_duo, graph_id)}, expected {want}")


def _prediction(dash_duo):
    label, pct = PREDICTION.search(dash_duo.find_element("#attack-result").text).groups()
    return label, float(pct.lstrip(">"))  # '>99.99' reads as 99.99, as shown_value says


def _slider_value(dash_duo, slider_id):
    return float(dash_duo.find_element(f"#{slider_id} [role=slider]").get_attribute("aria-valuenow"))


def test_layer_and_unit_redraw_both_images(dash_duo, dash_app, resources):
    m = resources.workspace.mnist["neurons"]
    net, X = m.net, m.split.X_train

    def want(layer, unit):
        return (float(effective_weights(net, layer, unit).sum()),
                float(activity_weighted_average(net, X, layer, unit).sum()))

    _open(dash_duo, dash_app)
    eff0, avg0 = _z(dash_duo, "neurons-effective"), _z(dash_duo, "neurons-average")
    assert (eff0, avg0) == pytest.approx(want(1, 0), rel=1e-4)

    dash_duo.driver.find_element(
        By.XPATH, "//*[@id='neurons-layer']//label[normalize-space()='hidden layer 2']").click()
    dash_duo.wait_for_contains_text("#neurons-note", "hidden layer 2, neuron 0", timeout=TIMEOUT)
    e, a = want(2, 0)
    _wait_for_z(dash_duo, "neurons-effective", e)
    _wait_for_z(dash_duo, "neurons-average", a)
    assert abs(e - eff0) > 1e-3 and abs(a - avg0) > 1e-3

    thumb = dash_duo.find_element("#neurons-unit [role=slider]")
    thumb.click()
    for _ in range(3):
        thumb.send_keys(Keys.ARROW_RIGHT)
    dash_duo.wait_for_contains_text("#neurons-note", "hidden layer 2, neuron 3", timeout=TIMEOUT)
    e3, a3 = want(2, 3)
    _wait_for_z(dash_duo, "neurons-effective", e3)
    _wait_for_z(dash_duo, "neurons-average", a3)

    dash_duo.driver.find_element(
        By.XPATH, "//*[@id='neurons-layer']//label[normalize-space()='output (digits)']").click()
    dash_duo.wait_for_contains_text("#neurons-note", "output (digits), digit 3", timeout=TIMEOUT)
    _wait_for_z(dash_duo, "neurons-effective", want(3, 3)[0])
    assert dash_duo.find_element("#neurons-unit [role=slider]").get_attribute("aria-valuemax") == "9"
    dash_duo.wait_for_contains_text("#neurons-sparsity-note", "of the 10 units", timeout=TIMEOUT)
    assert console_errors(dash_duo) == []


def test_strength_slider_flips_a_seven_into_a_zero(dash_duo, dash_app, sweeps):
    sweep = sweeps[True]
    assert sweep.flip_strength is not None
    _open(dash_duo, dash_app)
    assert _prediction(dash_duo) == ("7", pytest.approx(shown_value(sweep.confidence[0]), abs=0.006))

    # a real click on the rail, a little past the flip strength
    goal = min(sweep.flip_strength + 0.4, 2.9)
    root = _into_view(dash_duo, dash_duo.find_element("#attack-strength .dash-slider-root"))
    dx = int(goal / 3.0 * root.size["width"] - root.size["width"] / 2)  # from the rail's centre
    ActionChains(dash_duo.driver).move_to_element(root).move_by_offset(dx, 0).click().perform()
    dash_duo.wait_for_contains_text("#attack-result", "Prediction: 0", timeout=TIMEOUT)
    v = _slider_value(dash_duo, "attack-strength")
    i = int(round(v * 100))
    assert v >= sweep.flip_strength and abs(v - goal) < 0.2
    label, pct = _prediction(dash_duo)
    assert label == str(sweep.predicted[i]) == "0"
    assert pct == pytest.approx(shown_value(sweep.confidence[i]), abs=0.006)
    assert f"{100 * sweep.target_proba[i]:.2f}%" in dash_duo.find_element("#attack-result .target-proba").text
    cursor = dash_duo.driver.execute_script(
        "const gd = document.querySelector('#attack-curve .js-plotly-plot');"
        "return gd.layout.shapes.map(s => s.x0);")
    assert cursor == pytest.approx([sweep.flip_strength, v])

    # keyboard on the handle: Home = 0 (back to a 7), End = 3
    thumb = dash_duo.find_element("#attack-strength [role=slider]")
    thumb.send_keys(Keys.HOME)
    dash_duo.wait_for_contains_text("#attack-result", "Prediction: 7", timeout=TIMEOUT)
    assert _slider_value(dash_duo, "attack-strength") == 0
    thumb.send_keys(Keys.END)
    dash_duo.wait_for_contains_text("#attack-result", f"Prediction: {sweep.predicted[-1]}", timeout=TIMEOUT)
    assert _prediction(dash_duo)[1] == pytest.approx(shown_value(sweep.confidence[-1]), abs=0.006)
    assert console_errors(dash_duo) == []


def test_clip_switch_changes_the_flip_strength(dash_duo, dash_app, sweeps):
    _open(dash_duo, dash_app)
    dash_duo.wait_for_contains_text("#attack-result", f"Flip strength {sweeps[True].flip_strength:.2f}",
                                    timeout=TIMEOUT)
    _into_view(dash_duo, dash_duo.find_element("label[for=attack-clip]")).click()
    dash_duo.wait_for_contains_text("#attack-result", f"Flip strength {sweeps[False].flip_strength:.2f}",
                                    timeout=TIMEOUT)
    assert console_errors(dash_duo) == []


def test_phone_width_does_not_scroll_sideways(dash_duo, dash_app):
    dash_duo.start_server(dash_app)
    dash_duo.driver.set_window_size(390, 844)
    dash_duo.driver.get(dash_duo.server_url + "/neurons")
    dash_duo.wait_for_contains_text("#attack-result", "Prediction: 7", timeout=TIMEOUT)
    time.sleep(0.5)
    wide, client = dash_duo.driver.execute_script(
        "return [document.documentElement.scrollWidth, document.documentElement.clientWidth];")
    assert wide <= client
    assert console_errors(dash_duo) == []
