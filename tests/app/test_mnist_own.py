"""/mnist's own digit (drawing, upload, walk, link), the image export and the live preview's data."""
from __future__ import annotations

import base64
import io
import json
import math

import numpy as np
import pytest
from dash import no_update
from PIL import Image

from app import ids
from app.components import percent
from app.pages.mnist.callbacks import update_from_link
from app.pages.mnist.own_callbacks import OWN_OUTPUTS, update_export, update_own
from app.pages.mnist.preview import hover_data, preview
from fooling.digits import decode_digit, encode_digit
from fooling.export import verify_record
from fooling.network import forward
from fooling.walk import trace_ray, walk
from tests.app.test_mnist import alerts, drawn, text_of


@pytest.fixture(scope="module")
def state(mnist_state):
    return mnist_state


def own(state, trigger, network="identity", **kw) -> dict:
    out = update_own(state, trigger, network=network, **kw)
    assert isinstance(out, tuple) and len(out) == len(OWN_OUTPUTS)
    return dict(zip(OWN_OUTPUTS, out))


def png_url(array: np.ndarray, *, dark_on_light=True, scale=10, mode="L") -> str:
    """A held-out digit as a scanned picture: enlarged, dark ink on light paper."""
    g = np.asarray(array, dtype=float).reshape(28, 28)
    if dark_on_light:
        g = 1.0 - g
    im = Image.fromarray(np.round(255 * g).astype(np.uint8), "L").resize((28 * scale, 28 * scale), Image.NEAREST)
    if mode != "L":
        im = im.convert(mode)
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def test_an_uploaded_held_out_digit_gets_the_librarys_prediction(state):
    v = state.view("identity")
    X = v.model.split.X_test
    for i in (0, 1, 5, 11):
        out = own(state, "upload", upload=png_url(X[i]))
        assert out["own"]["source"] == "upload" and isinstance(out["own"]["code"], str)
        x = decode_digit(out["own"]["code"])
        expected = v.model.net.classes[int(np.argmax(forward(v.model.net, x)))]
        assert f"Prediction: {expected} (" in text_of(out["result"]).replace("  ", " ").replace("Prediction:  ", "Prediction: ")
        np.testing.assert_allclose(drawn(out["image"]), x, atol=1e-6)  # the image is the digit itself
        ray = trace_ray(v.model, x)
        assert out["marks"] == {"own": [float(ray.start[0]), float(ray.start[1])], "walked": None}


@pytest.mark.parametrize("mode", ["L", "RGB", "RGBA"])
def test_light_on_dark_and_colour_uploads_read_the_same_digit(state, mode):
    x = state.view("identity").model.split.X_test[3]
    a = decode_digit(own(state, "upload", upload=png_url(x, mode=mode))["own"]["code"])
    b = decode_digit(own(state, "upload", upload=png_url(x, dark_on_light=False, mode=mode))["own"]["code"])
    assert np.abs(a - b).max() <= 2 / 255


def _gif_animated() -> str:
    frames = [Image.new("L", (30, 30), c) for c in (0, 255)]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:])
    return "data:image/gif;base64," + base64.b64encode(buf.getvalue()).decode()


def _png(w, h, value=255) -> str:
    buf = io.BytesIO()
    Image.new("L", (w, h), value).save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _huge_png_header() -> str:
    """A PNG claiming 20,000 x 20,000 pixels (only its header is real)."""
    import struct
    import zlib

    ihdr = struct.pack(">IIBBBBB", 20000, 20000, 8, 0, 0, 0, 0)
    chunk = struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\n" + chunk).decode()


@pytest.mark.parametrize("upload,words", [
    ("data:text/plain;base64," + base64.b64encode(b"hello, not an image").decode(), "image"),
    ("data:image/png;base64,", "empty"),
    (_png(1, 1), "1"),
    (_huge_png_header(), "20,000"),
    (_gif_animated(), "animat"),
    (_png(60, 60, 255), "blank"),
    ("data:image/png;base64,@@@@", ""),
    ("", ""), (None, ""), (7, ""), ({"a": 1}, ""),
])
def test_bad_uploads_get_a_clear_message_and_nothing_is_kept(state, upload, words):
    out = own(state, "upload", upload=upload)
    (alert,) = alerts(out["result"])
    text = text_of(alert).lower()
    assert words.lower() in text and "traceback" not in text and len(text) < 400
    assert out["own"] is no_update and out["image"] is no_update and out["marks"] is no_update


