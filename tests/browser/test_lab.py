"""/lab in a real browser: a link trains its network with a progress bar that advances, a far
click inverts to a confidently classified image, and the same link opened again is answered
from the store with no job; Train writes the spec into the URL, Cancel stops a job, a hostile
link falls back to the defaults, and a ten-digit map keeps ten colours apart."""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import numpy as np
import pytest

from app import create_app, ids
from app.figures import CLASS_COLORS
from tests.browser.conftest import console_errors, digit_pixels, emit_click, marker
from tests.conftest import shown_value

LINK = "/lab?digits=0,1,2,3&hidden=50,20&act=relu&solver=adam&lr=0.001&alpha=0.0001&epochs=30&seed=21"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"

RECORD_JS = """
window.__labProgress = [];
const seen = () => {
    const el = document.getElementById(arguments[0]);
    const t = el ? el.textContent : null;
    const log = window.__labProgress;
    if (t && log[log.length - 1] !== t) { log.push(t); }
};
new MutationObserver(seen).observe(document.documentElement, {childList: true, subtree: true, characterData: true});
seen();
"""


@pytest.fixture
def lab_app(monkeypatch, tmp_path, session_cache, resources):
    cache = tmp_path / "lab-cache"
    cache.mkdir()
    for f in session_cache.glob("mnist_5k*.npz"):
        shutil.copy(f, cache / f.name)
    monkeypatch.setenv("FOOLING_CACHE_DIR", str(cache))
    monkeypatch.delenv("REDIS_URL", raising=False)
    return create_app(resources)


def stats(app) -> dict:
    return app.states_["/lab"].jobs.registry.snapshot()["stats"]


def open_link(dash_duo, link: str) -> None:
    dash_duo.driver.get(dash_duo.server_url + link)
    dash_duo.driver.execute_script(RECORD_JS, ids.LAB_PROGRESS)


def wait_text(dash_duo, cid: str, words: str, timeout: float = 120) -> str:
    end = time.time() + timeout
    text = ""
    while time.time() < end:
        try:
            text = dash_duo.find_element(f"#{cid}").text
        except Exception:  # noqa: BLE001 -- not rendered yet
            text = ""
        if words in text:
            return text
        time.sleep(0.1)
    raise AssertionError(f"#{cid} never said {words!r}; it reads {text!r}")


def image_is_drawn(dash_duo) -> bool:
    px = digit_pixels(dash_duo, ids.LAB_IMAGE)
    return px is not None and np.isfinite(px).all()


def test_a_link_trains_with_progress_a_far_click_fools_it_and_a_second_open_loads_from_the_store(
        dash_duo, lab_app):
    dash_duo.start_server(lab_app)
    open_link(dash_duo, LINK)
    wait_text(dash_duo, ids.LAB_RESULT, "held-out accuracy")
    final = wait_text(dash_duo, ids.LAB_PROGRESS, "trained: 30 epochs")
    log = dash_duo.driver.execute_script("return window.__labProgress;")
    epochs = [int(m.group(1)) for t in log for m in [re.search(r"epoch (\d+)/30", t)] if m]
    assert len(set(epochs)) >= 2 and epochs == sorted(epochs), log  # it advanced while we watched
    assert re.search(r"train accuracy \d+\.\d% · held-out accuracy \d+\.\d%", dash_duo.find_element(
        f"#{ids.LAB_RESULT}").text)
    assert "final loss" in final and dash_duo.driver.current_url.endswith(LINK)
    assert stats(lab_app)["admitted"] == 1 and stats(lab_app)["done"] == 1

    # a far point of the linear map: an image the network calls a digit, confidently
    state = lab_app.states_["/lab"]
    view = state.view(state.key(view_spec(LINK)))
    far = max((p for p in view.presets if "probability" in p), key=lambda p: p["probability"])
    x, y = far["hidden"]
    emit_click(dash_duo, ids.LAB_MAP, x, y)
    text = wait_text(dash_duo, ids.LAB_INSPECT, "Prediction:", timeout=30)
    m = re.search(r"Prediction:\s*(\d)\s*\((>?\d+\.\d+)%\)", text)
    assert m and m.group(1) == str(far["predicted"]) and abs(float(m.group(2).lstrip(">")) - shown_value(far["probability"])) < 0.01
    assert image_is_drawn(dash_duo)
    for graph in (ids.LAB_MAP, ids.LAB_RBF_MAP):
        end = time.time() + 10
        while marker(dash_duo, graph) != [x, y] and time.time() < end:
            time.sleep(0.1)
        assert marker(dash_duo, graph) == [x, y]

    # the same link again: answered from the store, no job started
    before = stats(lab_app)
    open_link(dash_duo, LINK)
    wait_text(dash_duo, ids.LAB_PROGRESS, "loaded from the store")
    wait_text(dash_duo, ids.LAB_RESULT, "held-out accuracy")
    assert stats(lab_app) == before
    log = dash_duo.driver.execute_script("return window.__labProgress;")
    assert not any(re.search(r"epoch \d+/", t) for t in log), log  # no training progress at all
    assert console_errors(dash_duo) == []


