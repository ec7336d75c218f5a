"""/mnist in a real browser: far points fool the identity net, tanh caps it, bad points get a note,
the RBF head and the reachable outline are drawn, the null-space slider moves only the image, a
real mouse click inverts the point under the mouse, and one click is one request."""

from __future__ import annotations

import re
import time

import numpy as np
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

from app import ids
from app.pages.mnist import compute
from fooling.network import forward
from fooling.reachable import nearest_reachable, reachable_polygon, support_corner
from fooling.probes import fooling_points
from tests.browser.conftest import console_errors, digit_pixels, emit_click, marker
from tests.conftest import shown_value

PRED = re.compile(r"Prediction:\s*(\S+)\s*\((>?\d+\.\d+)%\)")
RBF = re.compile(r"RBF head, same hidden point:\s*(\S+)\s*\((>?\d+\.\d+)%\)")
LANDS = re.compile(r"re-propagates to (\([^)]*\))")
RESULT = f"#{ids.MNIST_RESULT}"
MOVED = f"#{ids.MNIST_NULL_RESULT}"


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
            return m.group(1), float(m.group(2).lstrip(">"))
        time.sleep(0.1)
    raise AssertionError(f"no prediction {expected or ''} in the result; it reads {text!r}")


def image_pixels(dash_duo) -> np.ndarray:
    """The pixels the pinned image shows (rows top-down; NaN where blank)."""
    px = digit_pixels(dash_duo, ids.MNIST_IMAGE)
    assert px is not None, "the image never drew"
    return px


def trace_names(dash_duo, graph_id) -> list:
    return dash_duo.driver.execute_script(
        "return document.getElementById(arguments[0]).querySelector('.js-plotly-plot').data.map(t => t.name);",
        graph_id)


def wait_marker(dash_duo, graph_id, want, kind: str = "clicked", timeout: float = 20):
    """The ``kind`` marker drawn over ``graph_id`` once it is ``want`` (or after ``timeout``)."""
    end = time.time() + timeout
    got = marker(dash_duo, graph_id, kind)
    while time.time() < end and got != want:
        time.sleep(0.1)
        got = marker(dash_duo, graph_id, kind)
    return got


def x_range(dash_duo) -> list:
    return dash_duo.driver.execute_script(
        "return document.querySelector('#' + arguments[0] + ' .js-plotly-plot')._fullLayout.xaxis.range;",
        ids.MNIST_MAP)


def test_far_points_of_every_identity_region_are_confident_digits(dash_duo, dash_app, resources):
    m = resources.plane("identity").model
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
        assert pct >= 99 and abs(pct - shown_value(ref.confidence)) < 0.006
        dash_duo.wait_for_contains_text(RESULT, "Not a valid image: pixels range from", timeout=20)
        pixels = image_pixels(dash_duo)
        assert pixels.shape == (28, 28) and np.isfinite(pixels).all()
        np.testing.assert_allclose(pixels.ravel(), ref.image, rtol=1e-6, atol=1e-6)
        for graph_id in (ids.MNIST_MAP, ids.MNIST_RBF_MAP):  # both maps mark it
            assert wait_marker(dash_duo, graph_id, [x, y]) == [x, y]
    assert console_errors(dash_duo) == []


def test_the_image_says_its_grey_scale_and_reads_out_the_hovered_pixel(dash_duo, dash_app, resources):
    m = resources.plane("identity").model
    open_page(dash_duo, dash_app)
    x, y = fooling_points(m)[2]["hidden"]
    emit_click(dash_duo, ids.MNIST_MAP, x, y)
    wait_for_prediction(dash_duo, str(fooling_points(m)[2]["label"]))
    ref = m.inverter.invert(np.array([x, y]))
    pixels = image_pixels(dash_duo)  # (checks the canvas shows them, in grey)
    np.testing.assert_allclose(pixels.ravel(), ref.image, atol=1e-6)
    image = f"#{ids.MNIST_IMAGE}"
    # far out the pixels leave [0, 1]: the caption says what black and white stand for
    note = dash_duo.find_element(f"{image} .digit-note").text
    assert note == f"grey scale: black {ref.image.min():.2f}, white {max(1.0, ref.image.max()):.2f}", note
    assert dash_duo.find_element(f"{image} .digit-title").text == "inverted image"
    canvas = dash_duo.find_element(f"{image} canvas")
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", canvas)
    box = dash_duo.driver.execute_script(
        "const r = arguments[0].getBoundingClientRect(); return [r.left, r.top, r.width, r.height];", canvas)
    readout = f"{image} .digit-readout"
    for r, c in [(0, 0), (13, 20), (27, 5)]:
        px, py = box[0] + (c + 0.5) * box[2] / 28, box[1] + (r + 0.5) * box[3] / 28
        dash_duo.driver.execute_cdp_cmd("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": px, "y": py})
        dash_duo.wait_for_text_to_equal(readout, f"pixel ({r}, {c}): {pixels[r, c]:.3f}", timeout=10)
    dash_duo.driver.execute_cdp_cmd("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": 2, "y": 2})
    dash_duo.wait_for_text_to_equal(readout, "", timeout=10)
    assert console_errors(dash_duo) == []