def test_a_file_over_the_limit_is_refused_with_its_size(state):
    out = own(state, "rejected", rejected={"size": 9_500_000, "name": "big.jpg"})
    (alert,) = alerts(out["result"])
    assert "9.5 MB" in text_of(alert) and "4 MB" in text_of(alert)
    too_big = "data:image/png;base64," + "A" * (4 * state.res.settings.max_upload // 3 + 400)
    assert "larger than" in text_of(own(state, "upload", upload=too_big)["result"])


def test_a_vertical_stroke_is_a_one(state):
    im = Image.new("RGBA", (280, 280), (0, 0, 0, 255))
    from PIL import ImageDraw

    ImageDraw.Draw(im).line([(140, 50), (140, 230)], fill=(255, 255, 255, 255), width=22)
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    url = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
    for network in ("identity", "tanh", "relu"):
        out = own(state, "draw", network=network, drawing={"png": url, "strokes": 1})
        assert "Prediction: 1" in text_of(out["result"]).replace("Prediction:  1", "Prediction: 1"), network
    blank = Image.new("RGBA", (280, 280), (0, 0, 0, 255))
    buf = io.BytesIO()
    blank.save(buf, format="PNG")
    out = own(state, "draw", drawing={"png": "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()})
    assert "blank" in text_of(out["result"]).lower() or "no digit" in text_of(out["result"]).lower()
    assert "could not be read" in text_of(own(state, "draw", drawing="x")["result"])


def test_walking_a_digit_away_is_believed_more_and_the_change_is_reported(state):
    v = state.view("identity")
    x = v.model.split.X_test[0]
    code = encode_digit(x)
    x = decode_digit(code)
    for t in (0.0, 2.0, 10.0):
        out = own(state, "walk", walk=t, own={"code": code, "source": "upload"})
        mv = walk(v.model, x, t, head=v.analysis.head)
        np.testing.assert_allclose(drawn(out["image"]), mv.image, atol=1e-5)
        text = text_of(out["result"])
        if t:
            assert f"L2 {mv.change_l2:.3f}, largest {mv.change_max:.3f}" in text
            assert out["marks"]["walked"] == pytest.approx([float(mv.target[0]), float(mv.target[1])])
    assert mv.confidence >= 0.99 and percent(mv.confidence) in text
    valid = own(state, "walk", walk=10.0, valid=True, own={"code": code, "source": "upload"})
    assert "still a valid image" in text_of(valid["result"]) or "No image with pixels" in text_of(valid["result"])


@pytest.mark.parametrize("value", [math.nan, math.inf, -1, 10.5, "5", True, None, [1]])
def test_hostile_walk_values_get_a_message(state, value):
    code = encode_digit(state.view("identity").model.split.X_test[0])
    out = own(state, "walk", walk=value, own={"code": code, "source": "upload"})
    if value is None:  # the slider at rest
        return
    assert "walk slider runs from 0 to 10" in text_of(out["result"])


def test_the_walk_stops_where_a_tanh_plane_ends(state):
    x = state.view("tanh").model.split.X_test[0]
    out = own(state, "walk", network="tanh", walk=5.0, own={"code": encode_digit(x), "source": "upload"})
    assert "walk stops there" in text_of(out["result"])


def test_an_own_digit_from_a_link(state):
    x = state.view("identity").model.split.X_test[2]
    code = encode_digit(x)
    out = own(state, "url", query={"own": [code], "walk": ["3"]})
    assert out["own"]["code"] == code and out["walk"] == 3.0 and "walked 3 data radii" in text_of(out["result"])
    bad = own(state, "url", query={"own": ["garbage!!"], "walk": ["3"]})
    assert "'own=garbage!!'" in text_of(bad["result"]) and bad["own"] is no_update
    assert own(state, "url", query={}) == {k: no_update for k in OWN_OUTPUTS}
    huge = own(state, "url", query={"own": ["A" * 4096]})
    assert "'own=" in text_of(huge["result"]) and huge["own"] is no_update
    # an opened link's first call comes from the network toggle its link set: the digit is read
    first = own(state, "network", network="tanh", query={"own": [code], "walk": ["3"]})
    assert first["own"]["code"] == code and first["walk"] == 3.0
    # once a digit is stored, a network change walks the stored digit, not the link's
    other = encode_digit(state.view("identity").model.split.X_test[5])
    later = own(state, "network", query={"own": [code], "walk": ["3"]}, own={"code": other, "source": "upload"})
    assert later["own"]["code"] == other and later["walk"] is no_update


def test_the_main_view_from_a_link(state):
    out = update_from_link(state, {"net": ["tanh"], "x": ["0.3"], "y": ["-0.2"], "valid": ["1"], "null": ["0.5"]},
                           "identity", False)
    image, result, point, null, null_result, network, valid = out
    assert network == "tanh" and valid is True and null == 0.5
    assert point["network"] == "tanh" and point["point"] == [0.3, -0.2]
    # the view records what it is drawn with: the toggle, checkbox and slider the link sets
    # then find it drawn (no second inversion, no reset)
    assert point["valid"] is True and point["null"] == 0.5
    assert "Moved image, t = +0.5" in text_of(null_result)
    out = update_from_link(state, {"net": ["evil"], "x": ["nan"], "y": ["1e309"]}, "identity", False)
    # no point: a view of the network alone, so the toggle's change leaves the link's notes
    assert out[5] == "identity" and out[2] == {"network": "identity", "point": None, "nearest": None,
                                                "valid": False, "null": 0}
    text = text_of(out[1])
    assert "'net=evil'" in text and "'x=nan'" in text and "'y=1e309'" in text


def test_export_png_and_json_of_the_pinned_image_and_of_an_own_digit(state):
    v = state.view("identity")
    point = {"network": "identity", "point": [40.0, -20.0], "nearest": None}
    payload, note = update_export(state, ids.MNIST_EXPORT_JSON, network="identity", valid=False, own=None, walk=0,
                                  point=point)
    record = json.loads(payload["content"])
    assert note is no_update and record["network"] == "identity" and len(record["image"]) == 784
    check = verify_record(record, v.model)
    assert check.ok and check.residual <= 1e-6
    r = v.inverter.invert(np.array([40.0, -20.0]))
    np.testing.assert_allclose(record["image"], r.image, rtol=0, atol=1e-12)
    png, _ = update_export(state, ids.MNIST_EXPORT_PNG, network="identity", valid=False, own=None, walk=0,
                           point=point)
    grey = np.asarray(Image.open(io.BytesIO(base64.b64decode(png["content"]))))
    assert grey.shape == (28, 28) and grey.dtype == np.uint8
    np.testing.assert_array_equal(grey.ravel(), np.round(255 * np.clip(r.image, 0, 1)).astype(np.uint8))
    large, _ = update_export(state, ids.MNIST_EXPORT_PNG_LARGE, network="identity", valid=False, own=None, walk=0,
                             point=point)
    assert np.asarray(Image.open(io.BytesIO(base64.b64decode(large["content"])))).shape == (280, 280)
    code = encode_digit(v.model.split.X_test[0])
    payload, _ = update_export(state, ids.MNIST_EXPORT_JSON, network="tanh", valid=False,
                               own={"code": code, "source": "upload"}, walk=0, point=None)
    record = json.loads(payload["content"])
    assert record["network"] == "tanh" and verify_record(record, state.view("tanh").model).ok
    none, note = update_export(state, ids.MNIST_EXPORT_PNG, network="identity", valid=False, own=None, walk=0,
                               point=None)
    assert none is no_update and "Click the map" in text_of(note)


def test_preview_data_and_the_preview_route(state, dash_app):
    data = hover_data(state, "identity")
    assert data["mode"] == "affine" and data["n"] == 784
    P = np.frombuffer(base64.b64decode(data["pinv"]), dtype="<f8").reshape(2, 784)
    v = state.view("identity")
    h = np.array([12.0, -7.0])
    image = (h - np.array(data["c"])) @ P
    np.testing.assert_allclose(image, v.inverter.invert(h).image, atol=1e-9)
    assert hover_data(state, "tanh")["mode"] == "server"
    out = preview(state, "tanh", "0.3", "-0.4")
    r = state.view("tanh").inverter.invert(np.array([0.3, -0.4]))
    np.testing.assert_allclose(out["image"], r.image, atol=1e-8)
    assert out["predicted"] == str(r.predicted)
    for args in (("evil", "1", "1"), ("tanh", "nan", "1"), ("tanh", "1e309", "0"), ("tanh", "2", "0"),
                 ("identity", None, "1"), (None, None, None), ("tanh", "x" * 100, "0")):
        assert "message" in preview(state, *args) and "image" not in preview(state, *args)
    client = dash_app.server.test_client()
    r = client.get("/_fooling/preview?net=tanh&x=0.3&y=-0.4")
    assert r.status_code == 200 and json.loads(r.data)["predicted"] == out["predicted"]
    for q in ("net=tanh&x=1e400&y=0", "net=%00&x=1", "x=1&y=1&net=tanh&net=identity", ""):
        r = client.get("/_fooling/preview?" + q)
        assert r.status_code == 200 and "message" in json.loads(r.data) or "image" in json.loads(r.data)
