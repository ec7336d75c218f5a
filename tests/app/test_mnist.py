"""/mnist without a browser: the click callback called directly and over HTTP, and its figures."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import plotly.graph_objects as go
import pytest
from dash import Patch, no_update

from app import ids
from app.figures import make_digit_figure
from app.figures_mnist import (blank_digit_figure, decode_typed_array, digit_range, make_samples_figure,
                               patch_digit, typed_array)
from app.pages import mnist
from fooling.inversion import InversionError
from fooling.report import fooling_points

# ---- helpers ----------------------------------------------------------------------------


def text_of(node) -> str:
    """All text of a Dash component tree (what a user reads)."""
    if node is None or node is no_update:
        return ""
    if isinstance(node, (str, int, float)):
        return str(node)
    if isinstance(node, (list, tuple)):
        return " ".join(text_of(c) for c in node)
    return text_of(getattr(node, "children", None))


def alerts(node) -> list:
    """Every dbc.Alert in a component tree."""
    found = []
    if isinstance(node, (list, tuple)):
        for c in node:
            found += alerts(c)
    elif node is not None and node is not no_update and not isinstance(node, (str, int, float)):
        if type(node).__name__ == "Alert":
            found.append(node)
        found += alerts(getattr(node, "children", None))
    return found


PRED = re.compile(r"Prediction:\s*(\S+)\s*\((\d+\.\d+)%\)")


def prediction(children) -> tuple[str, float]:
    m = PRED.search(text_of(children))
    assert m, f"no prediction in {text_of(children)!r}"
    return m.group(1), float(m.group(2))


def click(x, y) -> dict:
    return {"points": [{"x": x, "y": y, "curveNumber": 0}]}


@pytest.fixture(scope="module")
def far(resources):
    """Each network's documented far points, computed by the core library."""
    return {n: fooling_points(resources.hidden_plane(n).model) for n in mnist.NETWORKS}


# ---- figure factories -------------------------------------------------------------------


def test_samples_figure_tiles_every_image_once():
    rng = np.random.default_rng(0)
    images = rng.random((2, 4, 784)).astype(np.float32)
    fig = make_samples_figure(images, ["0", "1", "2", "3"], gap=2)
    assert isinstance(fig, go.Figure) and len(fig.data) == 1
    z = np.asarray(fig.data[0].z)[::-1]  # back to top-down rows
    assert z.shape == (2 * 30 - 2, 4 * 30 - 2)
    for i in range(2):
        for j in range(4):
            np.testing.assert_allclose(z[i * 30:i * 30 + 28, j * 30:j * 30 + 28], images[i, j].reshape(28, 28))
    assert np.isnan(z[28:30, :]).all() and np.isnan(z[:, 28:30]).all()  # the gaps are blank
    assert [a.text for a in fig.layout.annotations] == ["0", "1", "2", "3"]


def test_patch_digit_matches_the_digit_factory():
    img = np.linspace(-1.5, 2.0, 784)
    ref = make_digit_figure(img)
    ops = {tuple(o["location"]): o["params"]["value"] for o in patch_digit(img, title="t").to_plotly_json()["operations"]}
    np.testing.assert_allclose(decode_typed_array(ops[("data", 0, "z")]), np.asarray(ref.data[0].z), rtol=1e-6)
    assert ops[("data", 0, "zmin")] == pytest.approx(ref.data[0].zmin)
    assert ops[("data", 0, "zmax")] == pytest.approx(ref.data[0].zmax)
    assert ops[("data", 0, "showscale")] is bool(ref.data[0].showscale) is True
    assert ops[("layout", "title", "text")] == "t"
    inside = patch_digit(np.full(784, 0.5), title="t").to_plotly_json()["operations"]
    assert {tuple(o["location"]): o["params"]["value"] for o in inside}[("data", 0, "showscale")] is False
    assert digit_range(np.array([0.2, 0.3])) == (0.0, 1.0)
    for bad in (np.full(784, np.nan), np.full(784, 1e39)):
        with pytest.raises(ValueError):
            patch_digit(bad, title="t")


def test_typed_array_round_trip_keeps_shape_and_missing_values():
    a = np.arange(12, dtype=float).reshape(3, 4)
    a[1, 2] = np.nan
    spec = typed_array(a)
    assert spec["dtype"] == "f4" and spec["shape"] == "3, 4" and isinstance(spec["bdata"], str)
    back = decode_typed_array(json.loads(json.dumps(spec)))
    assert back.shape == (3, 4) and np.isnan(back[1, 2])
    np.testing.assert_array_equal(np.nan_to_num(back, nan=-1), np.nan_to_num(a, nan=-1))


