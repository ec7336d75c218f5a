"""Every view is a link, in a real browser: the copied link opened in a fresh browser state shows
the same view (result texts, markers, controls, figures), Back and Forward step through the
views, and hostile links give the default view with a short message and a clean console."""

from __future__ import annotations

import math
import time
from urllib.parse import parse_qs, urlsplit

import numpy as np
from PIL import Image
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

from app import ids, links
from app.pages.compare import compute as compare
from app.pages.mnist.own import PAD_SHOWS
from tests.browser.conftest import console_errors, digit_pixels, emit_click, marker

TIMEOUT = 20
MAPS = {"/iris": ids.IRIS_MAP, "/svm": ids.SVM_RBF_MAP, "/mnist": ids.MNIST_MAP,
        "/neurons": ids.NEURONS_EFFECTIVE, "/compare": ids.COMPARE_DENSITY}
"""The graph each page draws first: the page has rendered once it is there."""

# ---- helpers -------------------------------------------------------------------------------

def wait(dash_duo, condition, what: str, timeout: float = TIMEOUT):
    """``condition()`` once truthy (polled), else an AssertionError saying ``what``."""
    end = time.time() + timeout
    value = None
    while time.time() < end:
        try:
            value = condition()
        except Exception:  # an element replaced while read: try again
            value = None
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what} (last: {value!r}; at {dash_duo.driver.current_url[:200]})")


def query(url: str) -> dict:
    return parse_qs(urlsplit(url).query, keep_blank_values=True)


def text(dash_duo, element_id: str) -> str:
    return dash_duo.find_element(f"#{element_id}").text


def rendered(dash_duo, path: str) -> None:
    for graph in (ids.SVM_LINEAR_MAP, ids.SVM_RBF_MAP) if path == "/svm" else (MAPS[path],):
        dash_duo.wait_for_element(f"#{graph} .js-plotly-plot .nsewdrag", timeout=TIMEOUT)
        if path != "/neurons":
            dash_duo.wait_for_element(f"#{graph} .js-plotly-plot .heatmaplayer", timeout=TIMEOUT)


def open_path(dash_duo, path_and_query: str) -> None:
    dash_duo.driver.get(dash_duo.server_url + path_and_query)
    rendered(dash_duo, urlsplit(path_and_query).path)


def open_fresh(dash_duo, link: str) -> None:
    """``link`` in a fresh browser state: no cookies, no storage, a new page load (no app state in
    the page's memory survives)."""
    d = dash_duo.driver
    d.get(dash_duo.server_url + "/")
    d.delete_all_cookies()
    d.execute_script("window.sessionStorage.clear(); window.localStorage.clear();")
    d.get("about:blank")
    d.get(link)
    rendered(dash_duo, urlsplit(link).path)