def test_tanh_bounds_the_plane_and_unreachable_points_get_a_note(dash_duo, dash_app, resources):
    inv = resources.plane("tanh").model.inverter
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
    assert label == str(ref.predicted) and abs(pct - shown_value(ref.confidence)) < 0.006

    emit_click(dash_duo, ids.MNIST_MAP, 1.5, 0.2)
    dash_duo.wait_for_contains_text(RESULT, "cannot reach", timeout=20)
    note = dash_duo.find_element(f"{RESULT} .alert")
    assert "alert-info" in note.get_attribute("class") and note.is_displayed()
    assert "Prediction" not in dash_duo.find_element(RESULT).text
    assert np.isnan(image_pixels(dash_duo)).all()  # no stale image beside the note
    assert console_errors(dash_duo) == []


def test_mouse_click_presets_and_valid_pixels(dash_duo, dash_app, resources):
    inv = resources.plane("identity").model.inverter
    open_page(dash_duo, dash_app)
    # one real mouse click in the middle of the map
    area = dash_duo.find_element(f"#{ids.MNIST_MAP} .nsewdrag")
    # at once: Bootstrap makes scrolling smooth, i.e. the map would still move under the mouse
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", area)
    ActionChains(dash_duo.driver).move_to_element(area).click().perform()  # the element's centre
    label, _ = wait_for_prediction(dash_duo)
    assert label in {"0", "1", "2", "3"}

    # preset far 2, then keep pixels in [0, 1]: no valid image reaches that far point,
    # so the page shows the nearest point valid images reach, and marks it on both maps
    far2 = fooling_points(resources.plane("identity").model)[2]["hidden"]
    button = [b for b in dash_duo.find_elements("button") if b.text == "far 2"][0]
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", button)
    clicked = dash_duo.find_element(RESULT).text  # the click's answer may be a 2 as well
    button.click()
    dash_duo.wait_for_contains_text(RESULT, f"({far2[0]:.4g}, {far2[1]:.4g})", timeout=20)
    label, pct = wait_for_prediction(dash_duo, "2", not_text=clicked)
    assert abs(pct - shown_value(inv.invert(np.array(far2)).confidence)) < 0.006
    before = dash_duo.find_element(RESULT).text
    box = dash_duo.find_element(f"#{ids.MNIST_VALID}")
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", box)
    box.click()
    dash_duo.wait_for_contains_text(RESULT, "No image with pixels in [0, 1] reaches this point", timeout=20)
    polygon = reachable_polygon(inv.A_, inv.c_, *inv.pixel_range)
    q = nearest_reachable(polygon, np.array(far2))
    ref = inv.invert(q, valid=True, ref=support_corner(inv.A_, np.array(far2) - q))
    label, pct = wait_for_prediction(dash_duo, str(ref.predicted), not_text=before)
    assert abs(pct - shown_value(ref.confidence)) < 0.006
    text = dash_duo.find_element(RESULT).text
    assert "Not a valid image" not in text and f"({q[0]:.4g}, {q[1]:.4g})" in text
    pixels = image_pixels(dash_duo)
    assert np.isfinite(pixels).all() and pixels.min() >= 0 and pixels.max() <= 1
    np.testing.assert_allclose(pixels.ravel(), ref.image, atol=1e-6)
    for graph_id in (ids.MNIST_MAP, ids.MNIST_RBF_MAP):
        end = time.time() + 20
        while time.time() < end and marker(dash_duo, graph_id, "nearest") is None:
            time.sleep(0.1)
        nx, ny = marker(dash_duo, graph_id, "nearest")
        assert abs(nx - q[0]) < 1e-9 and abs(ny - q[1]) < 1e-9
        assert marker(dash_duo, graph_id) == list(far2)  # and the clicked point beside it
    # a click inside the outline gets a valid image landing exactly there
    h = resources.plane("identity").model.test_hidden[4]
    emit_click(dash_duo, ids.MNIST_MAP, *h)
    dash_duo.wait_for_contains_text(RESULT, "inside the region valid images reach", timeout=20)
    ref = inv.invert(h, valid=True)
    assert ref.residual <= 1e-6
    assert f"residual {ref.residual:.2e}" in dash_duo.find_element(RESULT).text
    assert wait_marker(dash_duo, ids.MNIST_MAP, None, "nearest") is None  # the nearest marker is cleared
    assert wait_marker(dash_duo, ids.MNIST_MAP, [float(h[0]), float(h[1])]) == [float(h[0]), float(h[1])]
    assert console_errors(dash_duo) == []


