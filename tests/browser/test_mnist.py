"""/mnist in a real browser: far points fool the identity net, tanh caps it, bad points get a note."""

from __future__ import annotations

import re
import time

import numpy as np
from selenium.webdriver.common.action_chains import ActionChains

from app import ids
from app.figures_mnist import decode_typed_array
from fooling.report import fooling_points
from tests.browser.conftest import console_errors, emit_click

PRED = re.compile(r"Prediction:\s*(\S+)\s*\((\d+\.\d+)%\)")
RESULT = f"#{ids.MNIST_RESULT}"


def open_page(dash_duo, dash_app):
    dash_duo.start_server(dash_app)
    dash_duo.driver.get(dash_duo.server_url + "/mnist")
    dash_duo.wait_for_element(f"#{ids.MNIST_MAP} .js-plotly-plot .heatmaplayer", timeout=20)


def wait_for_prediction(dash_duo, expected: str | None = None, *, not_text: str | None = None,
                        timeout: float = 20) -> tuple[str, float]:
    """Wait until the result shows a prediction (of ``expected`` if given); return it parsed."""
    end = time.time() + timeout
    text = ""
    while time.time() < end:
        text = dash_duo.find_element(RESULT).text
        m = PRED.search(text)
        if m and (expected is None or m.group(1) == expected) and (not_text is None or text != not_text):
            return m.group(1), float(m.group(2))
        time.sleep(0.1)
    raise AssertionError(f"no prediction {expected or ''} in the result; it reads {text!r}")


def image_pixels(dash_duo) -> np.ndarray:
    """The pixels the image graph holds, as drawn (rows bottom-up; NaN where blank)."""
    z = dash_duo.driver.execute_script(
        "return document.querySelector('#' + arguments[0] + ' .js-plotly-plot').data[0].z;", ids.MNIST_IMAGE)
    if isinstance(z, dict):
        return decode_typed_array(z).astype(float)
    return np.array([[np.nan if v is None else v for v in row] for row in z], dtype=float)


def x_range(dash_duo) -> list:
    return dash_duo.driver.execute_script(
        "return document.querySelector('#' + arguments[0] + ' .js-plotly-plot')._fullLayout.xaxis.range;",
        ids.MNIST_MAP)


def test_far_points_of_every_identity_region_are_confident_digits(dash_duo, dash_app, resources):
    m = resources.hidden_plane("identity").model
    open_page(dash_duo, dash_app)
    assert "Click anywhere" in dash_duo.find_element(RESULT).text
    assert np.isnan(image_pixels(dash_duo)).all()
    for entry in fooling_points(m):
        digit = entry["label"]
        x, y = entry["hidden"]
        emit_click(dash_duo, ids.MNIST_MAP, x, y)
        label, pct = wait_for_prediction(dash_duo, str(digit))
        ref = m.inverter.invert(np.array([x, y]))
        assert ref.predicted == digit
        assert pct >= 99 and abs(pct - 100 * ref.confidence) < 0.006
        dash_duo.wait_for_contains_text(RESULT, "Not a valid image: pixels range from", timeout=20)
        pixels = image_pixels(dash_duo)
        assert pixels.shape == (28, 28) and np.isfinite(pixels).all()
        np.testing.assert_allclose(pixels[::-1].ravel(), ref.image, rtol=1e-6, atol=1e-6)
        marker = dash_duo.driver.execute_script(
            "const d = document.querySelector('#' + arguments[0] + ' .js-plotly-plot').data;"
            "const t = d[d.length - 1]; return [t.name, t.x[0], t.y[0]];", ids.MNIST_MAP)
        assert marker == ["clicked", x, y]
    assert console_errors(dash_duo) == []