def test_blank_digit_is_patchable_and_square():
    fig = blank_digit_figure("x")
    assert len(fig.data) == 1 and fig.data[0].type == "heatmap"
    assert list(fig.layout.xaxis.range) == [-0.5, 27.5] == list(fig.layout.yaxis.range)
    ops = patch_digit(None, title="none").to_plotly_json()["operations"]
    z = decode_typed_array({tuple(o["location"]): o["params"]["value"] for o in ops}[("data", 0, "z")])
    assert z.shape == (28, 28) and np.isnan(z).all()


# ---- the callback, called directly ------------------------------------------------------


def test_base_figures_are_built_once_and_differ_per_network(resources):
    a, _, _, store = mnist.update_inversion(resources, "identity", "network")
    b, _, _, _ = mnist.update_inversion(resources, "tanh", "network")
    assert store is None
    assert a is mnist.update_inversion(resources, "identity", "network")[0]  # cached, not rebuilt
    assert a.layout.uirevision != b.layout.uirevision
    assert a.data[-1].name == b.data[-1].name == "clicked"
    assert tuple(b.layout.xaxis.range) == pytest.approx((-1, 1), abs=0.02)
    assert abs(a.layout.xaxis.range[0]) > 10  # the identity plane runs well past (-1, 1)
    digits = [t for t in a.data if t.type == "scatter" and t.name in mnist.NAMES]
    hp = resources.hidden_plane("identity")
    assert sum(len(t.x) for t in digits) == len(hp.model.test_hidden)


@pytest.mark.parametrize("digit", [0, 1, 2, 3])
def test_far_identity_point_is_a_confident_digit(resources, far, digit):
    entry = far["identity"][digit]
    x, y = entry["hidden"]
    fig, image, children, store = mnist.update_inversion(resources, "identity", "click", click_data=click(x, y))
    label, pct = prediction(children)
    ref = resources.hidden_plane("identity").model.inverter.invert(np.array([x, y]))
    assert label == str(digit) == str(ref.predicted)
    assert pct == pytest.approx(100 * ref.confidence, abs=0.006) and pct >= 99
    text = text_of(children)
    assert f"pixels range from {ref.pixel_min:.3f} to {ref.pixel_max:.3f}" in text
    assert not ref.in_range and "Not a valid image" in text  # the far image is not a picture
    assert f"residual {ref.residual:.2e}" in text
    assert store == {"network": "identity", "point": [x, y]}
    ops = {tuple(o["location"]): o["params"]["value"] for o in fig.to_plotly_json()["operations"]}
    last = len(mnist.update_inversion(resources, "identity", "network")[0].data) - 1
    assert ops[("data", last, "x")] == [x] and ops[("data", last, "y")] == [y]
    img_ops = {tuple(o["location"]): o["params"]["value"] for o in image.to_plotly_json()["operations"]}
    drawn = decode_typed_array(img_ops[("data", 0, "z")])[::-1].ravel()
    np.testing.assert_allclose(drawn, ref.image, rtol=1e-6, atol=1e-6)


def test_presets_invert_the_far_points_of_the_current_network(resources, far):
    for name in mnist.NETWORKS:
        for k, entry in enumerate(far[name]):
            _, _, children, store = mnist.update_inversion(resources, name, "preset", preset=k)
            assert store["point"] == pytest.approx(entry["hidden"])
            label, pct = prediction(children)
            assert label == str(entry["predicted"])
            assert pct == pytest.approx(100 * entry["probability"], abs=0.006)


def test_tanh_click_inside_and_outside_the_codomain(resources):
    inv = resources.hidden_plane("tanh").model.inverter
    _, _, children, _ = mnist.update_inversion(resources, "tanh", "click", click_data=click(0.3, -0.5))
    ref = inv.invert(np.array([0.3, -0.5]))
    assert prediction(children) == (str(ref.predicted), pytest.approx(100 * ref.confidence, abs=0.006))
    for x, y in [(1.5, 0.2), (-1.0, 0.0), (0.0, 1.0), (40.0, -40.0)]:
        with pytest.raises(InversionError):
            inv.invert(np.array([x, y]))
        fig, image, children, store = mnist.update_inversion(resources, "tanh", "click", click_data=click(x, y))
        (alert,) = alerts(children)
        assert alert.color == "info" and "cannot reach" in text_of(alert)
        assert "Prediction" not in text_of(children)
        assert isinstance(image, Patch)  # the old image is cleared, not left beside the message