def test_loss_accuracy_and_samples_are_shown(dash_duo, dash_app, resources):
    open_page(dash_duo, dash_app)
    dash_duo.wait_for_element(f"#{ids.MNIST_LOSS} .js-plotly-plot .scatterlayer", timeout=20)
    names = dash_duo.driver.execute_script(
        "return document.querySelector('#' + arguments[0] + ' .js-plotly-plot').data.map(t => t.name);",
        ids.MNIST_LOSS)
    offered = list(dash_app.states_["/mnist"].networks)
    assert {"identity", "tanh"} <= set(offered) and names == [f"{n} net" for n in offered]
    dash_duo.wait_for_element(f"#{ids.MNIST_SAMPLES} .js-plotly-plot .heatmaplayer", timeout=20)
    page = dash_duo.find_element("#page-content").text
    for n in ("identity", "tanh"):
        acc = resources.plane(n).model.trained.test_accuracy
        assert f"{100 * acc:.1f}%" in page and f"{100 * resources.essay[n]['accuracy']:.0f}%" in page
    assert console_errors(dash_duo) == []


def test_rbf_map_and_reachable_outline_and_both_heads(dash_duo, dash_app, resources):
    open_page(dash_duo, dash_app)
    dash_duo.wait_for_element(f"#{ids.MNIST_RBF_MAP} .js-plotly-plot .heatmaplayer", timeout=20)
    for graph_id in (ids.MNIST_MAP, ids.MNIST_RBF_MAP):
        names = trace_names(dash_duo, graph_id)
        assert compute.reach_name(True) in names and compute.TYPICAL_NAME in names
        assert "clicked" not in names and "nearest reachable" not in names  # markers are drawn over the maps
    assert "RBF head" in dash_duo.find_element(f"#{ids.MNIST_RBF_MAP} .gtitle").text
    m = resources.plane("identity").model
    head = resources.plane("identity").head
    rbf_acc = head.score_images(m.split.X_test, m.split.y_test)
    assert f"identity net {100 * rbf_acc:.1f}%" in dash_duo.find_element(".accuracy-rbf").text
    assert f"identity net {100 * m.trained.test_accuracy:.1f}%" in dash_duo.find_element(".accuracy-linear").text
    # a click on the RBF map inverts the point, and both maps mark it
    for h in (m.test_hidden[5], np.array(fooling_points(m)[3]["hidden"])):
        x, y = float(h[0]), float(h[1])
        emit_click(dash_duo, ids.MNIST_RBF_MAP, x, y)
        ref = m.inverter.invert(np.array([x, y]))
        label, pct = wait_for_prediction(dash_duo, str(ref.predicted))
        wait_marker(dash_duo, ids.MNIST_MAP, [x, y])
        assert abs(pct - shown_value(ref.confidence)) < 0.006
        p = head.predict_proba(ref.hidden[None, :])[0]
        rbf = RBF.search(dash_duo.find_element(RESULT).text)
        assert rbf and rbf.group(1) == str(int(np.argmax(p))) and abs(float(rbf.group(2).lstrip(">")) - shown_value(p.max())) < 0.006
        for graph_id in (ids.MNIST_MAP, ids.MNIST_RBF_MAP):
            assert wait_marker(dash_duo, graph_id, [x, y]) == [x, y]
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
    assert compute.reach_name(False) in names and "estimated" in compute.reach_name(False)
    assert compute.reach_name(False) in trace_names(dash_duo, ids.MNIST_MAP)
    assert console_errors(dash_duo) == []


def _slider(dash_duo) -> float:
    return float(dash_duo.find_element(f"#{ids.MNIST_NULL} [role=slider]").get_attribute("aria-valuenow"))