def test_tanh_bounds_the_plane_and_unreachable_points_get_a_note(dash_duo, dash_app, resources):
    inv = resources.hidden_plane("tanh").model.inverter
    open_page(dash_duo, dash_app)
    assert abs(x_range(dash_duo)[0]) > 10  # the identity plane first
    radio = dash_duo.find_element(f"#{ids.MNIST_NETWORK} input[value='tanh']")
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", radio)
    radio.click()
    end = time.time() + 20
    while time.time() < end and abs(x_range(dash_duo)[0] + 1) > 0.05:
        time.sleep(0.1)
    lo, hi = x_range(dash_duo)
    assert abs(lo + 1) < 0.05 and abs(hi - 1) < 0.05
    assert "Tanh net" in dash_duo.find_element(f"#{ids.MNIST_MAP} .gtitle").text

    emit_click(dash_duo, ids.MNIST_MAP, 0.3, -0.5)
    label, pct = wait_for_prediction(dash_duo)
    ref = inv.invert(np.array([0.3, -0.5]))
    assert label == str(ref.predicted) and abs(pct - 100 * ref.confidence) < 0.006

    emit_click(dash_duo, ids.MNIST_MAP, 1.5, 0.2)
    dash_duo.wait_for_contains_text(RESULT, "cannot reach", timeout=20)
    note = dash_duo.find_element(f"{RESULT} .alert")
    assert "alert-info" in note.get_attribute("class") and note.is_displayed()
    assert "Prediction" not in dash_duo.find_element(RESULT).text
    assert np.isnan(image_pixels(dash_duo)).all()  # no stale image beside the note
    assert console_errors(dash_duo) == []


def test_mouse_click_presets_and_valid_pixels(dash_duo, dash_app, resources):
    inv = resources.hidden_plane("identity").model.inverter
    open_page(dash_duo, dash_app)
    # one real mouse click in the middle of the map
    area = dash_duo.find_element(f"#{ids.MNIST_MAP} .nsewdrag")
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", area)
    ActionChains(dash_duo.driver).move_to_element(area).click().perform()  # the element's centre
    label, _ = wait_for_prediction(dash_duo)
    assert label in {"0", "1", "2", "3"}

    # preset far 2, then keep pixels in [0, 1]: no valid image reaches that far point
    far2 = fooling_points(resources.hidden_plane("identity").model)[2]["hidden"]
    button = [b for b in dash_duo.find_elements("button") if b.text == "far 2"][0]
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", button)
    button.click()
    label, pct = wait_for_prediction(dash_duo, "2")
    assert abs(pct - 100 * inv.invert(np.array(far2)).confidence) < 0.006
    before = dash_duo.find_element(RESULT).text
    box = dash_duo.find_element(f"#{ids.MNIST_VALID}")
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", box)
    box.click()
    dash_duo.wait_for_contains_text(RESULT, "No image with pixels in [0, 1] reaches this point", timeout=20)
    ref = inv.invert(np.array(far2), valid=True)
    label, pct = wait_for_prediction(dash_duo, str(ref.predicted), not_text=before)
    assert abs(pct - 100 * ref.confidence) < 0.006
    assert "Not a valid image" not in dash_duo.find_element(RESULT).text
    pixels = image_pixels(dash_duo)
    assert np.isfinite(pixels).all() and pixels.min() >= 0 and pixels.max() <= 1
    assert console_errors(dash_duo) == []


def test_loss_accuracy_and_samples_are_shown(dash_duo, dash_app, resources):
    open_page(dash_duo, dash_app)
    dash_duo.wait_for_element(f"#{ids.MNIST_LOSS} .js-plotly-plot .scatterlayer", timeout=20)
    names = dash_duo.driver.execute_script(
        "return document.querySelector('#' + arguments[0] + ' .js-plotly-plot').data.map(t => t.name);",
        ids.MNIST_LOSS)
    assert names == ["identity net", "tanh net"]
    dash_duo.wait_for_element(f"#{ids.MNIST_SAMPLES} .js-plotly-plot .heatmaplayer", timeout=20)
    page = dash_duo.find_element("#page-content").text
    for n in ("identity", "tanh"):
        acc = resources.hidden_plane(n).model.trained.test_accuracy
        assert f"{100 * acc:.1f}%" in page and f"{100 * resources.essay[n]['accuracy']:.0f}%" in page
    assert console_errors(dash_duo) == []