def test_tanh_far_presets_are_capped_below_the_identity_certainty(resources, far):
    caps = [f["max_confidence"] for f in far["tanh"]]
    assert max(caps) < 0.99  # a bounded plane bounds the logits
    text = mnist._explain(resources)[1]
    assert f"{100 * max(caps):.1f}%" in text and f"{100 * min(caps):.1f}%" in text
    sure = min(f["probability"] for f in far["identity"])
    assert sure > 0.99 and mnist._certainty(sure) in mnist._explain(resources)[0]


def test_certainty_reads_well_near_one():
    nb = "\u00a0"
    assert mnist._certainty(1.0) == f"P{nb}={nb}1{nb}to{nb}machine{nb}precision"
    assert mnist._certainty(1 - 8e-15) == f"P{nb}≥{nb}1{nb}−{nb}8e-15"
    assert mnist._certainty(0.97) == f"P{nb}≥{nb}0.9700"


def test_valid_pixels(resources, far):
    inv = resources.hidden_plane("identity").model.inverter
    # a far point: no valid image reaches it; the page says so and shows the nearest one
    x, y = far["identity"][1]["hidden"]
    ref = inv.invert(np.array([x, y]), valid=True)
    assert ref.residual > 1e-6 and ref.in_range
    _, _, children, _ = mnist.update_inversion(resources, "identity", "click", click_data=click(x, y), valid=True)
    text = text_of(children)
    assert "No image with pixels in [0, 1] reaches this point" in text and "Not a valid image" not in text
    assert prediction(children) == (str(ref.predicted), pytest.approx(100 * ref.confidence, abs=0.006))
    # a real digit's encoding: a valid image reaches it exactly
    h = resources.hidden_plane("identity").model.test_hidden[0]
    ref = inv.invert(h, valid=True)
    assert ref.residual <= mnist.EXACT
    _, _, children, _ = mnist.update_inversion(resources, "identity", "click", click_data=click(*h), valid=True)
    assert "reaches this point" not in text_of(children) and "Not a valid image" not in text_of(children)
    # ticking the box re-inverts the remembered point
    point = {"network": "identity", "point": [x, y]}
    _, _, children, store = mnist.update_inversion(resources, "identity", "valid", valid=True, point=point)
    assert "No image with pixels in [0, 1]" in text_of(children) and store == point
    _, _, children, _ = mnist.update_inversion(resources, "identity", "valid", valid=False, point=point)
    assert "Not a valid image" in text_of(children)


def test_valid_toggle_without_a_point_of_this_network_changes_nothing(resources):
    for point in (None, {"network": "tanh", "point": [0.1, 0.2]}):
        assert mnist.update_inversion(resources, "identity", "valid", valid=True, point=point) == (no_update,) * 4


HOSTILE_CLICKS = [
    "x", None, 3, [], [1, 2], {}, {"points": []}, {"points": "abc"}, {"points": [{}]},
    {"points": [{"x": 1}]}, {"points": [{"y": 1}]}, {"points": [{"x": "1", "y": 2}]},
    {"points": [{"x": [1], "y": 2}]}, {"points": [{"x": 1, "y": {"a": 1}}]},
    {"points": [{"x": True, "y": False}]}, {"points": [{"x": math.nan, "y": 0}]},
    {"points": [{"x": 0, "y": math.inf}]}, {"points": [{"x": -math.inf, "y": 0}]},
    {"points": [{"x": 1e308, "y": 0}]}, {"points": [{"x": 0, "y": -1e308}]},
    {"points": [{"x": None, "y": None}]}, {"points": [None]},
]


@pytest.mark.parametrize("network", mnist.NETWORKS)
@pytest.mark.parametrize("payload", HOSTILE_CLICKS, ids=[repr(p)[:40] for p in HOSTILE_CLICKS])
def test_hostile_clicks_get_a_message(resources, network, payload):
    fig, image, children, store = mnist.update_inversion(resources, network, "click", click_data=payload)
    assert fig is no_update and image is no_update and store is no_update
    (alert,) = alerts(children)
    assert alert.color == "warning" and len(text_of(alert)) > 10