def test_null_slider_changes_the_image_not_the_point_or_prediction(dash_duo, dash_app, resources):
    m = resources.plane("identity").model
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
    assert PRED.search(moved).groups() == PRED.search(result).groups()  # the moved image's prediction: the same
    assert LANDS.search(moved).group(1) == lands  # ... and the same hidden point
    assert RBF.search(moved).groups() == RBF.search(result).groups()
    assert "Same hidden point, same prediction" in moved
    assert dash_duo.find_element(RESULT).text == result  # the click's result stands
    # the drawn image lands on the clicked point: re-propagate it here
    landed = forward(m.net, after.ravel(), m.hidden_layer)
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


# ---- a real mouse click, and what one click costs ------------------------------------------

PLOT_GEOMETRY = """
const gd = document.querySelector('#' + arguments[0] + ' .js-plotly-plot');
const r = gd.querySelector('.nsewdrag').getBoundingClientRect();
const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
const pts = (arguments[1] || []).map(p => [xa.d2p(p[0]), ya.d2p(p[1])]);
return {left: r.left, top: r.top, width: r.width, height: r.height, xlen: xa._length, ylen: ya._length,
        xrange: xa.range.slice(), yrange: ya.range.slice(), points: pts};
"""
"""The plot area of a graph (its drag rectangle, in page pixels) and its axes; ``arguments[1]``,
data points to place in plot-area pixels (``d2p``: from the area's top-left)."""

TO_DATA = """
const gd = document.querySelector('#' + arguments[0] + ' .js-plotly-plot');
const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
return [xa.p2d(arguments[1]), ya.p2d(arguments[2])];
"""
"""Plot-area pixels (from the area's top-left) to data coordinates."""

RECORD_MOUSE = """
window.__mouse = [];
document.addEventListener('mousedown', e => window.__mouse.push([e.clientX, e.clientY]), true);
"""

CLICKED = re.compile(r"clicked \(target\) hidden point: \((\S+), (\S+)\)")


def update_requests(dash_duo) -> int:
    """How many callback requests the page has sent so far."""
    return dash_duo.driver.execute_script(
        "performance.setResourceTimingBufferSize(100000);"  # never miss one to a full buffer
        "return performance.getEntriesByType('resource')"
        ".filter(e => e.name.includes('/_dash-update-component')).length;")


def quiet_pixel(geometry, margin: float = 0.12) -> tuple[int, int]:
    """A whole pixel of the plot area, away from its edges, as far as possible from every
    held-out digit's dot (a click near a dot would pick the dot)."""
    dots = np.asarray(geometry["points"], dtype=float)
    best, where = -1.0, None
    for fx in np.linspace(margin, 1 - margin, 25):
        for fy in np.linspace(margin, 1 - margin, 25):
            p = np.array([round(fx * geometry["xlen"]), round(fy * geometry["ylen"])], dtype=float)
            d = float(np.min(np.hypot(*(dots - p).T)))
            if d > best:
                best, where = d, (int(p[0]), int(p[1]))
    assert best > 30, f"no pixel of the map is 30 px away from the data ({best:.0f} px at best)"
    return where