def view_spec(link: str):
    from urllib.parse import urlsplit

    from fooling.lab import from_query

    spec, problems = from_query(urlsplit(link).query)
    assert not problems
    return spec


def set_input(dash_duo, cid: str, value: str) -> None:
    el = dash_duo.find_element(f"#{cid}")
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", el)
    dash_duo.clear_input(el)
    el.send_keys(value)


def click(dash_duo, selector: str) -> None:
    el = dash_duo.find_element(selector)
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", el)
    el.click()


def test_train_writes_the_url_cancel_stops_and_bad_input_starts_nothing(dash_duo, lab_app):
    dash_duo.start_server(lab_app)
    open_link(dash_duo, "/lab")
    wait_text(dash_duo, ids.LAB_PROGRESS, "press Train")
    set_input(dash_duo, ids.LAB_LR, "nan")
    click(dash_duo, f"#{ids.LAB_TRAIN}")
    assert "Allowed:" in wait_text(dash_duo, ids.LAB_MESSAGE, "Not started: lr")
    assert stats(lab_app).get("admitted", 0) == 0

    set_input(dash_duo, ids.LAB_LR, "0.002")
    set_input(dash_duo, ids.LAB_HIDDEN, "16")
    set_input(dash_duo, ids.LAB_EPOCHS, "12")
    click(dash_duo, f"#{ids.LAB_TRAIN}")
    wait_text(dash_duo, ids.LAB_PROGRESS, "trained: 12 epochs")
    url = dash_duo.driver.current_url
    assert "hidden=16" in url and "epochs=12" in url and "lr=0.002" in url, url

    # a long training, cancelled: the job is stopped, Train comes back
    set_input(dash_duo, ids.LAB_HIDDEN, "128,128,128")
    set_input(dash_duo, ids.LAB_EPOCHS, "300")
    click(dash_duo, f"#{ids.LAB_TRAIN}")
    wait_text(dash_duo, ids.LAB_PROGRESS, "epoch", timeout=60)
    assert dash_duo.find_element(f"#{ids.LAB_TRAIN}").get_attribute("disabled")
    click(dash_duo, f"#{ids.LAB_CANCEL}")
    wait_text(dash_duo, ids.LAB_PROGRESS, "Cancelled after epoch", timeout=30)
    end = time.time() + 15
    while dash_duo.find_element(f"#{ids.LAB_TRAIN}").get_attribute("disabled") and time.time() < end:
        time.sleep(0.1)
    assert not dash_duo.find_element(f"#{ids.LAB_TRAIN}").get_attribute("disabled")
    assert lab_app.states_["/lab"].jobs.registry.active() == 0

    # back to the link of the network trained before: at once, from the store
    dash_duo.driver.back()
    wait_text(dash_duo, ids.LAB_PROGRESS, "loaded from the store")

    # a hostile link: the defaults, a short message, nothing started
    before = stats(lab_app)["admitted"]
    open_link(dash_duo, "/lab?digits=0,1&digits=2,3&act=evil&lr=" + "9" * 3000)
    text = wait_text(dash_duo, ids.LAB_MESSAGE, "Not trained")
    assert "more than once" in text and len(text) < 600
    assert dash_duo.find_element(f"#{ids.LAB_HIDDEN}").get_attribute("value") == "50,20"
    assert stats(lab_app)["admitted"] == before
    assert console_errors(dash_duo) == []


def test_a_ten_digit_map_keeps_its_colours_apart(dash_duo, lab_app):
    assert len(set(CLASS_COLORS)) == 10
    dash_duo.start_server(lab_app)
    open_link(dash_duo, "/lab?digits=0,1,2,3,4,5,6,7,8,9&hidden=64,32&act=tanh&epochs=40&seed=3")
    wait_text(dash_duo, ids.LAB_RESULT, "held-out accuracy", timeout=180)
    key = dash_duo.find_element(f"#{ids.LAB_KEY}").text
    assert all(f"● {d}" in key for d in range(10)), key
    colours = dash_duo.driver.execute_script(
        "const gd = document.querySelector('#' + arguments[0] + ' .js-plotly-plot');"
        "return gd.data.filter(t => t.type === 'scatter' && t.mode === 'markers').map(t => [t.name, t.marker.color]);",
        ids.LAB_MAP)
    assert sorted(colours) == [[str(d), CLASS_COLORS[d]] for d in range(10)]
    SCREENSHOTS.mkdir(exist_ok=True)
    dash_duo.driver.execute_script("document.getElementById(arguments[0]).scrollIntoView({block: 'start'});",
                                   ids.LAB_MAP)
    time.sleep(0.5)
    dash_duo.driver.save_screenshot(str(SCREENSHOTS / "lab-10-digits.png"))
    assert console_errors(dash_duo) == []