@pytest.mark.parametrize("network", [None, "", "relu", "Identity", 1, ["identity"], {"a": "tanh"}, True, "x" * 500])
@pytest.mark.parametrize("trigger", ["network", "click", "preset", "valid"])
def test_unknown_network_gets_a_message(resources, network, trigger):
    out = mnist.update_inversion(resources, network, trigger, click_data=click(1.0, 2.0), preset=0,
                                 point={"network": "identity", "point": [1, 2]})
    assert out[0] is no_update and out[1] is no_update and out[3] is no_update
    assert "Unknown network" in text_of(out[2]) and "choose identity or tanh" in text_of(out[2])
    assert len(text_of(out[2])) < 120  # long values are cut


@pytest.mark.parametrize("preset", [4, -1, "0", 1.0, True, None, [0], {"i": 0}, 10**30])
def test_bad_preset_gets_a_message(resources, preset):
    out = mnist.update_inversion(resources, "identity", "preset", preset=preset)
    assert out[0] is no_update and "four presets" in text_of(out[2])


@pytest.mark.parametrize("valid", ["yes", 1, 0, [True], {"v": 1}, math.nan])
def test_bad_checkbox_value_gets_a_message(resources, valid):
    out = mnist.update_inversion(resources, "identity", "click", click_data=click(1.0, 2.0), valid=valid)
    assert out[0] is no_update and "[0, 1]" in text_of(out[2])


@pytest.mark.parametrize("point", ["x", 3, [1, 2], {"point": [1, 2]}, {"network": "identity"},
                                   {"network": "identity", "point": [1]}, {"network": "identity", "point": "ab"},
                                   {"network": "identity", "point": [math.nan, 0]},
                                   {"network": "identity", "point": [1e308, 0]},
                                   {"network": "evil", "point": [1, 2]}])
def test_bad_remembered_point_gets_a_message(resources, point):
    out = mnist.update_inversion(resources, "identity", "valid", valid=True, point=point)
    assert out[0] is no_update and out[3] is no_update
    assert alerts(out[2]) and "Prediction" not in text_of(out[2])


def test_unknown_trigger_changes_nothing(resources):
    assert mnist.update_inversion(resources, "identity", "zoom") == (no_update,) * 4


def test_a_click_builds_no_map_and_no_grid(resources, far, monkeypatch):
    mnist.update_inversion(resources, "tanh", "network")  # caches filled (register does this)

    def forbidden(*a, **k):
        raise AssertionError("rebuilt on a click")

    monkeypatch.setattr(mnist, "make_region_figure", forbidden)
    monkeypatch.setattr(mnist, "fooling_points", forbidden)
    monkeypatch.setattr("app.figures_mnist.make_digit_figure", forbidden)
    monkeypatch.setattr("fooling.regions.evaluate_grid", forbidden)
    monkeypatch.setattr("app.resources.evaluate_grid", forbidden)
    for name in mnist.NETWORKS:
        _, _, children, _ = mnist.update_inversion(resources, name, "preset", preset=2)
        assert prediction(children)[0] == "2"
        fig, *_ = mnist.update_inversion(resources, name, "network")
        assert fig.layout.uirevision == f"mnist-{name}"


def test_layout_has_every_contract_id(resources):
    page = mnist.layout(resources)
    found = {c.id for c in page._traverse() if isinstance(getattr(c, "id", None), str)}
    for i in (ids.MNIST_NETWORK, ids.MNIST_MAP, ids.MNIST_IMAGE, ids.MNIST_RESULT, ids.MNIST_VALID,
              ids.MNIST_LOSS, ids.MNIST_SAMPLES, mnist.POINT):
        assert i in found, i
    assert {c.id["index"] for c in page._traverse() if isinstance(getattr(c, "id", None), dict)} == {0, 1, 2, 3}
    essay = resources.essay
    text = text_of(mnist.layout(resources))
    for n in mnist.NETWORKS:
        acc = resources.hidden_plane(n).model.trained.test_accuracy
        assert f"{100 * acc:.1f}%" in text and f"{100 * essay[n]['accuracy']:.0f}%" in text
    assert all(f"far {d}" in text for d in mnist.NAMES)


# ---- over HTTP ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def http_app(resources):
    """One app for every request below (requests do not change it)."""
    from app import create_app

    return create_app(resources)


