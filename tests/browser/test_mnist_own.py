"""/mnist's "Your own digit" in a real browser: a stroke drawn with real pointer events is a 1,
an uploaded held-out digit gets the library's prediction, the walk slider (keyboard) walks it
out as :func:`fooling.walk.walk` does, every bad upload gets a message in the card (never the
error banner) and keeps the digit there was, and the exports re-propagate to what they say."""

from __future__ import annotations

import base64
import io
import json
import os
import re
import struct
import time
import zlib
from pathlib import Path

import numpy as np
from PIL import Image
from selenium.webdriver.common.keys import Keys

from app import ids
from app.pages.mnist.own import PAD_SHOWS, PAD_TITLE
from fooling.digits import decode_digit, encode_digit
from fooling.network import forward
from fooling.uploads import digit_from_data_url
from fooling.walk import walk
from tests.browser.conftest import console_errors, digit_pixels, emit_click, marker
from tests.browser.test_mnist import PRED, open_page, wait_for_prediction
from tests.conftest import shown_value

OWN = f"#{ids.MNIST_OWN_RESULT}"
CHANGE = re.compile(r"pixel change: L2 (\d+\.\d{3}), largest (\d+\.\d{3})")
SHOTS = os.environ.get("FOOLING_SCREENSHOT_DIR")
"""Where to save screenshots of the card after a walk (none when unset)."""

STORE = """
const s = window.store && window.store.getState(), p = s && s.paths.strs[arguments[0]];
if (!p) { return null; }
let node = s.layout;
for (const k of p) { node = node[k]; }
return node && node.props && node.props.data !== undefined ? node.props.data : null;
"""
"""A dcc.Store's data, as the page's renderer holds it."""

RECORD_BODIES = """
if (!window.__bodies) {
    window.__bodies = [];
    const f = window.fetch;
    window.fetch = function (u, o) {
        window.__bodies.push(o && typeof o.body === 'string' ? o.body.length : 0);
        return f.apply(this, arguments);
    };
}
"""


def store(dash_duo, store_id: str):
    return dash_duo.driver.execute_script(STORE, store_id)


def own_text(dash_duo) -> str:
    return dash_duo.find_element(OWN).text


def wait_own(dash_duo, pred, what: str, timeout: float = 20) -> str:
    end = time.time() + timeout
    text = own_text(dash_duo)
    while time.time() < end:
        text = own_text(dash_duo)
        if pred(text):
            return text
        time.sleep(0.1)
    raise AssertionError(f"{what}: the card reads {text!r}")


def own_prediction(text: str) -> tuple[str, float]:
    m = PRED.search(text)
    assert m, text
    return m.group(1), float(m.group(2).lstrip(">"))


def pad_levels(dash_duo) -> np.ndarray:
    """The drawing pad's 28x28 grey levels (0-255, row order), read at each 10x10 block's centre."""
    return np.array(dash_duo.driver.execute_script("""
        const cv = document.getElementById(arguments[0]), d = cv.getContext('2d').getImageData(0, 0, 280, 280).data;
        const out = [];
        for (let r = 0; r < 28; r++) for (let c = 0; c < 28; c++) out.push(d[4 * ((10 * r + 5) * 280 + 10 * c + 5)]);
        return out;""", ids.MNIST_DRAW), dtype=float)


def own_pixels(dash_duo) -> np.ndarray:
    """The own-digit picture's pixels, in row order (top row first)."""
    px = digit_pixels(dash_duo, ids.MNIST_OWN_IMAGE)
    assert px is not None, "the own digit's image never drew"
    return px.ravel()


def banner_closed(dash_duo) -> bool:
    el = dash_duo.find_element(f"#{ids.ERROR}")
    return "show" not in (el.get_attribute("class") or "") and el.text.strip() == ""


def as_link(x: np.ndarray) -> np.ndarray:
    """A digit as the page keeps it (8-bit grey levels, its link's code)."""
    return decode_digit(encode_digit(x))