def real_click_checks(dash_duo, m) -> None:
    """Click a quiet pixel of the linear map with the mouse; check the point inverted is the one
    under the mouse (within a pixel's worth of data units), on both maps and in the result, and
    that the prediction is fooling's for it; one request."""
    area = dash_duo.find_element(f"#{ids.MNIST_MAP} .nsewdrag")
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", area)
    geometry = dash_duo.driver.execute_script(PLOT_GEOMETRY, ids.MNIST_MAP, m.test_hidden.tolist())
    assert abs(geometry["width"] - geometry["xlen"]) < 1 and abs(geometry["height"] - geometry["ylen"]) < 1
    px, py = quiet_pixel(geometry)
    dash_duo.driver.execute_script(RECORD_MOUSE)
    before = update_requests(dash_duo)
    shown_before = dash_duo.find_element(RESULT).text
    # selenium 4.2: the offset is from the element's top-left corner
    ActionChains(dash_duo.driver).move_to_element_with_offset(area, px, py).pause(0.2).click().perform()
    label, pct = wait_for_prediction(dash_duo, not_text=shown_before)
    # where the mouse really was (the browser's own event), in data units
    (cx, cy), = dash_duo.driver.execute_script("return window.__mouse;")
    assert abs(cx - geometry["left"] - px) <= 1 and abs(cy - geometry["top"] - py) <= 1  # the aimed pixel
    mx, my = dash_duo.driver.execute_script(TO_DATA, ids.MNIST_MAP, cx - geometry["left"], cy - geometry["top"])
    pixel_x = abs(geometry["xrange"][1] - geometry["xrange"][0]) / geometry["xlen"]
    pixel_y = abs(geometry["yrange"][1] - geometry["yrange"][0]) / geometry["ylen"]
    # the 'clicked' marker of both maps sits where the mouse was, within a pixel
    for graph_id in (ids.MNIST_MAP, ids.MNIST_RBF_MAP):
        end = time.time() + 20
        while time.time() < end and marker(dash_duo, graph_id) is None:
            time.sleep(0.1)
        x, y = marker(dash_duo, graph_id)  # (drawn at that point's pixel: marker() checks it)
        assert abs(x - mx) <= pixel_x and abs(y - my) <= pixel_y, (
            f"{graph_id}: the 'clicked' marker is at ({x:.5g}, {y:.5g}), the mouse was at ({mx:.5g}, {my:.5g}): "
            f"{abs(x - mx) / pixel_x:.2f} px and {abs(y - my) / pixel_y:.2f} px away")
    x, y = marker(dash_duo, ids.MNIST_MAP)
    # ... and so does the point the result says it inverted (printed to 4 significant digits)
    shown = CLICKED.search(dash_duo.find_element(RESULT).text)
    assert shown, dash_duo.find_element(RESULT).text
    assert f"({x:.4g}, {y:.4g})" == f"({shown.group(1)}, {shown.group(2)})"
    sx, sy = float(shown.group(1)), float(shown.group(2))
    assert abs(sx - mx) <= pixel_x + 5e-4 * abs(mx) and abs(sy - my) <= pixel_y + 5e-4 * abs(my)
    # the prediction is fooling's for that point (and for the point under the mouse)
    ref = m.inverter.invert(np.array([x, y]))
    assert label == str(ref.predicted) and abs(pct - shown_value(ref.confidence)) < 0.006
    assert m.inverter.invert(np.array([mx, my])).predicted == ref.predicted
    assert update_requests(dash_duo) - before == 1


COUNT_CLICKS = """
window.__docClicks = [];
document.addEventListener('click', e => window.__docClicks.push(e.target.tagName), false);
"""
"""Clicks that bubble up to the document (assets/plot_clicks.js stops a plot's at the plot)."""


def test_real_mouse_click_inverts_the_point_under_the_mouse(dash_duo, dash_app, resources):
    open_page(dash_duo, dash_app)
    dash_duo.driver.execute_script(COUNT_CLICKS)
    real_click_checks(dash_duo, resources.plane("identity").model)
    # the click (the browser's and plotly's synthetic one) went no further than the map: no
    # html component above it counted it in its n_clicks on the way to the request
    assert dash_duo.driver.execute_script("return window.__docClicks;") == []
    # ... while a click anywhere else bubbles as ever
    button = [b for b in dash_duo.find_elements("button") if b.text == "far 1"][0]
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", button)
    shown = dash_duo.find_element(RESULT).text
    button.click()
    assert dash_duo.driver.execute_script("return window.__docClicks;") == ["BUTTON"]
    wait_for_prediction(dash_duo, "1", not_text=shown)
    assert console_errors(dash_duo) == []


def test_real_mouse_click_on_a_zoomed_map_inverts_the_point_under_the_mouse(dash_duo, dash_app, resources):
    """Zoomed in (scroll zoom is on, and the zoom survives clicks), a click still inverts the point
    under the mouse, not some nearby point."""
    a = resources.plane("identity")
    open_page(dash_duo, dash_app)
    x0, x1, y0, y1 = a.bounds
    cx, cy, wx, wy = x0 + 0.7 * (x1 - x0), y0 + 0.3 * (y1 - y0), (x1 - x0) / 16, (y1 - y0) / 16  # 8x
    dash_duo.driver.execute_script(
        "const gd = document.getElementById(arguments[0]).querySelector('.js-plotly-plot');"
        "Plotly.relayout(gd, {'xaxis.range': [arguments[1], arguments[2]], 'yaxis.range': [arguments[3], arguments[4]]});",
        ids.MNIST_MAP, cx - wx, cx + wx, cy - wy, cy + wy)
    end = time.time() + 20
    while time.time() < end and not np.allclose(x_range(dash_duo), [cx - wx, cx + wx]):
        time.sleep(0.1)
    assert np.allclose(x_range(dash_duo), [cx - wx, cx + wx])
    time.sleep(0.5)  # the linked zoom has reached the other map
    real_click_checks(dash_duo, a.model)
    assert np.allclose(x_range(dash_duo), [cx - wx, cx + wx])  # the click kept the zoom
    assert console_errors(dash_duo) == []