def copied_link(dash_duo) -> str:
    """What the page's "link to this view" button copies (read back from the clipboard), checked
    to be the address in the address bar."""
    d = dash_duo.driver
    d.execute_cdp_cmd("Browser.grantPermissions", {
        "origin": dash_duo.server_url, "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]})
    read = "const done = arguments[arguments.length - 1]; navigator.clipboard.readText().then(done, e => done('!' + e));"
    d.execute_async_script("const done = arguments[arguments.length - 1];"
                           "navigator.clipboard.writeText('nothing yet').then(() => done(), () => done());")
    button = dash_duo.find_element(f"#{ids.COPY_LINK}")
    d.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", button)
    button.click()
    got = wait(dash_duo, lambda: (lambda t: t if t != "nothing yet" else None)(d.execute_async_script(read)),
               "the copy-link button to fill the clipboard")
    assert got == d.current_url, (got[:200], d.current_url[:200])
    return got


def click_label(dash_duo, group_id: str, label: str) -> None:
    """A real click on the option ``label`` of a radio group."""
    el = dash_duo.driver.find_element(By.XPATH, f"//*[@id='{group_id}']//label[normalize-space()='{label}']")
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", el)
    el.click()


def into_view(dash_duo, element):
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", element)
    return element


def slider(dash_duo, slider_id: str) -> float:
    return float(dash_duo.find_element(f"#{slider_id} [role=slider]").get_attribute("aria-valuenow"))


def checked(dash_duo, selector: str) -> bool:
    return dash_duo.driver.execute_script("return document.querySelector(arguments[0]).checked;", selector)


def radio(dash_duo, group_id: str) -> str:
    return dash_duo.driver.execute_script(
        "const r = document.querySelector('#' + arguments[0] + ' input:checked'); return r ? r.value : null;",
        group_id)


def pixels(dash_duo, image_id: str):
    return digit_pixels(dash_duo, image_id)


def same_pixels(a, b) -> bool:
    return a is not None and b is not None and a.shape == b.shape and np.array_equal(a, b, equal_nan=True)


def plot(dash_duo, graph_id: str, expr: str):
    return dash_duo.driver.execute_script(
        f"const gd = document.querySelector('#{graph_id} .js-plotly-plot'); return gd && gd._fullLayout ? {expr} : null;")


def shows_view(dash_duo, read, want: dict, what: str) -> None:
    """Wait until ``read(dash_duo)`` is ``want``; else fail naming what differs."""
    try:
        wait(dash_duo, lambda: read(dash_duo) == want, what)
    except AssertionError:
        got = read(dash_duo)
        raise AssertionError({k: (str(got[k])[:300], str(want[k])[:300]) for k in want if got[k] != want[k]}) from None


def no_error_banner(dash_duo) -> None:
    banner = dash_duo.find_element(f"#{ids.ERROR}")
    assert "show" not in (banner.get_attribute("class") or "").split() and banner.text.strip() == "", banner.text


def no_js_alert(dash_duo) -> None:
    try:
        alert = dash_duo.driver.switch_to.alert
    except NoAlertPresentException:
        return
    shown = alert.text
    alert.dismiss()
    raise AssertionError(f"a script ran from a link: alert({shown!r})")


# ---- 1. the copied link of each page reopens its view -----------------------------------

def test_iris_and_svm_links_reopen_the_point_and_back_forward_step_through_it(dash_duo, dash_app):
    d = dash_duo.driver
    dash_duo.start_server(dash_app)
    open_path(dash_duo, "/iris")
    assert query(d.current_url) == {}
    start = d.execute_script("return history.length")

    def probe(i):
        button = into_view(dash_duo, dash_duo.find_elements("#page-content button[id*='iris-probe']")[i])
        button.click()  # a real click
        wait(dash_duo, lambda: "x" in query(d.current_url) and "The essay" in text(dash_duo, ids.IRIS_RESULT),
             f"probe {i} to be shown and written into the address")
        return d.current_url, text(dash_duo, ids.IRIS_RESULT), marker(dash_duo, ids.IRIS_MAP)

    def shows(view, what):
        url, result, mark = view
        wait(dash_duo, lambda: d.current_url == url, f"{what}: the address {url}")
        wait(dash_duo, lambda: text(dash_duo, ids.IRIS_RESULT) == result and marker(dash_duo, ids.IRIS_MAP) == mark,
             f"{what}: the view of {url}")

    first, second = probe(0), probe(2)
    assert first[0] != second[0] and first[2] != second[2]
    # each click is one history entry: Back and Forward step through the points
    assert d.execute_script("return history.length") == start + 2
    d.back()
    shows(first, "Back")
    d.forward()
    shows(second, "Forward to the last view written")
    d.back()
    shows(first, "Back again")
    d.back()  # the page as it was opened, without a point in its link: it keeps the point it shows
    wait(dash_duo, lambda: query(d.current_url) == {}, "Back to the address without a point")
    time.sleep(0.5)
    assert text(dash_duo, ids.IRIS_RESULT) == first[1] and marker(dash_duo, ids.IRIS_MAP) == first[2]
    d.forward()
    shows(first, "Forward")
    d.forward()
    shows(second, "Forward twice")

    # a point no probe has, written exactly: the link reads back as the very same doubles
    x, y = math.e, -math.sqrt(2)
    emit_click(dash_duo, ids.IRIS_MAP, x, y)
    wait(dash_duo, lambda: query(d.current_url).get("x") == [repr(x)], "the clicked point in the address")
    assert query(d.current_url)["y"] == [repr(y)]
    wait(dash_duo, lambda: marker(dash_duo, ids.IRIS_MAP) == [x, y], "the marker at the clicked point")
    result = text(dash_duo, ids.IRIS_RESULT)
    assert "Prediction:" in result and f"{x:.2f} cm" in result
    link = copied_link(dash_duo)
    open_fresh(dash_duo, link)
    wait(dash_duo, lambda: text(dash_duo, ids.IRIS_RESULT) == result, "the link's result")
    assert marker(dash_duo, ids.IRIS_MAP) == [x, y] and d.current_url == link
    # from the opened link, a click and Back: the link's view again (the click added an entry)
    probe(1)
    d.back()
    shows((link, result, [x, y]), "Back to the opened link")
    assert console_errors(dash_duo) == []

    # /svm: both models' answers and both maps' markers
    open_path(dash_duo, "/svm")
    x, y = 6.02, -1.37
    emit_click(dash_duo, ids.SVM_RBF_MAP, x, y)
    wait(dash_duo, lambda: query(d.current_url).get("x") == [repr(x)], "the svm point in the address")
    wait(dash_duo, lambda: text(dash_duo, ids.SVM_RESULT).count("Prediction:") == 2, "both svm answers")
    result = text(dash_duo, ids.SVM_RESULT)
    link = copied_link(dash_duo)
    assert query(link) == {"x": ["6.02"], "y": ["-1.37"]}
    open_fresh(dash_duo, link)
    wait(dash_duo, lambda: text(dash_duo, ids.SVM_RESULT) == result, "the svm link's answers")
    for graph in (ids.SVM_LINEAR_MAP, ids.SVM_RBF_MAP):
        wait(dash_duo, lambda: marker(dash_duo, graph) == [x, y], f"the marker on {graph}")
    assert d.current_url == link
    no_error_banner(dash_duo)
    assert console_errors(dash_duo) == []


def _mnist_view(dash_duo) -> dict:
    """Everything /mnist shows of the pinned point's view."""
    return {"url": dash_duo.driver.current_url, "result": text(dash_duo, ids.MNIST_RESULT),
            "moved": text(dash_duo, ids.MNIST_NULL_RESULT), "null": slider(dash_duo, ids.MNIST_NULL),
            "valid": checked(dash_duo, f"#{ids.MNIST_VALID}"), "network": radio(dash_duo, ids.MNIST_NETWORK),
            "marks": {(g, k): marker(dash_duo, g, k) for g in (ids.MNIST_MAP, ids.MNIST_RBF_MAP)
                      for k in ("clicked", "nearest")},
            "pixels": pixels(dash_duo, ids.MNIST_IMAGE), "title": plot(dash_duo, ids.MNIST_MAP, "gd._fullLayout.title.text")}


def _same_mnist_view(dash_duo, want: dict, what: str) -> None:
    def same():
        got = _mnist_view(dash_duo)
        return all(got[k] == want[k] for k in want if k != "pixels") and same_pixels(got["pixels"], want["pixels"])
    try:
        wait(dash_duo, same, what)
    except AssertionError:
        got = _mnist_view(dash_duo)
        diff = {k: (got[k], want[k]) for k in want if k != "pixels" and got[k] != want[k]}
        raise AssertionError(f"{what}: differs in {diff}; pixels equal: {same_pixels(got['pixels'], want['pixels'])}")


def _null_steps(dash_duo, key, n: int, want: str) -> None:
    thumb = into_view(dash_duo, dash_duo.find_element(f"#{ids.MNIST_NULL} [role=slider]"))
    for _ in range(n):
        thumb.send_keys(key)
    dash_duo.wait_for_contains_text(f"#{ids.MNIST_NULL_RESULT}", want, timeout=TIMEOUT)


def test_mnist_links_reopen_network_point_valid_pixels_and_null_shift(dash_duo, dash_app, resources):
    d = dash_duo.driver
    dash_duo.start_server(dash_app)
    open_path(dash_duo, "/mnist")
    time.sleep(1.0)  # the page's own start (its view, shown once drawn) writes nothing in the address
    assert d.current_url == dash_duo.server_url + "/mnist"

    # identity: a preset (far 2), valid pixels (so a nearest reachable point too), null shift +0.7
    button = into_view(dash_duo, [b for b in dash_duo.find_elements("button") if b.text == "far 2"][0])
    button.click()
    wait(dash_duo, lambda: "x" in query(d.current_url) and "Prediction:" in text(dash_duo, ids.MNIST_RESULT),
         "the preset's answer")
    into_view(dash_duo, dash_duo.find_element(f"#{ids.MNIST_VALID}")).click()
    dash_duo.wait_for_contains_text(f"#{ids.MNIST_RESULT}", "No image with pixels in [0, 1] reaches", timeout=TIMEOUT)
    wait(dash_duo, lambda: query(d.current_url).get("valid") == ["1"], "valid=1 in the address")
    _null_steps(dash_duo, Keys.ARROW_RIGHT, 7, "t = +0.7")
    wait(dash_duo, lambda: query(d.current_url).get("null") == ["0.7"], "null=0.7 in the address")
    checked_view = _mnist_view(dash_duo)
    q = query(checked_view["url"])
    assert set(q) == {"net", "x", "y", "valid", "null"} and q["net"] == ["identity"]
    assert checked_view["marks"][(ids.MNIST_MAP, "nearest")] is not None and checked_view["valid"] is True
    link = copied_link(dash_duo)

    # Back steps out of the shift and the checkbox: the view before them, unchecked
    into_view(dash_duo, dash_duo.find_element(f"#{ids.MNIST_VALID}")).click()
    wait(dash_duo, lambda: "valid" not in query(d.current_url), "valid=0 written")
    unchecked_url = d.current_url
    unchecked_result = text(dash_duo, ids.MNIST_RESULT)
    d.back()
    wait(dash_duo, lambda: d.current_url == link, "Back to the checked view's address")
    _same_mnist_view(dash_duo, checked_view, "Back to the checked view")
    d.forward()
    wait(dash_duo, lambda: d.current_url == unchecked_url, "Forward to the unchecked view's address")
    wait(dash_duo, lambda: not checked(dash_duo, f"#{ids.MNIST_VALID}")
         and text(dash_duo, ids.MNIST_RESULT) == unchecked_result, "Forward to the unchecked view")

    open_fresh(dash_duo, link)
    _same_mnist_view(dash_duo, checked_view, "the identity link opened fresh")
    assert console_errors(dash_duo) == []

    # tanh: a clicked point, valid pixels, null shift -0.5
    into_view(dash_duo, dash_duo.find_element(f"#{ids.MNIST_NETWORK} input[value='tanh']")).click()
    wait(dash_duo, lambda: "Tanh" in (plot(dash_duo, ids.MNIST_MAP, "gd._fullLayout.title.text") or ""), "the tanh maps")
    x, y = 0.3, -0.5
    emit_click(dash_duo, ids.MNIST_MAP, x, y)
    wait(dash_duo, lambda: query(d.current_url).get("x") == ["0.3"], "the tanh point in the address")
    # the checkbox carries over from the identity view (the toggle leaves it): still checked, so
    # the tanh point is inverted with valid pixels (a click here would uncheck it)
    assert checked(dash_duo, f"#{ids.MNIST_VALID}")
    wait(dash_duo, lambda: query(d.current_url).get("valid") == ["1"], "valid=1 for tanh")
    _null_steps(dash_duo, Keys.ARROW_LEFT, 5, "t = -0.5")
    wait(dash_duo, lambda: query(d.current_url).get("null") == ["-0.5"], "null=-0.5 in the address")
    tanh_view = _mnist_view(dash_duo)
    assert query(tanh_view["url"])["net"] == ["tanh"] and tanh_view["network"] == "tanh"
    assert "Prediction:" in tanh_view["result"] and "Prediction:" in tanh_view["moved"]
    assert tanh_view["marks"][(ids.MNIST_MAP, "clicked")] == [x, y]
    link = copied_link(dash_duo)
    open_fresh(dash_duo, link)
    _same_mnist_view(dash_duo, tanh_view, "the tanh link opened fresh")
    no_error_banner(dash_duo)
    assert console_errors(dash_duo) == []


def _digit_png(array, path) -> str:
    """A held-out digit as a scanned 280x280 picture (dark ink on light paper), saved to ``path``."""
    g = 1.0 - np.asarray(array, dtype=float).reshape(28, 28)
    Image.fromarray(np.round(255 * g).astype(np.uint8), "L").resize((280, 280), Image.NEAREST).save(path)
    return str(path)


def _own_view(dash_duo) -> dict:
    return {"url": dash_duo.driver.current_url, "result": text(dash_duo, ids.MNIST_OWN_RESULT),
            "walk": slider(dash_duo, ids.MNIST_WALK),
            "marks": {(g, k): marker(dash_duo, g, k) for g in (ids.MNIST_MAP, ids.MNIST_RBF_MAP)
                      for k in ("own", "walked")},
            "pixels": pixels(dash_duo, ids.MNIST_OWN_IMAGE)}


def test_mnist_own_digit_and_its_walk_are_in_the_link(dash_duo, dash_app, resources, tmp_path):
    d = dash_duo.driver
    m = resources.plane("identity").model
    digit = m.split.X_test[3]
    dash_duo.start_server(dash_app)
    open_path(dash_duo, "/mnist")
    d.find_element(By.CSS_SELECTOR, f"#{ids.MNIST_UPLOAD} input[type=file]").send_keys(
        _digit_png(digit, tmp_path / "digit.png"))
    dash_duo.wait_for_contains_text(f"#{ids.MNIST_OWN_RESULT}", "Prediction:", timeout=TIMEOUT)
    wait(dash_duo, lambda: "own" in query(d.current_url), "own= in the address")
    code = query(d.current_url)["own"][0]
    assert 900 <= len(code) <= 1100, len(code)  # 784 grey levels as base64: ~1 kB

    thumb = into_view(dash_duo, dash_duo.find_element(f"#{ids.MNIST_WALK} [role=slider]"))
    for _ in range(15):
        thumb.send_keys(Keys.ARROW_RIGHT)
    dash_duo.wait_for_contains_text(f"#{ids.MNIST_OWN_RESULT}", "walked 1.5 data radii", timeout=TIMEOUT)
    wait(dash_duo, lambda: query(d.current_url).get("walk") == ["1.5"], "walk=1.5 in the address")
    view = _own_view(dash_duo)
    assert query(view["url"])["own"] == [code] and view["walk"] == 1.5
    assert view["marks"][(ids.MNIST_MAP, "own")] is not None and view["marks"][(ids.MNIST_MAP, "walked")] is not None
    assert len(view["url"]) < 4094 - 20  # fits gunicorn's request line (limit_request_line)
    link = copied_link(dash_duo)

    open_fresh(dash_duo, link)

    def same():
        got = _own_view(dash_duo)
        return all(got[k] == view[k] for k in ("url", "result", "walk", "marks")) \
            and same_pixels(got["pixels"], view["pixels"])
    try:
        wait(dash_duo, same, "the own digit's card from its link")
    except AssertionError:
        got = _own_view(dash_duo)
        raise AssertionError({k: (str(got[k])[:300], str(view[k])[:300]) for k in ("url", "result", "walk", "marks")
                              if got[k] != view[k]})
    # the pad shows the link's digit, as the network sees it
    wait(dash_duo, lambda: dash_duo.find_element(f"#{ids.MNIST_DRAW}").get_attribute("title") == PAD_SHOWS,
         "the link's digit on the pad")
    no_error_banner(dash_duo)
    assert console_errors(dash_duo) == []


def _neurons_view(dash_duo) -> dict:
    z = "gd.data[0].z"
    return {"url": dash_duo.driver.current_url, "layer": radio(dash_duo, ids.NEURONS_LAYER),
            "unit": slider(dash_duo, ids.NEURONS_UNIT), "note": text(dash_duo, ids.NEURONS_NOTE),
            "source": Select(dash_duo.find_element(f"#{ids.ATTACK_SOURCE}")).first_selected_option.get_attribute("value"),
            "target": Select(dash_duo.find_element(f"#{ids.ATTACK_TARGET}")).first_selected_option.get_attribute("value"),
            "strength": slider(dash_duo, ids.ATTACK_STRENGTH), "clip": checked(dash_duo, f"#{ids.ATTACK_CLIP}"),
            "result": text(dash_duo, ids.ATTACK_RESULT),
            "effective": plot(dash_duo, ids.NEURONS_EFFECTIVE, z), "average": plot(dash_duo, ids.NEURONS_AVERAGE, z),
            "blend": plot(dash_duo, ids.ATTACK_IMAGE, z)}


def _compare_view(dash_duo) -> dict:
    return {"url": dash_duo.driver.current_url, "model": radio(dash_duo, ids.COMPARE_MODEL),
            "view": radio(dash_duo, ids.COMPARE_VIEW), "note": text(dash_duo, ids.COMPARE_DENSITY_NOTE),
            "uirevision": plot(dash_duo, ids.COMPARE_DENSITY, "gd.layout.uirevision"),
            "y range": plot(dash_duo, ids.COMPARE_DENSITY, "gd._fullLayout.yaxis.range"),
            "x title": plot(dash_duo, ids.COMPARE_DENSITY, "gd.layout.xaxis.title.text")}


def _compare_x_range(dash_duo):
    return plot(dash_duo, ids.COMPARE_DENSITY, "gd._fullLayout.xaxis.range")


def test_neurons_and_compare_links_reopen_their_controls_and_figures(dash_duo, dash_app):
    d = dash_duo.driver
    dash_duo.start_server(dash_app)
    open_path(dash_duo, "/neurons")
    dash_duo.wait_for_contains_text(f"#{ids.ATTACK_RESULT}", "Prediction:", timeout=TIMEOUT)
    default = _neurons_view(dash_duo)
    click_label(dash_duo, ids.NEURONS_LAYER, "hidden layer 2")
    dash_duo.wait_for_contains_text(f"#{ids.NEURONS_NOTE}", "hidden layer 2, neuron 0", timeout=TIMEOUT)
    thumb = into_view(dash_duo, dash_duo.find_element(f"#{ids.NEURONS_UNIT} [role=slider]"))
    for _ in range(5):
        thumb.send_keys(Keys.ARROW_RIGHT)
    dash_duo.wait_for_contains_text(f"#{ids.NEURONS_NOTE}", "hidden layer 2, neuron 5", timeout=TIMEOUT)
    Select(into_view(dash_duo, dash_duo.find_element(f"#{ids.ATTACK_SOURCE}"))).select_by_value("3")
    Select(into_view(dash_duo, dash_duo.find_element(f"#{ids.ATTACK_TARGET}"))).select_by_value("8")
    wait(dash_duo, lambda: query(d.current_url).get("target") == ["8"], "source and target in the address")
    dash_duo.wait_for_contains_text(f"#{ids.ATTACK_RESULT}", "Prediction: 3", timeout=TIMEOUT)
    root = into_view(dash_duo, dash_duo.find_element(f"#{ids.ATTACK_STRENGTH} .dash-slider-root"))
    ActionChains(d).move_to_element(root).move_by_offset(int(0.2 * root.size["width"]), 0).click().perform()
    wait(dash_duo, lambda: 0 < slider(dash_duo, ids.ATTACK_STRENGTH) and
         query(d.current_url).get("strength") == [f"{slider(dash_duo, ids.ATTACK_STRENGTH):g}"],
         "the strength in the address")
    into_view(dash_duo, dash_duo.find_element(f"label[for={ids.ATTACK_CLIP}]")).click()
    wait(dash_duo, lambda: query(d.current_url).get("clip") == ["0"], "clip=0 in the address")
    time.sleep(0.5)  # the blend for the last control
    view = _neurons_view(dash_duo)
    q = query(view["url"])
    assert q["layer"] == ["2"] and q["neuron"] == ["5"] and q["source"] == ["3"] and q["clip"] == ["0"]
    for k in ("layer", "unit", "source", "target", "strength", "clip", "effective", "average", "blend"):
        assert view[k] != default[k], k  # every control, and every figure, away from the default
    link = copied_link(dash_duo)
    open_fresh(dash_duo, link)
    shows_view(dash_duo, _neurons_view, view, "the neurons link's view")
    no_error_banner(dash_duo)
    assert console_errors(dash_duo) == []

    open_path(dash_duo, "/compare")
    wait(dash_duo, lambda: _compare_view(dash_duo)["uirevision"], "the density map")
    click_label(dash_duo, ids.COMPARE_MODEL, compare.LABELS["svm_rbf"])
    wait(dash_duo, lambda: _compare_view(dash_duo)["uirevision"] == "compare-density-svm_rbf-disc", "the RBF SVM")
    click_label(dash_duo, ids.COMPARE_VIEW, compare.VIEWS["near"])
    wait(dash_duo, lambda: _compare_view(dash_duo)["uirevision"] == "compare-density-svm_rbf-near", "the near view")
    wait(dash_duo, lambda: query(d.current_url) == {"model": ["svm_rbf"], "view": ["near"]}, "model and view written")
    view = _compare_view(dash_duo)
    in_page_x = _compare_x_range(dash_duo)
    box = dash_app.states_["/compare"].density_maps["svm_rbf"]["views"]["near"]
    assert compare.LABELS["svm_rbf"] in view["note"] and view["x title"] == "petal length (cm)"
    link = copied_link(dash_duo)
    open_fresh(dash_duo, link)
    shows_view(dash_duo, _compare_view, view, "the compare link's view")
    # the link draws the view's box itself (equal scales: the x axis's domain narrows to it).
    # Switched in the page, the view is a Patch of the ranges, and plotly widens the x range to
    # the full width instead ([-12.5, 20] for this box): the page shows more than its link does
    x0, x1, y0, y1 = box
    assert np.allclose(view["y range"], [y0, y1]) and np.allclose(_compare_x_range(dash_duo), [x0, x1])
    assert in_page_x[0] <= x0 and in_page_x[1] >= x1
    no_error_banner(dash_duo)
    assert console_errors(dash_duo) == []


# ---- 2. hostile links ---------------------------------------------------------------------

IDLE_MNIST = "Click anywhere on either map"

HOSTILE = [
    # (link, where the message goes, what it says)
    ("/mnist?net=evil", ids.MNIST_RESULT, "'net=evil' is not one of identity, tanh"),
    ("/mnist?x=nan&y=1e309", ids.MNIST_RESULT, "'x=nan' is not a finite number; using the default. "
                                               "'y=1e309' is not a finite number"),
    ("/mnist?x=1&y=1e309", ids.MNIST_RESULT, "A link to a point needs both x and y"),
    ("/mnist?own=garbage", ids.MNIST_OWN_RESULT, "'own=garbage'"),
    ("/mnist?own=" + "A" * 5000 + "&walk=1e309", ids.MNIST_OWN_RESULT, "'own=AAAA"),
    ("/iris?x=1&x=2&y=3", ids.IRIS_RESULT, "'x' is given 2 times"),
    ("/iris?x=%ZZ&y=%E0%A4%A", ids.IRIS_RESULT, "'x=%ZZ' is not a finite number"),
    ("/iris?x=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E&y=1", ids.IRIS_RESULT, "'x=<img src=x onerror=al...'"),
    ("/svm?x=1&y=1&pad=" + "a" * (links.MAX_QUERY + 10), ids.SVM_RESULT, "That link is too long to read"),
    ("/svm?" + "&".join(f"k{i}=1" for i in range(links.MAX_KEYS + 5)), ids.SVM_RESULT, "too many parameters"),
    ("/neurons?layer=9&neuron=-1", ids.NEURONS_LINK_NOTE, "'layer=9' is outside 1 to 3"),
    ("/neurons?layer=3&neuron=40&strength=-0&clip=maybe", ids.NEURONS_LINK_NOTE, "'clip=maybe' is not 0 or 1"),
    ("/compare?model=<script>alert(1)</script>", ids.COMPARE_LINK_NOTE, "'model=<script>alert(1)</scr...'"),
    # a right-to-left override would turn the note around, a NUL hide in it: both escaped
    ("/compare?view=%00%FF%FE&model=%E2%80%AE", ids.COMPARE_LINK_NOTE,
     "'model=\\u202e' is not one of logistic"),
    ("/compare?view=%00%FF%FE", ids.COMPARE_LINK_NOTE, "'view=\\u0000\ufffd\ufffd' is not one of disc, near"),
]


def _default_view(dash_duo, path: str) -> bool:
    """The page shows its default view (nothing a bad link asked for)."""
    if path == "/mnist":
        return IDLE_MNIST in text(dash_duo, ids.MNIST_RESULT) and radio(dash_duo, ids.MNIST_NETWORK) == "identity" \
            and marker(dash_duo, ids.MNIST_MAP) is None and "Your digit" not in text(dash_duo, ids.MNIST_OWN_RESULT)
    if path in ("/iris", "/svm"):
        result = ids.IRIS_RESULT if path == "/iris" else ids.SVM_RESULT
        return "Prediction:" not in text(dash_duo, result) and marker(dash_duo, MAPS[path]) is None
    if path == "/neurons":
        return radio(dash_duo, ids.NEURONS_LAYER) in ("1", "3") and slider(dash_duo, ids.NEURONS_UNIT) == 0
    if path == "/compare":
        return radio(dash_duo, ids.COMPARE_MODEL) == compare.DEFAULT_MODEL and radio(dash_duo, ids.COMPARE_VIEW) == "disc"
    raise AssertionError(path)


def test_hostile_links_give_the_default_view_and_a_short_message(dash_duo, dash_app):
    d = dash_duo.driver
    dash_duo.start_server(dash_app)
    errors = {}
    for link, note, says in HOSTILE:
        path = urlsplit(link).path
        open_path(dash_duo, link)
        alert = f"#{note} .alert"
        wait(dash_duo, lambda: says in dash_duo.find_element(alert).text, f"{link[:60]}: a message with {says!r}")
        message = dash_duo.find_element(alert)
        assert "alert-info" in message.get_attribute("class") and message.is_displayed(), link[:60]
        assert len(message.text) < 400, message.text  # short
        wait(dash_duo, lambda: _default_view(dash_duo, path), f"{link[:60]}: the default view")
        no_error_banner(dash_duo)
        no_js_alert(dash_duo)
        errors[link[:60]] = console_errors(dash_duo)
    assert all(e == [] for e in errors.values()), {k: v for k, v in errors.items() if v}

    # neurons with layer 3 and neuron 40: the output layer has ten units, so neuron 0
    open_path(dash_duo, "/neurons?layer=3&neuron=40")
    dash_duo.wait_for_contains_text(f"#{ids.NEURONS_LINK_NOTE} .alert", "beyond layer 3", timeout=TIMEOUT)
    wait(dash_duo, lambda: radio(dash_duo, ids.NEURONS_LAYER) == "3" and slider(dash_duo, ids.NEURONS_UNIT) == 0,
         "the output layer's unit 0")

    # a 10 MB query the page itself reaches (history.pushState, then Back's popstate): refused
    # in the browser, before any request; the page stays and says so
    open_path(dash_duo, "/mnist")
    n = d.execute_script("""
        history.pushState(null, '', '/mnist?own=' + 'A'.repeat(10 * 1000 * 1000));
        window.dispatchEvent(new PopStateEvent('popstate'));
        return location.search.length;""")
    assert n > 10_000_000
    for where in (ids.MNIST_RESULT, ids.MNIST_OWN_RESULT):
        dash_duo.wait_for_contains_text(f"#{where} .alert", f"That link is too long to read ({n} characters)",
                                        timeout=TIMEOUT)
    wait(dash_duo, lambda: _default_view(dash_duo, "/mnist"), "the default view after a 10 MB query")
    # ... and the address becomes the default view's (replacing the 10 MB entry, not adding one)
    wait(dash_duo, lambda: len(d.current_url) < 200, "the 10 MB address replaced")
    assert query(d.current_url) == {"net": ["identity"]}
    no_error_banner(dash_duo)
    assert console_errors(dash_duo) == []
    # Back from there leaves the page's views: it is not caught in a loop of rewritten links
    d.back()
    wait(dash_duo, lambda: d.current_url == dash_duo.server_url + "/mnist", "Back to the address before")
    time.sleep(0.5)
    assert _default_view(dash_duo, "/mnist")

    # a link too long for the HTTP server's request line never reaches the app: the server
    # answers 414 itself (Werkzeug's limit is 64 KiB; gunicorn's limit_request_line, 4094 bytes);
    # a link over Chrome's 2 MB limit is not even sent. The server keeps serving.
    d.get(dash_duo.server_url + "/mnist?own=" + "A" * 70_000)
    wait(dash_duo, lambda: "414" in d.find_element(By.TAG_NAME, "body").text, "the server's 414")
    d.get(dash_duo.server_url + "/mnist?own=" + "A" * 10_000_000)
    dash_duo.get_logs()  # the 414 and the error page's favicon: the server's own answers, not the app's
    open_path(dash_duo, "/mnist?net=evil&x=nan&y=1")
    dash_duo.wait_for_contains_text(f"#{ids.MNIST_RESULT} .alert", "'net=evil'", timeout=TIMEOUT)
    into_view(dash_duo, dash_duo.find_element(f"#{ids.MNIST_RESULT}"))
    assert console_errors(dash_duo) == []