def _output_key(app) -> str:
    (key,) = [k for k in app.callback_map if f"{ids.MNIST_RESULT}.children" in k]
    return key


def body(app, *, network="identity", click_data=None, changed=f"{ids.MNIST_MAP}.clickData",
         valid=False, point=None, presets=(None,) * 4) -> dict:
    outputs = [{"id": ids.MNIST_MAP, "property": "figure"}, {"id": ids.MNIST_IMAGE, "property": "figure"},
               {"id": ids.MNIST_RESULT, "property": "children"}, {"id": mnist.POINT, "property": "data"}]
    return {
        "output": _output_key(app), "outputs": outputs,
        "inputs": [{"id": ids.MNIST_NETWORK, "property": "value", "value": network},
                   {"id": ids.MNIST_MAP, "property": "clickData", "value": click_data},
                   [{"id": {"index": k, "type": mnist.PRESET}, "property": "n_clicks", "value": v}
                    for k, v in enumerate(presets)],
                   {"id": ids.MNIST_VALID, "property": "value", "value": valid}],
        "changedPropIds": [changed],
        "state": [{"id": mnist.POINT, "property": "data", "value": point}],
    }


def post(app, payload):
    client = app.server.test_client()
    data = payload if isinstance(payload, (str, bytes)) else json.dumps(payload, allow_nan=True)
    return client.post("/_dash-update-component", data=data, content_type="application/json")


def test_http_click_returns_the_prediction(http_app, far):
    x, y = far["identity"][3]["hidden"]
    r = post(http_app, body(http_app, click_data=click(x, y)))
    assert r.status_code == 200
    out = r.get_json()["response"]
    assert "Prediction: " in json.dumps(out[ids.MNIST_RESULT]) and '"3"' in json.dumps(out[ids.MNIST_RESULT])
    assert out[mnist.POINT]["data"] == {"network": "identity", "point": [x, y]}
    preset = body(http_app, network="tanh", changed=json.dumps({"index": 1, "type": mnist.PRESET},
                                                               separators=(",", ":")) + ".n_clicks",
                  presets=(None, 1, None, None))
    r = post(http_app, preset)
    assert r.status_code == 200
    assert r.get_json()["response"][mnist.POINT]["data"]["point"] == pytest.approx(far["tanh"][1]["hidden"])


HOSTILE_BODIES = [
    dict(click_data="x"), dict(click_data=None), dict(click_data={"points": [{"x": "NaN", "y": 1}]}),
    dict(click_data={"points": [{"x": 1e308, "y": 1e308}]}), dict(click_data={"points": [{"x": [1, 2]}]}),
    dict(click_data={"points": [{}]}), dict(click_data=[[1, 2]]), dict(network="relu", click_data=click(1, 2)),
    dict(network=None, click_data=click(1, 2)), dict(network=["identity"], click_data=click(1, 2)),
    dict(network="tanh", click_data=click(5, 5)), dict(valid="yes", click_data=click(1, 2)),
    dict(changed=f"{ids.MNIST_VALID}.value", valid=True, point={"network": "identity", "point": ["a", 1]}),
    dict(changed=f"{ids.MNIST_VALID}.value", valid=True, point="x"),
    dict(changed='{"index":"zz","type":"mnist-preset"}.n_clicks'),
    dict(changed='{"index":99,"type":"mnist-preset"}.n_clicks'),
]


@pytest.mark.parametrize("kwargs", HOSTILE_BODIES, ids=[repr(k)[:50] for k in HOSTILE_BODIES])
def test_hostile_posts_get_a_message_not_a_500(http_app, kwargs):
    r = post(http_app, body(http_app, **kwargs))
    assert r.status_code == 200, r.data[:300]
    out = r.get_json()
    assert "sideUpdate" not in out  # not the app's generic error banner: the page's own message
    result = json.dumps(out["response"][ids.MNIST_RESULT])
    assert "Alert" in result and "Prediction" not in result


@pytest.mark.parametrize("raw", [b"", b"{", b"null", b"[]", json.dumps({"output": "nope.children"}).encode(),
                                 json.dumps({"output": "..mnist-map.figure...mnist-image.figure...mnist-result"
                                                       ".children...mnist-point.data..",
                                             "inputs": "x", "changedPropIds": []}).encode()])
def test_malformed_bodies_are_not_a_500(http_app, raw):
    r = post(http_app, raw)
    assert r.status_code < 500, (r.status_code, r.data[:200])