def test_one_click_sends_one_request(dash_duo, dash_app, resources):
    """A click on either map is one round trip: markers, image, result and slider in one answer."""
    m = resources.plane("identity").model
    open_page(dash_duo, dash_app)
    dash_duo.wait_for_element(f"#{ids.MNIST_RBF_MAP} .js-plotly-plot .heatmaplayer", timeout=20)
    time.sleep(1.0)  # the page's own start-up requests are over
    for graph_id, entry in ((ids.MNIST_MAP, fooling_points(m)[1]), (ids.MNIST_RBF_MAP, fooling_points(m)[2])):
        x, y = (float(v) for v in entry["hidden"])
        before = update_requests(dash_duo)
        shown = dash_duo.find_element(RESULT).text
        emit_click(dash_duo, graph_id, x, y)
        wait_for_prediction(dash_duo, str(entry["label"]), not_text=shown)
        for other in (ids.MNIST_MAP, ids.MNIST_RBF_MAP):  # both maps marked ...
            assert wait_marker(dash_duo, other, [x, y]) == [x, y]
        time.sleep(1.5)  # anything the click set off has had time to go out
        assert update_requests(dash_duo) - before == 1, graph_id  # ... by one request
    # with the slider off 0, a click is still one request: the answer resets the slider, and
    # the slider's move back to 0 finds the new image drawn at 0 (no second request)
    thumb = dash_duo.find_element(f"#{ids.MNIST_NULL} [role=slider]")
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", thumb)
    thumb.send_keys(Keys.ARROW_LEFT * 5)
    dash_duo.wait_for_contains_text(MOVED, "t = -0.5", timeout=20)
    time.sleep(1.0)
    entry = fooling_points(m)[3]
    before = update_requests(dash_duo)
    shown = dash_duo.find_element(RESULT).text
    emit_click(dash_duo, ids.MNIST_MAP, *(float(v) for v in entry["hidden"]))
    wait_for_prediction(dash_duo, str(entry["label"]), not_text=shown)
    dash_duo.wait_for_contains_text(MOVED, "Click a point, then move the slider", timeout=20)
    assert _slider(dash_duo) == 0
    time.sleep(1.5)
    assert update_requests(dash_duo) - before == 1
    # ... and moving it again still moves the new point's image
    thumb.send_keys(Keys.ARROW_RIGHT * 3)
    dash_duo.wait_for_contains_text(MOVED, "t = +0.3", timeout=20)
    assert console_errors(dash_duo) == []


def test_a_press_on_a_map_restyles_nothing_and_a_drag_still_pans(dash_duo, dash_app):
    """plotly.js sets the page's cursor on the root element for each press (every element of the
    page is then restyled: about 35 ms on /mnist, twice a click); assets/drag_cursor.js keeps the
    root's inline style untouched, and the map still pans under a drag."""
    open_page(dash_duo, dash_app)
    d = dash_duo.driver
    area = dash_duo.find_element(f"#{ids.MNIST_MAP} .nsewdrag")
    d.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", area)
    time.sleep(0.3)
    r = d.execute_script("const b = arguments[0].getBoundingClientRect(); return [b.left, b.top, b.width, b.height];", area)
    x, y = r[0] + r[2] / 2, r[1] + r[3] / 2
    d.execute_script("""
        window.__rootStyle = 0;
        new MutationObserver(ms => { window.__rootStyle += ms.length; })
            .observe(document.documentElement, {attributes: true, attributeFilter: ['style']});""")
    before = x_range(dash_duo)

    def mouse(kind, px, buttons):
        d.execute_cdp_cmd("Input.dispatchMouseEvent", {"type": kind, "x": px, "y": y, "button": "left",
                                                       "buttons": buttons, "clickCount": 1})

    mouse("mouseMoved", x, 0)
    mouse("mousePressed", x, 1)
    assert d.execute_script("return document.documentElement.getAttribute('style');") in (None, "")
    for k in range(1, 7):
        mouse("mouseMoved", x + 12 * k, 1)
    mouse("mouseReleased", x + 72, 0)
    end = time.time() + 10
    while time.time() < end and x_range(dash_duo) == before:
        time.sleep(0.1)
    after = x_range(dash_duo)
    assert after != before and after[0] < before[0], (before, after)  # dragged right: the view moved left
    assert d.execute_script("return window.__rootStyle;") == 0
    assert console_errors(dash_duo) == []
