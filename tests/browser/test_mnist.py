"""/mnist in a real browser: far points fool the identity net, tanh caps it, bad points get a note,
the RBF head and the reachable outline are drawn, and the null-space slider moves only the image."""

from __future__ import annotations

import re
import time

import numpy as np
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

from app import ids
from app.figures_mnist import NEAREST, decode_typed_array
from app import mnist_view as view
from app.pages import mnist
from fooling.network import forward
from fooling.reachable import nearest_reachable, reachable_polygon, support_corner
from fooling.probes import fooling_points
from tests.browser.conftest import console_errors, emit_click

PRED = re.compile(r"Prediction:\s*(\S+)\s*\((\d+\.\d+)%\)")
RBF = re.compile(r"RBF head, same hidden point:\s*(\S+)\s*\((\d+\.\d+)%\)")
LANDS = re.compile(r"re-propagates to (\([^)]*\))")
RESULT = f"#{ids.MNIST_RESULT}"
MOVED = f"#{mnist.NULL_RESULT}"


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


def trace_names(dash_duo, graph_id) -> list:
    return dash_duo.driver.execute_script(
        "return document.getElementById(arguments[0]).querySelector('.js-plotly-plot').data.map(t => t.name);",
        graph_id)


def trace(dash_duo, graph_id, name) -> list:
    """[name, x0, y0] of the trace called ``name``."""
    return dash_duo.driver.execute_script(
        "const d = document.getElementById(arguments[0]).querySelector('.js-plotly-plot').data;"
        "const t = d.find(t => t.name === arguments[1]); return [t.name, t.x[0], t.y[0]];", graph_id, name)


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

    # preset far 2, then keep pixels in [0, 1]: no valid image reaches that far point,
    # so the page shows the nearest point valid images reach, and marks it on both maps
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
    polygon = reachable_polygon(inv.A_, inv.c_, *inv.pixel_range)
    q = nearest_reachable(polygon, np.array(far2))
    ref = inv.invert(q, valid=True, ref=support_corner(inv.A_, np.array(far2) - q))
    label, pct = wait_for_prediction(dash_duo, str(ref.predicted), not_text=before)
    assert abs(pct - 100 * ref.confidence) < 0.006
    text = dash_duo.find_element(RESULT).text
    assert "Not a valid image" not in text and f"({q[0]:.4g}, {q[1]:.4g})" in text
    pixels = image_pixels(dash_duo)
    assert np.isfinite(pixels).all() and pixels.min() >= 0 and pixels.max() <= 1
    np.testing.assert_allclose(pixels[::-1].ravel(), ref.image, atol=1e-6)
    for graph_id in (ids.MNIST_MAP, ids.MNIST_RBF_MAP):
        end = time.time() + 20
        while time.time() < end and trace(dash_duo, graph_id, NEAREST)[1] is None:
            time.sleep(0.1)
        name, nx, ny = trace(dash_duo, graph_id, NEAREST)
        assert abs(nx - q[0]) < 1e-9 and abs(ny - q[1]) < 1e-9
    # a click inside the outline gets a valid image landing exactly there
    h = resources.hidden_plane("identity").model.test_hidden[4]
    emit_click(dash_duo, ids.MNIST_MAP, *h)
    dash_duo.wait_for_contains_text(RESULT, "inside the region valid images reach", timeout=20)
    ref = inv.invert(h, valid=True)
    assert ref.residual <= 1e-6
    assert f"residual {ref.residual:.2e}" in dash_duo.find_element(RESULT).text
    end = time.time() + 20
    while time.time() < end and trace(dash_duo, ids.MNIST_MAP, NEAREST)[1] is not None:
        time.sleep(0.1)
    assert trace(dash_duo, ids.MNIST_MAP, NEAREST)[1] is None  # the nearest marker is cleared
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