def predict(model, x: np.ndarray) -> tuple[int, float]:
    p = forward(model.net, x)
    k = int(np.argmax(p))
    return int(model.net.classes[k]), float(p[k])


def upload(dash_duo, path: Path) -> None:
    dash_duo.find_element(f"#{ids.MNIST_UPLOAD} input[type=file]").send_keys(str(path))


def scroll_to(dash_duo, selector: str):
    el = dash_duo.find_element(selector)
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", el)
    time.sleep(0.2)
    return el


def mouse(dash_duo, kind: str, x: float, y: float, **extra) -> None:
    dash_duo.driver.execute_cdp_cmd("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y, **extra})


def stroke(dash_duo, points) -> None:
    """Press the left button at the first point, move through the rest, release at the last."""
    (x0, y0), *rest = points
    mouse(dash_duo, "mouseMoved", x0, y0)
    mouse(dash_duo, "mousePressed", x0, y0, button="left", buttons=1, clickCount=1)
    for x, y in rest:
        mouse(dash_duo, "mouseMoved", x, y, button="left", buttons=1)
    x1, y1 = points[-1]
    mouse(dash_duo, "mouseReleased", x1, y1, button="left", buttons=0, clickCount=1)


def touch_stroke(dash_duo, points) -> None:
    """A finger down at the first point, dragged through the rest, lifted."""
    def touch(kind, pts):
        dash_duo.driver.execute_cdp_cmd("Input.dispatchTouchEvent", {"type": kind, "touchPoints": pts})

    (x0, y0), *rest = points
    touch("touchStart", [{"x": x0, "y": y0}])
    for x, y in rest:
        touch("touchMove", [{"x": x, "y": y}])
    touch("touchEnd", [])


def pad_rect(dash_duo) -> dict:
    scroll_to(dash_duo, f"#{ids.MNIST_DRAW}")
    return dash_duo.driver.execute_script(
        "const r = document.getElementById(arguments[0]).getBoundingClientRect();"
        "return {left: r.left, top: r.top, width: r.width, height: r.height};", ids.MNIST_DRAW)


def pad_ink(dash_duo) -> np.ndarray:
    """The pad's pixels (grey, 0 black to 255 white), as drawn."""
    url = dash_duo.driver.execute_script("return document.getElementById(arguments[0]).toDataURL('image/png');",
                                         ids.MNIST_DRAW)
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("L"))