def test_rbf_map_and_reachable_outline_and_both_heads(dash_duo, dash_app, resources):
    open_page(dash_duo, dash_app)
    dash_duo.wait_for_element(f"#{ids.MNIST_RBF_MAP} .js-plotly-plot .heatmaplayer", timeout=20)
    for graph_id in (ids.MNIST_MAP, ids.MNIST_RBF_MAP):
        names = trace_names(dash_duo, graph_id)
        assert view.REACH_NAMES["identity"] in names and view.TYPICAL_NAME in names
        assert names[-2:] == [NEAREST, "clicked"]
    assert "RBF head" in dash_duo.find_element(f"#{ids.MNIST_RBF_MAP} .gtitle").text
    m = resources.hidden_plane("identity").model
    head = view.remedies(resources, "identity").head
    rbf_acc = head.score_images(m.split.X_test, m.split.y_test)
    assert f"identity net {100 * rbf_acc:.1f}%" in dash_duo.find_element(".accuracy-rbf").text
    assert f"identity net {100 * m.trained.test_accuracy:.1f}%" in dash_duo.find_element(".accuracy-linear").text
    # a click on the RBF map inverts the point, and both maps mark it
    for h in (m.test_hidden[5], np.array(fooling_points(m)[3]["hidden"])):
        x, y = float(h[0]), float(h[1])
        emit_click(dash_duo, ids.MNIST_RBF_MAP, x, y)
        ref = m.inverter.invert(np.array([x, y]))
        label, pct = wait_for_prediction(dash_duo, str(ref.predicted))
        end = time.time() + 20
        while time.time() < end and trace(dash_duo, ids.MNIST_MAP, "clicked")[1] != x:
            time.sleep(0.1)
        assert abs(pct - 100 * ref.confidence) < 0.006
        p = head.predict_proba(ref.hidden[None, :])[0]
        rbf = RBF.search(dash_duo.find_element(RESULT).text)
        assert rbf and rbf.group(1) == str(int(np.argmax(p))) and abs(float(rbf.group(2)) - 100 * p.max()) < 0.006
        for graph_id in (ids.MNIST_MAP, ids.MNIST_RBF_MAP):
            end = time.time() + 20
            while time.time() < end and trace(dash_duo, graph_id, "clicked")[1:] != [x, y]:
                time.sleep(0.1)
            assert trace(dash_duo, graph_id, "clicked")[1:] == [x, y]
        density = dash_duo.find_element(f"#{ids.MNIST_DENSITY}").text
        assert "Clicked point:" in density and "Image:" in density and density.count("distribution") == 2
    # zoom one map and the other follows
    dash_duo.driver.execute_script(
        "const gd = document.getElementById(arguments[0]).querySelector('.js-plotly-plot');"
        "Plotly.relayout(gd, {'xaxis.range': [-12, 20], 'yaxis.range': [-8, 16]});", ids.MNIST_MAP)
    end = time.time() + 20

    def rng():
        return dash_duo.driver.execute_script(
            "const l = document.getElementById(arguments[0]).querySelector('.js-plotly-plot')._fullLayout;"
            "return [l.xaxis.range, l.yaxis.range];", ids.MNIST_RBF_MAP)

    while time.time() < end and rng() != [[-12, 20], [-8, 16]]:
        time.sleep(0.1)
    assert rng() == [[-12, 20], [-8, 16]]
    # the tanh net: its RBF map, and an outline labelled as an estimate
    radio = dash_duo.find_element(f"#{ids.MNIST_NETWORK} input[value='tanh']")
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", radio)
    radio.click()
    dash_duo.wait_for_contains_text(f"#{ids.MNIST_RBF_MAP} .gtitle", "Tanh net: RBF head", timeout=20)
    names = trace_names(dash_duo, ids.MNIST_RBF_MAP)
    assert view.REACH_NAMES["tanh"] in names and "estimated" in view.REACH_NAMES["tanh"]
    assert view.REACH_NAMES["tanh"] in trace_names(dash_duo, ids.MNIST_MAP)
    assert console_errors(dash_duo) == []


def _slider(dash_duo) -> float:
    return float(dash_duo.find_element(f"#{ids.MNIST_NULL} [role=slider]").get_attribute("aria-valuenow"))


def test_null_slider_changes_the_image_not_the_point_or_prediction(dash_duo, dash_app, resources):
    m = resources.hidden_plane("identity").model
    open_page(dash_duo, dash_app)
    x, y = fooling_points(m)[2]["hidden"]
    emit_click(dash_duo, ids.MNIST_MAP, x, y)
    label, pct = wait_for_prediction(dash_duo, "2")
    result = dash_duo.find_element(RESULT).text
    lands = LANDS.search(result).group(1)
    before = image_pixels(dash_duo)
    thumb = dash_duo.find_element(f"#{ids.MNIST_NULL} [role=slider]")
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", thumb)
    for _ in range(10):  # ten steps of 0.1, as a keyboard user would
        thumb.send_keys(Keys.ARROW_RIGHT)
    dash_duo.wait_for_contains_text(MOVED, "t = +1.0", timeout=20)
    assert abs(_slider(dash_duo) - 1.0) < 1e-9
    end = time.time() + 20
    while time.time() < end and np.nanmax(np.abs(image_pixels(dash_duo) - before)) <= 0.1:
        time.sleep(0.1)
    after = image_pixels(dash_duo)
    assert np.abs(after - before).max() > 0.1  # the image changed
    moved = dash_duo.find_element(MOVED).text
    assert PRED.search(moved).groups() == (label, f"{pct:.2f}")  # the moved image's prediction: the same
    assert LANDS.search(moved).group(1) == lands  # ... and the same hidden point
    assert RBF.search(moved).groups() == RBF.search(result).groups()
    assert "Same hidden point, same prediction" in moved
    assert dash_duo.find_element(RESULT).text == result  # the click's result stands
    # the drawn image lands on the clicked point: re-propagate it here
    landed = forward(m.net, after[::-1].ravel(), m.hidden_layer)
    assert np.linalg.norm(landed - np.array([x, y])) < 1e-3
    # back to 0 restores the inverted image
    thumb.send_keys(Keys.HOME)
    thumb.send_keys(Keys.ARROW_RIGHT * 20)
    dash_duo.wait_for_contains_text(MOVED, "Click a point, then move the slider", timeout=20)
    end = time.time() + 20
    while time.time() < end and np.nanmax(np.abs(image_pixels(dash_duo) - before)) > 1e-6:
        time.sleep(0.1)
    np.testing.assert_allclose(image_pixels(dash_duo), before)
    # a new click resets the slider
    for _ in range(5):
        thumb.send_keys(Keys.ARROW_LEFT)
    dash_duo.wait_for_contains_text(MOVED, "t = -0.5", timeout=20)
    x0, y0 = fooling_points(m)[0]["hidden"]
    emit_click(dash_duo, ids.MNIST_MAP, x0, y0)
    wait_for_prediction(dash_duo, "0")
    end = time.time() + 20
    while time.time() < end and _slider(dash_duo) != 0:
        time.sleep(0.1)
    assert _slider(dash_duo) == 0
    dash_duo.wait_for_contains_text(MOVED, "Click a point, then move the slider", timeout=20)
    assert console_errors(dash_duo) == []