def digit_png(path: Path, x: np.ndarray, padding: int = 0) -> Path:
    """A held-out digit as a scanned picture: 280 x 280, dark ink on light paper (with a text
    chunk of ``padding`` random characters, to make the file that much larger)."""
    from PIL.PngImagePlugin import PngInfo

    g = np.round(255 * (1.0 - np.asarray(x, dtype=float).reshape(28, 28))).astype(np.uint8)
    info = PngInfo()
    if padding:
        info.add_text("Comment", base64.b64encode(np.random.default_rng(1).bytes(padding * 3 // 4)).decode())
    Image.fromarray(g, "L").resize((280, 280), Image.NEAREST).save(path, format="PNG", pnginfo=info)
    return path


def data_url(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()


def huge_png(path: Path, side: int = 20000) -> Path:
    """A real, complete single-colour PNG of side x side pixels (1 bit per pixel: ~50 kB)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    z = zlib.compressobj(9)
    row = b"\x00" + b"\xff" * ((side + 7) // 8)
    idat = b"".join(z.compress(row) for _ in range(side)) + z.flush()
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0))
                     + chunk(b"IDAT", idat) + chunk(b"IEND", b""))
    return path


def held_out(model, label: int) -> np.ndarray:
    """The first held-out digit of ``label`` the network gets right."""
    X, y = model.split.X_test, model.split.y_test
    for i in np.flatnonzero(y == label):
        if predict(model, X[i])[0] == label:
            return np.asarray(X[i], dtype=float)
    raise AssertionError(f"no held-out {label} is predicted right")


# ---- drawing ----------------------------------------------------------------------------------

def test_a_vertical_stroke_drawn_on_the_pad_is_a_one_and_clear_clears(dash_duo, dash_app, resources):
    m = resources.plane("identity").model
    open_page(dash_duo, dash_app)
    assert "Draw a digit in the box" in own_text(dash_duo)
    r = pad_rect(dash_duo)
    cx = r["left"] + r["width"] / 2
    ys = np.linspace(r["top"] + 0.18 * r["height"], r["top"] + 0.82 * r["height"], 25)
    stroke(dash_duo, [(cx, y) for y in ys])
    text = wait_own(dash_duo, lambda t: PRED.search(t) is not None, "no prediction after a stroke")
    label, pct = own_prediction(text)
    assert label == "1", text
    # the page's answer is the library's for the pad's own picture
    ink = pad_ink(dash_duo)
    assert ink[:, :100].max() == 0 and ink[:, 180:].max() == 0 and ink[140, 140] == 255  # one vertical band
    png = dash_duo.driver.execute_script("return document.getElementById(arguments[0]).toDataURL('image/png');",
                                         ids.MNIST_DRAW)
    x = as_link(digit_from_data_url(png, max_bytes=300_000))
    assert store(dash_duo, ids.MNIST_OWN) == {"code": encode_digit(x), "source": "drawing"}
    k, conf = predict(m, x)
    assert (str(k), f"{shown_value(conf):.2f}") == (label, f"{pct:.2f}")
    np.testing.assert_allclose(own_pixels(dash_duo), x, atol=1e-6)
    # a drawing stays on the pad as it was drawn (not replaced by its 28x28)
    assert dash_duo.find_element(f"#{ids.MNIST_DRAW}").get_attribute("title") == PAD_TITLE
    assert pad_ink(dash_duo)[140, 140] == 255 and pad_ink(dash_duo)[:, :100].max() == 0
    h = forward(m.net, x, m.hidden_layer)
    own_mark = marker(dash_duo, ids.MNIST_MAP, "own")
    assert own_mark is not None and np.allclose(own_mark, h, rtol=1e-9, atol=1e-9)

    # clear blanks the pad; the next stroke (a finger's) is a drawing of its own, not added to the first
    dash_duo.find_element(f"#{ids.MNIST_DRAW_CLEAR}").click()
    assert pad_ink(dash_duo).max() == 0
    assert dash_duo.driver.execute_script("return window.foolingDraw.strokes;") == 0
    r = pad_rect(dash_duo)
    cy = r["top"] + r["height"] / 2
    xs = np.linspace(r["left"] + 0.2 * r["width"], r["left"] + 0.8 * r["width"], 25)
    touch_stroke(dash_duo, [(x_, cy) for x_ in xs])
    assert dash_duo.driver.execute_script("return window.foolingDraw.strokes;") == 1
    ink = pad_ink(dash_duo)
    assert ink[:100].max() == 0 and ink[180:].max() == 0  # only the horizontal band: the first is gone
    png = dash_duo.driver.execute_script("return document.getElementById(arguments[0]).toDataURL('image/png');",
                                         ids.MNIST_DRAW)
    x2 = as_link(digit_from_data_url(png, max_bytes=300_000))
    end = time.time() + 20
    while time.time() < end and (store(dash_duo, ids.MNIST_OWN) or {}).get("code") != encode_digit(x2):
        time.sleep(0.1)
    assert store(dash_duo, ids.MNIST_OWN) == {"code": encode_digit(x2), "source": "drawing"}
    k2, conf2 = predict(m, x2)
    text = wait_own(dash_duo, lambda t: PRED.search(t) is not None and t != text, "no answer to the second stroke")
    assert own_prediction(text) == (str(k2), shown_value(conf2))
    assert banner_closed(dash_duo)
    assert console_errors(dash_duo) == []


# ---- an uploaded held-out digit, walked away ------------------------------------------------

def _walk_value(dash_duo) -> float:
    return float(dash_duo.find_element(f"#{ids.MNIST_WALK} [role=slider]").get_attribute("aria-valuenow"))


def _walk_checks(dash_duo, m, x: np.ndarray, t: float, previous: str) -> str:
    """The card after the slider reached ``t``: the library's walk of ``x`` by ``t``."""
    end = time.time() + 20
    while time.time() < end and abs(_walk_value(dash_duo) - t) > 1e-9:
        time.sleep(0.05)
    assert abs(_walk_value(dash_duo) - t) < 1e-9
    want = f"walked {t:g} data radii" if t > 0 else None
    text = wait_own(dash_duo, lambda s: s != previous and PRED.search(s) is not None
                    and ((want in s) if want else "walked" not in s), f"no walk to t = {t:g}")
    mv = walk(m, x, t)
    label, pct = own_prediction(text)
    assert label == str(mv.predicted) and f"{pct:.2f}" == f"{shown_value(mv.confidence):.2f}", (text, mv.confidence)
    change = CHANGE.search(text)
    if t > 0:
        assert change and change.groups() == (f"{mv.change_l2:.3f}", f"{mv.change_max:.3f}"), text
    else:
        assert change is None and text.startswith("Your digit")
    pixels = own_pixels(dash_duo)
    np.testing.assert_allclose(pixels, mv.image, rtol=1e-6, atol=1e-6)  # float32 on the wire
    walked = marker(dash_duo, ids.MNIST_MAP, "walked")
    if t > 0:
        assert walked is not None and np.allclose(walked, mv.target, rtol=1e-9, atol=1e-9)
    else:
        assert walked is None
    return text


def test_an_uploaded_held_out_digit_gets_the_librarys_answer_and_walks_away(dash_duo, dash_app, resources, tmp_path):
    m = resources.plane("identity").model
    digit = held_out(m, 2)
    path = digit_png(tmp_path / "held-out-2.png", digit, padding=400_000)  # a 0.4 MB file
    assert path.stat().st_size > 400_000
    x = as_link(digit_from_data_url(data_url(path)))  # what the page makes of that file
    k, conf = predict(m, x)
    assert k == 2

    open_page(dash_duo, dash_app)
    dash_duo.driver.execute_script(RECORD_BODIES)
    scroll_to(dash_duo, f"#{ids.MNIST_UPLOAD}")
    upload(dash_duo, path)
    text = wait_own(dash_duo, lambda t: PRED.search(t) is not None, "no prediction after the upload")
    label, pct = own_prediction(text)
    assert (label, f"{pct:.2f}") == (str(k), f"{shown_value(conf):.2f}")
    assert store(dash_duo, ids.MNIST_OWN) == {"code": encode_digit(x), "source": "upload"}
    np.testing.assert_allclose(own_pixels(dash_duo), x, atol=1e-6)
    # the pad shows the digit as the network sees it (the "before" beside the walked image)
    wait_own(dash_duo, lambda t: dash_duo.find_element(f"#{ids.MNIST_DRAW}").get_attribute("title") == PAD_SHOWS,
             "the pad never said it shows the uploaded digit")
    np.testing.assert_array_equal(pad_levels(dash_duo), np.rint(255 * x))
    h = forward(m.net, x, m.hidden_layer)
    assert np.allclose(marker(dash_duo, ids.MNIST_MAP, "own"), h, rtol=1e-9, atol=1e-9)
    assert np.allclose(marker(dash_duo, ids.MNIST_RBF_MAP, "own"), h, rtol=1e-9, atol=1e-9)

    # the walk slider, by keyboard: End is its far end
    thumb = scroll_to(dash_duo, f"#{ids.MNIST_WALK} [role=slider]")
    thumb.send_keys(Keys.END)
    text = _walk_checks(dash_duo, m, x, 10.0, text)
    label, pct = own_prediction(text)
    assert pct >= 99.0, text
    assert "not a valid image any more" in text or "still a valid image" in text
    # the export saves the walked digit: its exact pixels, pinned to the walked-to point
    dash_duo.driver.execute_cdp_cmd("Page.setDownloadBehavior",
                                    {"behavior": "allow", "downloadPath": str(dash_duo.download_path)})
    mv = walk(m, x, 10.0)
    stem = f"fooling-identity-{mv.target[0]:.4g}_{mv.target[1]:.4g}"
    record = json.loads(_download(dash_duo, ids.MNIST_EXPORT_JSON, f"{stem}.json").read_text())
    np.testing.assert_array_equal(record["image"], mv.image)
    assert record["hidden"] == [float(v) for v in mv.target] and record["predicted"] == mv.predicted
    landed = forward(m.net, np.array(record["image"]), m.hidden_layer)
    assert np.abs(landed - mv.target).max() <= 1e-6 and record["valid"] is False
    small = Image.open(_download(dash_duo, ids.MNIST_EXPORT_PNG, f"{stem}-28px.png"))
    np.testing.assert_array_equal(np.asarray(small).ravel(), np.rint(255 * np.clip(mv.image, 0, 1)))
    assert small.info.get("valid") == "false"
    assert int(small.info["clipped"]) == int(((mv.image < 0) | (mv.image > 1)).sum())
    if SHOTS:
        card = scroll_to(dash_duo, ".own-digit")
        card.screenshot(os.path.join(SHOTS, "own-walk-1280.png"))
        dash_duo.driver.set_window_size(390, 1800)
        time.sleep(1.0)
        card = scroll_to(dash_duo, ".own-digit")
        card.screenshot(os.path.join(SHOTS, "own-walk-390.png"))
        dash_duo.driver.save_screenshot(os.path.join(SHOTS, "own-walk-390-page.png"))
        dash_duo.driver.set_window_size(1280, 900)
        time.sleep(1.0)
    thumb = scroll_to(dash_duo, f"#{ids.MNIST_WALK} [role=slider]")
    thumb.send_keys(Keys.ARROW_LEFT)
    text = _walk_checks(dash_duo, m, x, 9.9, text)
    thumb.send_keys(Keys.HOME)
    text = _walk_checks(dash_duo, m, x, 0.0, text)
    thumb.send_keys(Keys.ARROW_RIGHT)
    text = _walk_checks(dash_duo, m, x, 0.1, text)
    # the file went to the server once: no walk step sends it again
    bodies = dash_duo.driver.execute_script("return window.__bodies;")
    assert sum(b > 400_000 for b in bodies) == 1 and len(bodies) >= 6, bodies
    # a drawing replaces the digit; the same file chosen again brings it back
    r = pad_rect(dash_duo)
    cx = r["left"] + r["width"] / 2
    stroke(dash_duo, [(cx, y) for y in np.linspace(r["top"] + 0.2 * r["height"], r["top"] + 0.8 * r["height"], 20)])
    end = time.time() + 20
    while time.time() < end and (store(dash_duo, ids.MNIST_OWN) or {}).get("source") != "drawing":
        time.sleep(0.1)
    assert store(dash_duo, ids.MNIST_OWN)["source"] == "drawing"
    text = wait_own(dash_duo, lambda t: PRED.search(t) is not None and "walked" not in t, "no answer to the stroke")
    scroll_to(dash_duo, f"#{ids.MNIST_UPLOAD}")
    upload(dash_duo, path)
    end = time.time() + 20
    while time.time() < end and (store(dash_duo, ids.MNIST_OWN) or {}).get("source") != "upload":
        time.sleep(0.1)
    assert store(dash_duo, ids.MNIST_OWN) == {"code": encode_digit(x), "source": "upload"}
    text = wait_own(dash_duo, lambda t: own_prediction(t) == (str(k), shown_value(conf)) if PRED.search(t)
                    else False, "the same file again: not its answer")
    assert banner_closed(dash_duo)
    assert console_errors(dash_duo) == []


# ---- bad uploads --------------------------------------------------------------------------

def _bad_files(tmp: Path, limit: int) -> list[tuple[str, Path, str]]:
    """(what, file, words the message holds)."""
    text = tmp / "notes.png"
    text.write_text("hello, this is not an image\n")
    empty = tmp / "empty.png"
    empty.write_bytes(b"")
    one = tmp / "one-pixel.png"
    Image.new("L", (1, 1), 255).save(one, format="PNG")
    gif = tmp / "animated.gif"
    frames = [Image.new("L", (40, 40), v) for v in (0, 255)]
    frames[0].save(gif, format="GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    blank = tmp / "blank.png"
    Image.new("L", (280, 280), 255).save(blank, format="PNG")
    big = tmp / "big.png"
    big.write_bytes(b"\x89PNG\r\n\x1a\n" + np.random.default_rng(0).bytes(limit + 500_000))
    huge = huge_png(tmp / "huge.png")
    assert huge.stat().st_size < 200_000
    return [("a text file named .png", text, "not a PNG, JPEG or GIF image"),
            ("a 0-byte file", empty, "empty"),
            ("a 1x1 image", one, "too small (1x1 pixels)"),
            ("a 20,000 x 20,000 PNG", huge, "too large (20,000x20,000 pixels"),
            ("an animated GIF", gif, "animated images are not accepted"),
            ("a blank picture", blank, "blank"),
            ("a file over the limit", big, f"the largest accepted is {limit / 1e6:.0f} MB")]


def test_every_bad_upload_gets_a_message_and_keeps_the_digit_there_was(dash_duo, dash_app, resources, tmp_path):
    m = resources.plane("identity").model
    limit = dash_app.states_["/mnist"].res.settings.max_upload
    good = digit_png(tmp_path / "held-out-3.png", held_out(m, 3))
    bad = _bad_files(tmp_path, limit)
    open_page(dash_duo, dash_app)
    dash_duo.driver.execute_script(RECORD_BODIES)
    scroll_to(dash_duo, f"#{ids.MNIST_UPLOAD}")
    upload(dash_duo, good)
    wait_own(dash_duo, lambda t: PRED.search(t) is not None, "no prediction after the good upload")
    kept = store(dash_duo, ids.MNIST_OWN)
    assert kept and kept["source"] == "upload"
    kept_pixels = own_pixels(dash_duo)
    kept_mark = marker(dash_duo, ids.MNIST_MAP, "own")
    for what, path, words in bad:
        before = own_text(dash_duo)
        upload(dash_duo, path)
        text = wait_own(dash_duo, lambda t: t != before and "Prediction" not in t, f"{what}: no message")
        assert words in text, (what, text)
        alert = dash_duo.find_element(f"{OWN} .alert")
        assert alert.is_displayed() and alert.text == text, what
        assert "traceback" not in text.lower() and len(text) < 300, what
        time.sleep(0.3)  # nothing else arrives
        assert own_text(dash_duo) == text, what
        assert banner_closed(dash_duo), what
        # nothing stored: the digit there was stays, on the map and in its picture
        assert store(dash_duo, ids.MNIST_OWN) == kept, what
        np.testing.assert_array_equal(own_pixels(dash_duo), kept_pixels)
        assert marker(dash_duo, ids.MNIST_MAP, "own") == kept_mark, what
    # the file over the limit never left the browser: no request carried it
    bodies = dash_duo.driver.execute_script("return window.__bodies;")
    assert max(bodies) < 4 * 300_000 // 3, bodies  # the largest went out with the good upload
    # a tap on the blank pad (press, release, no move) is no digit either, and keeps the digit
    # (the pad shows the uploaded digit, and a tap on it would draw on it: cleared first)
    scroll_to(dash_duo, f"#{ids.MNIST_DRAW_CLEAR}").click()
    assert pad_ink(dash_duo).max() == 0
    r = pad_rect(dash_duo)
    before = own_text(dash_duo)
    cx, cy = r["left"] + r["width"] / 2, r["top"] + r["height"] / 2
    stroke(dash_duo, [(cx, cy)])
    text = wait_own(dash_duo, lambda t: t != before, "a tap on the pad: no answer")
    assert "dot, not a digit" in text and dash_duo.find_element(f"{OWN} .alert").is_displayed(), text
    assert store(dash_duo, ids.MNIST_OWN) == kept
    assert banner_closed(dash_duo)
    # the slider still walks the digit that was kept
    thumb = scroll_to(dash_duo, f"#{ids.MNIST_WALK} [role=slider]")
    thumb.send_keys(Keys.ARROW_RIGHT)
    x = decode_digit(kept["code"])
    text = wait_own(dash_duo, lambda t: "walked 0.1 data radii" in t, "the kept digit does not walk")
    mv = walk(m, x, 0.1)
    assert own_prediction(text) == (str(mv.predicted), shown_value(mv.confidence))
    assert console_errors(dash_duo) == []


# ---- export -------------------------------------------------------------------------------

def _download(dash_duo, button: str, name: str, timeout: float = 20) -> Path:
    folder = Path(dash_duo.download_path)
    target = folder / name
    if target.exists():
        target.unlink()
    scroll_to(dash_duo, f"#{button}").click()
    end = time.time() + timeout
    while time.time() < end and not (target.exists() and target.stat().st_size > 0):
        time.sleep(0.1)
    assert target.exists(), f"{name} not downloaded; the folder holds {sorted(p.name for p in folder.iterdir())}"
    time.sleep(0.2)  # written in full
    return target


def test_export_of_a_pinned_point_re_propagates_to_it(dash_duo, dash_app, resources):
    open_page(dash_duo, dash_app)
    dash_duo.driver.execute_cdp_cmd("Page.setDownloadBehavior",
                                    {"behavior": "allow", "downloadPath": str(dash_duo.download_path)})
    for name, tol in (("identity", 1e-6), ("tanh", 1e-9)):
        model = resources.plane(name).model
        if name != "identity":
            radio = scroll_to(dash_duo, f"#{ids.MNIST_NETWORK} input[value='{name}']")
            radio.click()
            dash_duo.wait_for_contains_text(f"#{ids.MNIST_MAP} .gtitle", "Tanh net", timeout=20)
        x, y = (float(v) for v in model.test_hidden[7] * (1.8 if name == "identity" else 0.97))
        ref = model.inverter.invert(np.array([x, y]))
        shown = dash_duo.find_element(f"#{ids.MNIST_RESULT}").text
        emit_click(dash_duo, ids.MNIST_MAP, x, y)
        wait_for_prediction(dash_duo, str(ref.predicted), not_text=shown)
        stem = f"fooling-{name}-{x:.4g}_{y:.4g}"
        record = json.loads(_download(dash_duo, ids.MNIST_EXPORT_JSON, f"{stem}.json").read_text())
        assert record["network"] == name and record["key"] == model.key
        assert record["hidden"] == [x, y]
        image = np.array(record["image"], dtype=float)
        assert image.shape == (784,)
        np.testing.assert_array_equal(image, ref.image)  # the exact pixels
        landed = forward(model.net, image, model.hidden_layer)
        assert np.abs(landed - np.array([x, y])).max() <= tol, (name, landed, (x, y))
        proba = forward(model.net, image)
        assert record["predicted"] == int(model.net.classes[int(np.argmax(proba))]) == ref.predicted
        np.testing.assert_allclose(record["probabilities"], proba, rtol=0, atol=1e-12)
        assert record["valid"] == bool(image.min() >= 0 and image.max() <= 1)
        assert abs(record["residual"] - float(np.linalg.norm(landed - np.array([x, y])))) <= 1e-12
        levels = np.rint(255 * np.clip(image, 0, 1)).astype(np.uint8).reshape(28, 28)
        small = Image.open(_download(dash_duo, ids.MNIST_EXPORT_PNG, f"{stem}-28px.png"))
        assert small.size == (28, 28) and small.mode == "L"
        np.testing.assert_array_equal(np.asarray(small), levels)
        assert small.info.get("valid") == ("true" if record["valid"] else "false")
        large = Image.open(_download(dash_duo, ids.MNIST_EXPORT_PNG_LARGE, f"{stem}-280px.png"))
        assert large.size == (280, 280) and large.mode == "L"
        np.testing.assert_array_equal(np.asarray(large), np.repeat(np.repeat(levels, 10, 0), 10, 1))
    assert banner_closed(dash_duo)
    assert console_errors(dash_duo) == []
