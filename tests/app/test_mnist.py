"""/mnist without a browser: the page's callbacks called directly and over HTTP, and the page's figures.

One callback (:func:`app.pages.mnist.callbacks.update_mnist`) answers a click, a preset, the
network toggle, the checkbox and the slider with the outputs of
:data:`~app.pages.mnist.callbacks.OUTPUTS` (:func:`run` names them); the maps' markers are drawn
in the browser from the pinned point it returns; the maps themselves change only with the
network (:func:`~app.pages.mnist.callbacks.update_maps`).
"""

from __future__ import annotations

import json
import math
import re

import numpy as np
import plotly
import plotly.graph_objects as go
import pytest
from dash import no_update

from app import ids
from app.figures import make_hidden_map_figure
from app.images import Digit, decode_typed_array, digit_data, digit_range, make_digit_figure, typed_array
from app.pages import mnist as mnist_page
from app.pages.mnist import compute
from app.pages.mnist import text as mnist_text
from app.pages.mnist.callbacks import DECLARED, LINK_OUTPUTS, OUTPUTS, as_sent, update_maps, update_mnist
from app.pages.mnist.figures import make_samples_figure
from fooling.density import DensityCheck, ImageDensityCheck
from fooling.inversion import InversionError
from fooling.metrics_maps import log_density_level
from fooling.network import forward
from fooling.probes import fooling_points
from fooling.reachable import (contains, estimate_reachable, nearest_reachable, null_space_basis,
                               reachable_polygon, support_corner)
from fooling.regions import RegionGrid
from tests.app.test_fuzz import server_callbacks
from tests.app.test_iris import point_store
from app.markup import Markup, text as markup_text
from tests.conftest import shown_value

NETWORKS = ("identity", "tanh")
"""The networks these tests exercise (the essay's two; the page may offer more)."""
UNKNOWN = "sigmoid"
"""A network name no page offers."""
EXACT = compute.EXACT
PAGE_OUTPUTS = {"image": (ids.MNIST_IMAGE, "digit"), "result": (ids.MNIST_RESULT, "tree"),
                "point": (ids.MNIST_POINT, "data"), "null": (ids.MNIST_NULL, "value"),
                "null_result": (ids.MNIST_NULL_RESULT, "children")}
"""Each output of the callback: the element and property it fills."""
LINK_PROPS = {"network": (ids.MNIST_NETWORK, "value"), "valid": (ids.MNIST_VALID, "value")}
"""The outputs after those, which only a link sets."""
MAPS = ((ids.MNIST_MAP, "figure"), (ids.MNIST_RBF_MAP, "figure"))

# ---- helpers ----------------------------------------------------------------------------


def run(state, trigger: str, network="identity", **inputs) -> dict:
    """``update_mnist``'s answer, by output name."""
    out = update_mnist(state, trigger, network=network, **inputs)
    assert isinstance(out, tuple) and len(out) == len(OUTPUTS)
    return dict(zip(OUTPUTS, out))


def untouched(out: dict, *names: str) -> bool:
    """Whether the outputs ``names`` are all ``no_update``."""
    return all(out[n] is no_update for n in names)


def text_of(node) -> str:
    """All text of a Dash component tree (what a user reads), static markup's too."""
    if node is None or node is no_update:
        return ""
    if isinstance(node, Markup):
        return markup_text(node)
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


def served_message(served_json: str) -> bool:
    """Whether a served text block (JSON) holds a message (an alert: the page's own static
    markup draws it as a div of class ``alert``)."""
    return '"alert alert-' in served_json


PRED = re.compile(r"Prediction:\s*(\S+)\s*\((>?\d+\.\d+)%\)")


def prediction(children) -> tuple[str, float]:
    m = PRED.search(text_of(children))
    assert m, f"no prediction in {text_of(children)!r}"
    return m.group(1), float(m.group(2).lstrip(">"))


def click(x, y) -> dict:
    return {"points": [{"x": x, "y": y, "curveNumber": 0}]}


def drawn(digit: dict) -> np.ndarray:
    """The pixels an image update (:func:`app.images.digit_data`) draws, in row order (784,);
    all NaN for an empty image."""
    assert isinstance(digit, dict) and set(digit) == {"title", "note", "pixels", "zmin", "zmax", "size"}, digit
    if digit["pixels"] is None:
        return np.full(digit["size"] ** 2, np.nan)
    px = decode_typed_array(digit["pixels"])
    assert px.shape == (digit["size"], digit["size"])
    return px.ravel().astype(float)


def assert_marks(state, name, out, clicked, nearest) -> None:
    """The pinned point (what both maps draw their markers from) is ``clicked``, with
    ``nearest`` (the nearest reachable point, or None)."""
    pinned = out["point"]
    assert isinstance(pinned, dict) and set(pinned) == {"network", "point", "nearest", "valid", "null"}, pinned
    assert isinstance(pinned["valid"], bool) and pinned["null"] == 0  # drawn with the slider at 0
    assert pinned["network"] == name
    assert pinned["point"] == [clicked[0], clicked[1]]
    if nearest is None:
        assert pinned["nearest"] is None
    else:
        assert pinned["nearest"] == [pytest.approx(nearest[0]), pytest.approx(nearest[1])]


def idle_readout(node) -> bool:
    """The slider's readout at rest: the hint, no message."""
    return "Click a point, then move the slider" in text_of(node) and not alerts(node)


@pytest.fixture(scope="module")
def state(mnist_state):
    """The /mnist page's state (built and warmed once, as create_app does)."""
    assert set(NETWORKS) <= set(mnist_state.networks) and UNKNOWN not in mnist_state.networks
    return mnist_state


@pytest.fixture(scope="module")
def far(resources):
    """Each network's documented far points, computed by the core library."""
    return {n: fooling_points(resources.plane(n).model) for n in NETWORKS}


# ---- figure factories -------------------------------------------------------------------


def test_samples_figure_tiles_every_image_once():
    rng = np.random.default_rng(0)
    images = rng.random((2, 4, 784)).astype(np.float32)
    images[1, 2, :5] = np.nan  # a missing cell is drawn blank too
    fig = make_samples_figure(images, ["0", "1", "2", "3"], gap=2)
    assert isinstance(fig, go.Figure) and len(fig.data) == 1
    heat = fig.data[0]
    z = np.asarray(heat.z)[::-1]  # back to top-down rows
    assert z.dtype == np.uint8 and z.shape == (2 * 30 - 2, 4 * 30 - 2)
    # grey levels 0..254 (black to white); 255 marks blank cells and gaps
    for i in range(2):
        for j in range(4):
            tile = z[i * 30:i * 30 + 28, j * 30:j * 30 + 28].astype(float)
            want = images[i, j].reshape(28, 28).astype(float) * 254
            ok = np.isfinite(want)
            assert np.abs(tile[ok] - want[ok]).max() <= 0.5 + 1e-3
            assert (tile[~ok] == 255).all()
    assert (z[28:30, :] == 255).all() and (z[:, 28:30] == 255).all()  # the gaps are blank
    assert (heat.zmin, heat.zmax) == (0, 255)
    scale = {float(v): c for v, c in heat.colorscale}
    assert scale[0.0] == "black" and scale[254 / 255] == "white" and scale[1.0] == "white"
    assert [a.text for a in fig.layout.annotations] == ["0", "1", "2", "3"]


def test_digit_data_matches_the_digit_factory():
    img = np.linspace(-1.5, 2.0, 784)
    ref = make_digit_figure(img)
    d = digit_data(img, title="t")
    # the same pixels (float32, rows top-down: the figure draws them bottom-up) and grey range
    np.testing.assert_allclose(drawn(d), np.asarray(ref.data[0].z)[::-1].ravel(), rtol=1e-6)
    assert (d["zmin"], d["zmax"]) == (pytest.approx(ref.data[0].zmin), pytest.approx(ref.data[0].zmax))
    # the caption says what black and white are when the range was stretched, as the figure's title does
    assert d["title"] == "t" and d["note"] == "grey scale: black -1.50, white 2.00"
    fig = make_digit_figure(img, title="t")
    assert fig.layout.title.text == f"t<br><span style='font-size:11px'>{d['note']}</span>" and fig.layout.margin.t == 44
    one = digit_data(np.full(784, 0.5), title="t")
    assert one["note"] is None and (one["zmin"], one["zmax"]) == (0.0, 1.0)
    assert make_digit_figure(np.full(784, 0.5), title="t").layout.title.text == "t"
    assert digit_range(np.array([0.2, 0.3])) == (0.0, 1.0)
    for bad in (np.full(784, np.nan), np.full(784, 1e39)):
        with pytest.raises(ValueError):
            digit_data(bad, title="t")
    json.dumps(d, allow_nan=False)  # sent as it is


def test_typed_array_round_trip_keeps_shape_and_missing_values():
    a = np.arange(12, dtype=float).reshape(3, 4)
    a[1, 2] = np.nan
    spec = typed_array(a)
    assert spec["dtype"] == "f4" and spec["shape"] == "3, 4" and isinstance(spec["bdata"], str)
    back = decode_typed_array(json.loads(json.dumps(spec)))
    assert back.shape == (3, 4) and np.isnan(back[1, 2])
    np.testing.assert_array_equal(np.nan_to_num(back, nan=-1), np.nan_to_num(a, nan=-1))


def test_an_empty_digit_has_a_title_and_no_pixels(state):
    blank = digit_data(None, title="x")
    assert blank == {"title": "x", "note": None, "pixels": None, "zmin": 0.0, "zmax": 1.0, "size": 28}
    assert np.isnan(drawn(blank)).all() and drawn(blank).shape == (784,)
    # the page's image starts empty, drawn by the canvas component
    (image,) = [c for c in mnist_page.layout(state)._traverse() if getattr(c, "id", None) == ids.MNIST_IMAGE]
    assert isinstance(image, Digit) and image.digit is state.blank_digit and state.blank_digit["pixels"] is None
    assert image.to_plotly_json()["namespace"] == "fooling_digit"


# ---- the callback, called directly ------------------------------------------------------


def test_outputs_are_the_one_registered_callbacks_in_order(dash_app, state):
    callbacks = server_callbacks(dash_app)
    clicks = [k for k in callbacks if any(f"{i['id']}.{i['property']}" == f"{ids.MNIST_MAP}.clickData"
                                          for i in dash_app.callback_map[k]["inputs"])]
    assert len(clicks) == 1  # one server callback for clicks, presets, the toggle, the checkbox and the slider
    inputs = {(i["id"], i["property"]) for i in dash_app.callback_map[clicks[0]]["inputs"]}
    assert {(ids.MNIST_NETWORK, "value"), (ids.MNIST_VALID, "value"), (ids.MNIST_NULL_ASK, "data")} <= inputs
    # a click declares only what it always changes: the slider and its readout, and the toggle
    # and the checkbox a link sets, go as side updates
    assert [(o["id"], o["property"]) for o in _outputs(clicks[0])] == [PAGE_OUTPUTS[n] for n in DECLARED]
    assert DECLARED == OUTPUTS[:3] and set(OUTPUTS) == set(PAGE_OUTPUTS) and set(LINK_OUTPUTS) == set(LINK_PROPS)
    assert (ids.QUERY, "data") in inputs  # ... and the page's link
    writers = [k for k in callbacks if any(f"{i}.{p}" in k for i, p in [*PAGE_OUTPUTS.values(), *LINK_PROPS.values()])]
    assert writers == clicks  # no other server callback writes to these elements
    # the slider reaches the click's callback through the browser's gate alone
    gates = [c for c in dash_app._callback_list if c["output"] == f"{ids.MNIST_NULL_ASK}.data"]
    assert len(gates) == 1 and [(i["id"], i["property"]) for i in gates[0]["inputs"]] == [(ids.MNIST_NULL, "value")]
    assert gates[0].get("clientside_function") is not None
    # the maps: written by one server callback, on the network toggle alone (never on a click)
    maps = [k for k in callbacks if any(f"{i}.{p}" in k for i, p in MAPS)]
    assert len(maps) == 1 and [(o["id"], o["property"]) for o in _outputs(maps[0])] == list(MAPS)
    assert [(i["id"], i["property"]) for i in dash_app.callback_map[maps[0]]["inputs"]] == [(ids.MNIST_NETWORK, "value")]
    # ... and both maps draw their markers from the pinned point, in the browser
    store = point_store(mnist_page.layout(state), ids.MNIST_POINT)
    assert store.graphs == [ids.MNIST_MAP, ids.MNIST_RBF_MAP]


def test_base_figures_are_built_once_and_differ_per_network(resources, state):
    out = run(state, "network", "identity")
    assert out["point"]["point"] is None and out["image"] is state.blank_digit  # the markers go, the image is blank
    a, rbf = update_maps(state, "identity")
    b, _ = update_maps(state, "tanh")
    assert a is update_maps(state, "identity")[0] is state.view("identity").base_map  # cached, not rebuilt
    assert rbf is state.view("identity").rbf_map
    assert a.layout.uirevision != b.layout.uirevision
    assert "clicked" not in [t.name for t in a.data]  # markers are drawn over the maps, not in them
    assert tuple(b.layout.xaxis.range) == pytest.approx((-1, 1), abs=0.02)
    assert abs(a.layout.xaxis.range[0]) > 10  # the identity plane runs well past (-1, 1)
    m = resources.plane("identity").model
    names = [str(c) for c in m.net.classes]
    digits = [t for t in a.data if t.type == "scatter" and t.name in names]
    assert len(digits) == len(names) and sum(len(t.x) for t in digits) == len(m.test_hidden)
    for bad in (None, UNKNOWN, ["identity"], 3):
        assert update_maps(state, bad) == (no_update, no_update)  # update_mnist says why


@pytest.mark.parametrize("digit", [0, 1, 2, 3])
def test_far_identity_point_is_a_confident_digit(resources, state, far, digit):
    entry = far["identity"][digit]
    x, y = entry["hidden"]
    out = run(state, "click", "identity", click_data=click(x, y))
    children = out["result"]
    label, pct = prediction(children)
    ref = resources.plane("identity").model.inverter.invert(np.array([x, y]))
    assert label == str(digit) == str(ref.predicted)
    assert pct == pytest.approx(shown_value(ref.confidence), abs=0.006) and pct >= 99
    text = text_of(children)
    assert f"pixels range from {ref.pixel_min:.3f} to {ref.pixel_max:.3f}" in text
    assert not ref.in_range and "Not a valid image" in text  # the far image is not a picture
    assert f"residual {ref.residual:.2e}" in text
    assert out["point"] == {"network": "identity", "point": [x, y], "nearest": None, "valid": False, "null": 0.0}
    assert_marks(state, "identity", out, (x, y), None)  # both maps mark the click
    np.testing.assert_allclose(drawn(out["image"]), ref.image, rtol=1e-6, atol=1e-6)


def test_presets_invert_the_far_points_of_the_current_network(state, far):
    for name in NETWORKS:
        for k, entry in enumerate(far[name]):
            out = run(state, "preset", name, preset=k)
            assert out["point"]["network"] == name
            assert out["point"]["point"] == pytest.approx(entry["hidden"])
            label, pct = prediction(out["result"])
            assert label == str(entry["predicted"])
            assert pct == pytest.approx(shown_value(entry["probability"]), abs=0.006)
            assert_marks(state, name, out, tuple(out["point"]["point"]), None)


def test_tanh_click_inside_and_outside_the_codomain(resources, state):
    inv = resources.plane("tanh").model.inverter
    out = run(state, "click", "tanh", click_data=click(0.3, -0.5))
    ref = inv.invert(np.array([0.3, -0.5]))
    assert prediction(out["result"]) == (str(ref.predicted), pytest.approx(shown_value(ref.confidence), abs=0.006))
    for x, y in [(1.5, 0.2), (-1.0, 0.0), (0.0, 1.0), (40.0, -40.0)]:
        with pytest.raises(InversionError):
            inv.invert(np.array([x, y]))
        out = run(state, "click", "tanh", click_data=click(x, y))
        (alert,) = alerts(out["result"])
        assert alert.color == "info" and "cannot reach" in text_of(alert)
        assert "Prediction" not in text_of(out["result"])
        # the old image is cleared, not left beside the message
        assert out["image"]["pixels"] is None and np.isnan(drawn(out["image"])).all()


def test_tanh_far_presets_are_capped_below_the_identity_certainty(state, far):
    caps = [f["max_confidence"] for f in far["tanh"]]
    assert max(caps) < 0.99  # a bounded plane bounds the logits
    text = mnist_text.explain(state)[1]
    assert f"{100 * max(caps):.1f}%" in text and f"{100 * min(caps):.1f}%" in text
    sure = min(f["probability"] for f in far["identity"])
    assert sure > 0.99 and mnist_text.certainty(sure) in mnist_text.explain(state)[0]


def test_certainty_reads_well_near_one():
    nb = "\u00a0"
    assert mnist_text.certainty(1.0) == f"P{nb}={nb}1{nb}to{nb}machine{nb}precision"
    assert mnist_text.certainty(1 - 8e-15) == f"P{nb}≥{nb}1{nb}−{nb}8e-15"
    assert mnist_text.certainty(0.97) == f"P{nb}≥{nb}0.9700"


def test_valid_pixels(resources, state, far):
    inv = resources.plane("identity").model.inverter
    polygon = reachable_polygon(inv.A_, inv.c_, *inv.pixel_range)
    # a far point: no valid image reaches it; the page says so and shows the nearest reachable one
    x, y = far["identity"][1]["hidden"]
    assert not contains(polygon, np.array([x, y]))
    q = nearest_reachable(polygon, np.array([x, y]))
    ref = inv.invert(q, valid=True, ref=support_corner(inv.A_, np.array([x, y]) - q))
    assert ref.residual <= EXACT and ref.in_range
    out = run(state, "click", click_data=click(x, y), valid=True)
    text = text_of(out["result"])
    assert "No image with pixels in [0, 1] reaches this point" in text and "Not a valid image" not in text
    assert f"nearest point they reach, {mnist_text.fmt(q)}" in text
    assert prediction(out["result"]) == (str(ref.predicted), pytest.approx(shown_value(ref.confidence), abs=0.006))
    np.testing.assert_allclose(drawn(out["image"]), ref.image, atol=1e-6)
    # a real digit's encoding: a valid image reaches it exactly
    h = resources.plane("identity").model.test_hidden[0]
    ref = inv.invert(h, valid=True)
    assert ref.residual <= EXACT
    out = run(state, "click", click_data=click(*h), valid=True)
    assert "reaches this point" not in text_of(out["result"]) and "Not a valid image" not in text_of(out["result"])
    # ticking the box re-inverts the remembered point, and marks its nearest reachable point on both maps
    point = {"network": "identity", "point": [x, y]}
    out = run(state, "valid", valid=True, point=point)
    assert "No image with pixels in [0, 1]" in text_of(out["result"])
    assert_marks(state, "identity", out, (x, y), q)
    out = run(state, "valid", valid=False, point=point)
    assert "Not a valid image" in text_of(out["result"])
    assert_marks(state, "identity", out, (x, y), None)  # unticked: the nearest marker goes


def test_valid_toggle_without_a_point_of_this_network_changes_nothing_but_the_view(state):
    for point in (None, {"network": "tanh", "point": [0.1, 0.2]}, {"network": "identity", "point": None, "null": 0.4}):
        out = run(state, "valid", valid=True, point=point)
        assert untouched(out, "image", "result", "null", "null_result")
        # the view records the checkbox (the link is written from it)
        null = point["null"] if point and point["point"] is None else 0.0
        assert out["point"] == {"network": "identity", "point": None, "nearest": None, "valid": True, "null": null}


HOSTILE_CLICKS = [
    "x", None, 3, [], [1, 2], {}, {"points": []}, {"points": "abc"}, {"points": [{}]},
    {"points": [{"x": 1}]}, {"points": [{"y": 1}]}, {"points": [{"x": "1", "y": 2}]},
    {"points": [{"x": [1], "y": 2}]}, {"points": [{"x": 1, "y": {"a": 1}}]},
    {"points": [{"x": True, "y": False}]}, {"points": [{"x": math.nan, "y": 0}]},
    {"points": [{"x": 0, "y": math.inf}]}, {"points": [{"x": -math.inf, "y": 0}]},
    {"points": [{"x": 1e308, "y": 0}]}, {"points": [{"x": 0, "y": -1e308}]},
    {"points": [{"x": None, "y": None}]}, {"points": [None]},
]


@pytest.mark.parametrize("network", NETWORKS)
@pytest.mark.parametrize("payload", HOSTILE_CLICKS, ids=[repr(p)[:40] for p in HOSTILE_CLICKS])
def test_hostile_clicks_get_a_message(state, network, payload):
    out = run(state, "click", network, click_data=payload, null=1.0)
    assert untouched(out, "image", "point", "null", "null_result")
    (alert,) = alerts(out["result"])
    assert alert.color == "warning" and len(text_of(alert)) > 10


@pytest.mark.parametrize("network", [None, "", UNKNOWN, "Identity", 1, ["identity"], {"a": "tanh"}, True, "x" * 500])
@pytest.mark.parametrize("trigger", ["network", "click", "preset", "valid", "null"])
def test_unknown_network_gets_a_message(state, network, trigger):
    out = run(state, trigger, network, click_data=click(1.0, 2.0), preset=0, null=1.0,
              point={"network": "identity", "point": [1, 2]})
    assert untouched(out, "image", "point", "null", "null_result")
    text = text_of(out["result"])
    assert alerts(out["result"]) and "Unknown network" in text
    assert f"choose one of {', '.join(state.networks)}" in text and "identity" in text and "tanh" in text
    assert len(text) < 120  # long values are cut


@pytest.mark.parametrize("preset", [4, -1, "0", 1.0, True, None, [0], {"i": 0}, 10**30])
def test_bad_preset_gets_a_message(state, far, preset):
    out = run(state, "preset", "identity", preset=preset)
    assert untouched(out, "image", "point")
    assert f"There are {len(far['identity'])} presets" in text_of(out["result"]) and alerts(out["result"])


@pytest.mark.parametrize("valid", ["yes", 1, 0, [True], {"v": 1}, math.nan])
def test_bad_checkbox_value_gets_a_message(state, valid):
    out = run(state, "click", click_data=click(1.0, 2.0), valid=valid)
    assert untouched(out, "image", "point")
    assert "[0, 1]" in text_of(out["result"]) and alerts(out["result"])


@pytest.mark.parametrize("point", ["x", 3, [1, 2], {"point": [1, 2]}, {"network": "identity"},
                                   {"network": "identity", "point": [1]}, {"network": "identity", "point": "ab"},
                                   {"network": "identity", "point": [math.nan, 0]},
                                   {"network": "identity", "point": [1e308, 0]},
                                   {"network": "evil", "point": [1, 2]}])
def test_bad_remembered_point_gets_a_message(state, point):
    out = run(state, "valid", valid=True, point=point)
    assert untouched(out, "image", "point")
    assert alerts(out["result"]) and "Prediction" not in text_of(out["result"])


def test_unknown_trigger_changes_nothing(state):
    assert update_mnist(state, "zoom", network="identity", click_data=click(1.0, 2.0)) == (no_update,) * len(OUTPUTS)


def test_a_click_builds_no_map_and_no_grid(state, monkeypatch):
    for name in NETWORKS:  # what create_app's warm() built: maps, figures, analyses
        run(state, "network", name)
        update_maps(state, name)
    run(state, "preset", "identity", preset=0)

    def forbidden(*a, **k):
        raise AssertionError("rebuilt on a click")

    for target in ("make_hidden_map_figure", "make_loss_figure", "make_samples_figure"):
        monkeypatch.setattr(compute, target, forbidden)
    monkeypatch.setattr(compute.NetworkView, "_map", forbidden)
    for target in ("app.figures.make_region_figure", "app.figures.make_hidden_map_figure",
                   "app.images.make_digit_figure",
                   "fooling.regions.evaluate_grid", "fooling.analysis.evaluate_grid", "app.resources.evaluate_grid",
                   "fooling.analysis.fooling_points", "fooling.probes.fooling_points",
                   "fooling.analysis.reachable_polygon", "fooling.analysis.estimate_reachable",
                   "fooling.analysis.null_space_basis", "fooling.analysis.fit_rbf_head", "fooling.heads.fit_rbf_head",
                   "fooling.heads.RBFHead.fit", "fooling.density.DensityCheck.fit",
                   "fooling.density.ImageDensityCheck.fit", "fooling.analysis.PlaneAnalysis.build",
                   "fooling.store.load_or_build"):  # ... nor read back from the disk cache
        monkeypatch.setattr(target, forbidden)
    for name in NETWORKS:
        out = run(state, "preset", name, preset=2, valid=True, null=1.0)
        assert prediction(out["result"])[0] == "2"
        assert out["point"]["network"] == name and out["null"] == 0
        moved = run(state, "null", name, valid=True, null=1.0, point=out["point"])
        assert prediction(moved["null_result"])[0] == "2"
        assert run(state, "network", name)["image"] is state.blank_digit
        linear, rbf = update_maps(state, name)
        assert linear.layout.uirevision == f"mnist-{name}"
        assert rbf.layout.uirevision == f"mnist-rbf-{name}"


def test_the_page_is_few_components_and_its_text_static_markup(state):
    """Every Dash component is a store subscriber the browser re-checks at each of a click's
    ~60 store updates, so text no callback touches is static markup (one component a block):
    the page was 132 components before, 85 after."""
    page = mnist_page.layout(state)
    comps = [page, *page._traverse()]
    assert len(comps) <= 100, len(comps)
    blocks = [c for c in comps if isinstance(c, Markup)]
    assert len(blocks) >= 5
    text = " ".join(markup_text(b) for b in blocks)
    assert "held-out digits" in text and "Remedies" in text and "held-out accuracy" in text


def test_the_click_result_is_a_prop_of_a_block_on_the_page(state):
    """A click's text goes into the ``tree`` of the result's static-markup block: one prop
    changes, and no component is mounted (a new child would be crawled by the browser for
    ids and callbacks on every click)."""
    page = mnist_page.layout(state)
    (block,) = [c for c in page._traverse() if getattr(c, "id", None) == ids.MNIST_RESULT]
    assert isinstance(block, Markup) and "Click" in markup_text(block)
    out = as_sent(update_mnist(state, "preset", network="identity", preset=2))
    result = out[OUTPUTS.index("result")]
    assert isinstance(result, list) and not isinstance(result, Markup)
    assert "Prediction: " in markup_text(result) and "Prediction: " not in markup_text(block)
    # nothing to say stays nothing to send
    assert as_sent(update_mnist(state, "network", network="identity",
                                point={"network": "identity"}))[OUTPUTS.index("result")] is no_update


def test_layout_has_every_contract_id(resources, state):
    page = mnist_page.layout(state)
    found = {c.id for c in page._traverse() if isinstance(getattr(c, "id", None), str)}
    for i in (ids.MNIST_NETWORK, ids.MNIST_MAP, ids.MNIST_IMAGE, ids.MNIST_RESULT, ids.MNIST_VALID,
              ids.MNIST_LOSS, ids.MNIST_SAMPLES, ids.MNIST_POINT):
        assert i in found, i
    presets = [c.id for c in page._traverse() if isinstance(getattr(c, "id", None), dict)]
    assert all(p["type"] == ids.MNIST_PRESET for p in presets) and {p["index"] for p in presets} == {0, 1, 2, 3}
    essay = resources.essay
    text = text_of(mnist_page.layout(state))
    for n in NETWORKS:
        acc = resources.plane(n).model.trained.test_accuracy
        assert f"{100 * acc:.1f}%" in text and f"{100 * essay[n]['accuracy']:.0f}%" in text
    names = [str(c) for c in resources.plane("identity").model.net.classes]
    assert all(f"far {d}" in text for d in names)


# ---- remedies: RBF head, reachable region, null space, density --------------------------

RBF = re.compile(r"RBF head, same hidden point:\s*(\S+)\s*\((>?\d+\.\d+)%\)")
RESIDUAL = re.compile(r"residual (\S+?)(?:;|\s|$)")
MOVED = re.compile(r"(\S+) from the unmoved image's point")


def rbf_prediction(children) -> tuple[str, float]:
    m = RBF.search(text_of(children))
    assert m, f"no RBF head prediction in {text_of(children)!r}"
    return m.group(1), float(m.group(2).lstrip(">"))


def residual(children) -> float:
    m = RESIDUAL.search(text_of(children))
    assert m, f"no residual in {text_of(children)!r}"
    return float(m.group(1))


def find(node, cond) -> list:
    """Every component in a tree for which ``cond`` holds."""
    out = []
    if isinstance(node, (list, tuple)):
        for c in node:
            out += find(c, cond)
    elif node is not None and node is not no_update and not isinstance(node, (str, int, float)):
        if cond(node):
            out.append(node)
        out += find(getattr(node, "children", None), cond)
    return out


@pytest.fixture(scope="module")
def image_check(resources):
    """The core's image density check, fitted here on the same training images."""
    return ImageDensityCheck().fit(resources.plane("identity").model.split.X_train)


@pytest.fixture(scope="module")
def polygon(resources):
    inv = resources.plane("identity").model.inverter
    return reachable_polygon(inv.A_, inv.c_, *inv.pixel_range)


def sample(polygon, bounds, n, inside, seed=0) -> np.ndarray:
    """``n`` uniform points of ``bounds`` inside (or outside) ``polygon``."""
    rng = np.random.default_rng(seed)
    x0, x1, y0, y1 = bounds
    pts = rng.uniform([x0, y0], [x1, y1], size=(20 * n, 2))
    keep = pts[contains(polygon, pts) == inside]
    assert len(keep) >= n
    return keep[:n]


def test_hidden_map_figure_adds_the_outlines_last_and_no_marker():
    xs, ys = np.linspace(0, 4, 5), np.linspace(0, 3, 4)
    proba = np.tile(np.array([0.7, 0.1, 0.1, 0.1], dtype=np.float32), (4, 5, 1))
    grid = RegionGrid(xs, ys, proba)
    square = np.array([[1, 1], [2, 1], [2, 2], [1, 2]], dtype=float)
    segs = np.array([[[0, 0], [1, 1]], [[2, 2], [3, 3]]], dtype=float)
    fig = make_hidden_map_figure(grid, ["a", "b", "c", "d"], reachable=square, reachable_name="reach",
                                 typical=segs, typical_name="typ")
    names = [t.name for t in fig.data]
    assert names[0] == "regions" and names[-2:] == ["reach", "typ"]
    assert "clicked" not in names and "nearest reachable" not in names  # markers are drawn in the browser
    ring = fig.data[-2]
    assert list(ring.x) == [1, 2, 2, 1, 1] and list(ring.y) == [1, 1, 2, 2, 1]  # closed
    typ = fig.data[-1]
    assert np.isnan(typ.x[2]) and list(typ.x[:2]) == [0, 1] and list(typ.x[3:5]) == [2, 3]
    bare = make_hidden_map_figure(grid, ["a", "b", "c", "d"])
    assert [t.name for t in bare.data] == ["regions"]


@pytest.mark.parametrize("name", NETWORKS)
def test_rbf_map_is_the_rbf_heads_regions_on_the_same_plane(resources, state, name):
    v = state.view(name)
    lin, rbf = v.base_map, v.rbf_map
    assert rbf is state.view(name).rbf_map  # built once
    assert [t.name for t in lin.data] == [t.name for t in rbf.data]
    assert tuple(lin.layout.xaxis.range) == tuple(rbf.layout.xaxis.range)
    assert tuple(lin.layout.yaxis.range) == tuple(rbf.layout.yaxis.range)
    assert "RBF head" in rbf.layout.title.text and "linear head" in lin.layout.title.text
    named = {"identity": "Identity net", "tanh": "Tanh net", "relu": "ReLU net"}[name]
    assert lin.layout.title.text.startswith(named) and rbf.layout.title.text.startswith(named)
    assert rbf.layout.uirevision == f"mnist-rbf-{name}"
    a = resources.plane(name)
    head = a.head
    heat = rbf.data[0]
    xs, ys, z = a.rbf_grid.xs, a.rbf_grid.ys, np.asarray(heat.z)
    np.testing.assert_allclose(np.asarray(heat.x, float), xs, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(np.asarray(heat.y, float), ys, rtol=1e-6, atol=1e-6)
    levels = 255 // len(v.labels)  # uint8 values: class * levels + confidence step
    assert z.dtype == np.uint8 and heat.zmax == len(v.labels) * levels
    rng = np.random.default_rng(1)
    for i, j in zip(rng.integers(0, len(ys), 30), rng.integers(0, len(xs), 30)):
        p = head.predict_proba(np.array([[xs[j], ys[i]]]))[0]
        assert int(z[i, j]) // levels == int(np.argmax(p))  # the colour is the RBF head's class
    # the same held-out points on both maps
    for k in v.labels:
        s = next(t for t in lin.data if t.name == k)
        t = next(t for t in rbf.data if t.name == k)
        np.testing.assert_array_equal(np.asarray(s.x), np.asarray(t.x))


def test_reachable_outline_is_the_exact_polygon_and_tanh_is_labelled_an_estimate(resources, state, polygon):
    fig = state.view("identity").base_map
    (ring,) = [t for t in fig.data if t.name == compute.reach_name(True)]
    xy = np.column_stack([ring.x, ring.y]).astype(float)
    scale = np.abs(polygon).max()
    np.testing.assert_allclose(xy[:-1], polygon, rtol=1e-6, atol=1e-6 * scale)  # sent as float32
    np.testing.assert_allclose(xy[-1], xy[0])
    assert "estimated" not in ring.name
    tanh = state.view("tanh").base_map
    (est,) = [t for t in tanh.data if t.name == compute.reach_name(False)]
    assert "estimated" in est.name
    ref = estimate_reachable(resources.plane("tanh").model.inverter)
    np.testing.assert_allclose(np.column_stack([est.x, est.y]).astype(float)[:-1], ref, rtol=1e-6, atol=1e-7)
    text = " ".join(mnist_text.remedy_text(state))
    assert "estimate" in text and f"{len(polygon):,} corners" in text
    a = resources.plane("identity")
    far_point = a.centroid + np.array([compute.FAR_RADII * a.radius, 0.0])
    p = a.head.predict_proba(far_point[None, :])[0]
    names = [str(c) for c in a.model.net.classes]
    assert p.max() < 0.95 and f"a {names[int(np.argmax(p))]} at {100 * p.max():.1f}%" in text
    inside = [bool(contains(polygon, np.array(f["hidden"]))) for f in fooling_points(a.model)]
    assert ("none of the four far presets" in text) == (not any(inside))


def test_typical_line_is_the_density_checks_threshold(resources, state):
    m = resources.plane("identity").model
    check = DensityCheck().fit(m.train_hidden)
    level = log_density_level(check)  # the check's exact in/out boundary
    assert np.array_equal(check.in_distribution(m.train_hidden), check.log_density(m.train_hidden) > level)
    fig = state.view("identity").base_map
    (line,) = [t for t in fig.data if t.name == compute.TYPICAL_NAME]
    pts = np.column_stack([line.x, line.y]).astype(float)
    pts = pts[np.isfinite(pts).all(axis=1)]
    assert len(pts) > 10
    logd = check.log_density(pts)
    assert np.median(np.abs(logd - level)) < 0.05 * abs(level) + 0.1
    assert check.in_distribution(m.test_hidden).mean() > 0.9  # the line encloses the data


@pytest.mark.parametrize("name", NETWORKS)
def test_click_shows_both_heads_predictions(resources, state, far, name):
    a = resources.plane(name)
    m = a.model
    names = [str(c) for c in m.net.classes]
    points = [tuple(f["hidden"]) for f in far[name]] + [tuple(h) for h in m.test_hidden[:4]]
    for x, y in points:
        children = run(state, "click", name, click_data=click(x, y))["result"]
        ref = m.inverter.invert(np.array([x, y]))
        p = a.head.predict_proba(ref.hidden[None, :])[0]
        k = int(np.argmax(p))
        assert prediction(children) == (str(ref.predicted), pytest.approx(shown_value(ref.confidence), abs=0.006))
        label, pct = rbf_prediction(children)
        assert label == names[k] and pct == pytest.approx(shown_value(p[k]), abs=0.006)
        (table,) = find(children, lambda c: type(c).__name__ == "Table")
        rows = [text_of(r).split() for r in find(table, lambda c: type(c).__name__ == "Tr")][1:]
        assert [r[0] for r in rows] == names
        np.testing.assert_allclose([float(r[1].strip(">%")) for r in rows], [shown_value(v) for v in ref.proba], atol=0.006)
        np.testing.assert_allclose([float(r[2].strip(">%")) for r in rows], [shown_value(v) for v in p], atol=0.006)


def test_rbf_accuracy_is_stated_beside_the_linear_one(resources, state):
    page = mnist_page.layout(state)
    caps = {c: text_of(find(page, lambda n, c=c: c in (getattr(n, "className", None) or "")))
            for c in ("accuracy-linear", "accuracy-rbf")}
    for n in NETWORKS:
        a = resources.plane(n)
        m = a.model
        rbf = a.head.score_images(m.split.X_test, m.split.y_test)
        assert f"{n} net {100 * rbf:.1f}%" in caps["accuracy-rbf"]
        assert f"{n} net {100 * m.trained.test_accuracy:.1f}%" in caps["accuracy-linear"]
    found = {c.id for c in page._traverse() if isinstance(getattr(c, "id", None), str)}
    assert {ids.MNIST_RBF_MAP, ids.MNIST_NULL, ids.MNIST_NULL_RESULT} <= found


def test_two_hundred_valid_clicks_inside_the_polygon_land_exactly(resources, state, polygon):
    a = resources.plane("identity")
    inv = a.model.inverter
    pts = sample(polygon, a.bounds, 200, inside=True)
    for x, y in pts:
        out = run(state, "click", click_data=click(float(x), float(y)), valid=True)
        children = out["result"]
        text = text_of(children)
        assert "No image with pixels" not in text and "Not a valid image" not in text, text
        assert "inside the region valid images reach" in text
        assert residual(children) <= EXACT
        pixels = drawn(out["image"])
        assert pixels.shape == (784,) and pixels.min() >= 0.0 and pixels.max() <= 1.0
        ref = inv.invert(np.array([x, y]), valid=True)
        np.testing.assert_allclose(pixels, ref.image, atol=1e-6)
        assert out["point"] == {"network": "identity", "point": [float(x), float(y)], "nearest": None,
                                "valid": True, "null": 0.0}


def test_valid_click_outside_shows_the_nearest_reachable_point(resources, state, far, polygon, monkeypatch):
    a = resources.plane("identity")
    inv = a.model.inverter
    asked = []
    real = inv.invert

    def spy(h, **kw):
        asked.append(np.array(h, dtype=float))
        return real(h, **kw)

    monkeypatch.setattr(inv, "invert", spy)
    pts = [tuple(f["hidden"]) for f in far["identity"]] + [tuple(p) for p in sample(polygon, a.bounds, 15, inside=False)]
    for x, y in pts:
        q = nearest_reachable(polygon, np.array([x, y]))
        asked.clear()
        out = run(state, "click", click_data=click(x, y), valid=True, null=0.5)
        assert len(asked) == 1 and np.allclose(asked[0], q)  # one solve, none aimed at the unreachable click
        children = out["result"]
        text = text_of(children)
        assert "No image with pixels in [0, 1] reaches this point" in text
        assert f"nearest point they reach, {mnist_text.fmt(q)}" in text
        assert f"{np.hypot(x - q[0], y - q[1]):.3g} away" in text
        ref = real(q, valid=True, ref=support_corner(inv.A_, np.array([x, y]) - q))
        assert residual(children) <= EXACT and ref.residual <= EXACT
        pixels = drawn(out["image"])
        assert pixels.min() >= 0 and pixels.max() <= 1
        np.testing.assert_allclose(pixels, ref.image, atol=1e-6)
        assert prediction(children) == (str(ref.predicted), pytest.approx(shown_value(ref.confidence), abs=0.006))
        # the same response marks the click and the nearest point on both maps, and resets the slider
        assert_marks(state, "identity", out, (x, y), q)
        assert out["null"] == 0 and idle_readout(out["null_result"])
        # unticked: no nearest point, the unconstrained image lands on the click itself
        assert_marks(state, "identity", run(state, "click", click_data=click(x, y), valid=False), (x, y), None)


def test_tanh_valid_clicks(resources, state):
    inv = resources.plane("tanh").model.inverter
    # outside the codomain: still 'cannot reach', no nearest point
    out = run(state, "click", "tanh", click_data=click(1.5, 0.2), valid=True)
    (alert,) = alerts(out["result"])
    assert "cannot reach" in text_of(alert)
    assert_marks(state, "tanh", out, (1.5, 0.2), None)
    # inside the estimate: a valid image
    out = run(state, "click", "tanh", click_data=click(0.3, -0.5), valid=True)
    ref = inv.invert(np.array([0.3, -0.5]), valid=True)
    assert prediction(out["result"]) == (str(ref.predicted), pytest.approx(shown_value(ref.confidence), abs=0.006))
    assert "(estimated)" in text_of(out["result"])
    pixels = drawn(out["image"])
    assert pixels.min() >= 0 and pixels.max() <= 1


NULL_CASES = [("identity", "far", 2, False), ("identity", "test", 0, True), ("identity", "far", 0, True),
              ("identity", "test", 7, False), ("tanh", "test", 3, False), ("tanh", "far", 1, False),
              ("tanh", "test", 5, True)]


@pytest.mark.parametrize("name,kind,index,valid", NULL_CASES)
def test_null_slider_moves_the_image_not_the_hidden_point(resources, state, far, name, kind, index, valid):
    m = resources.plane(name).model
    x, y = far[name][index]["hidden"] if kind == "far" else m.test_hidden[index]
    point = {"network": name, "point": [float(x), float(y)]}
    base_out = run(state, "valid", name, valid=valid, point=point)
    base = base_out["result"]
    before = drawn(base_out["image"])
    r0 = residual(base)
    for t in (1.0, -1.0, 2.0, -0.5):
        out = run(state, "null", name, valid=valid, null=t, point=point)
        # the slider changes the image and its readout only: the click's result, the maps,
        # the remembered point and the slider itself stay as they are (the pinned view records
        # the value its image is now drawn at)
        assert untouched(out, "result", "null")
        assert out["point"] == {**point, "nearest": out["point"]["nearest"], "valid": valid, "null": t}
        image, readout = out["image"], out["null_result"]
        moved = drawn(image)
        assert np.abs(moved - before).max() > (0.1 if abs(t) >= 1 else 0.05)  # the picture changes
        assert prediction(readout) == prediction(base)  # ... the prediction does not
        assert rbf_prediction(readout) == rbf_prediction(base)
        text = text_of(readout)
        assert "Same hidden point, same prediction" in text and f"t = {t:+.1f}" in text
        assert float(MOVED.search(text).group(1)) <= 1e-6  # re-propagated point within 1e-6
        assert residual(readout) <= max(r0, 0) + 1e-6
        # independently: the drawn (float32) images land on the same hidden point
        h0 = forward(m.net, before, m.hidden_layer)
        h1 = forward(m.net, moved, m.hidden_layer)
        assert np.linalg.norm(h1 - h0) < 1e-4
        # ... which a same-sized step off the null space would not
        off = before + (moved - before)[::-1]
        assert np.linalg.norm(forward(m.net, off, m.hidden_layer) - h0) > 1e-3
    out = run(state, "null", name, valid=valid, null=0, point=point)
    np.testing.assert_allclose(drawn(out["image"]), before)
    assert "Prediction" not in text_of(out["null_result"]) and idle_readout(out["null_result"])


def test_null_directions_are_invisible_to_the_network(resources, state):
    for name in NETWORKS:
        a = resources.plane(name)
        m = a.model
        seen = m.inverter.A_ if name == "identity" else m.net.layers[0].W
        assert a.directions.shape == (4, 784)
        np.testing.assert_allclose(np.abs(a.directions).max(axis=1), 1.0)
        assert np.abs(a.directions @ seen).max() < 1e-9
        assert a.null_dim == null_space_basis(seen).shape[1] == 784 - np.linalg.matrix_rank(seen)
    text = " ".join(mnist_text.remedy_text(state))
    for name in NETWORKS:
        assert f"{resources.plane(name).null_dim} " in text


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, "x", "1", 1e308, -1e308, None, True,
                                   [1], {"v": 1}, 2.5, -3])
def test_hostile_slider_values_get_a_message(state, value):
    point = {"network": "identity", "point": [1.0, 2.0]}
    out = run(state, "null", null=value, point=point)
    # a message under the slider; the image, the click's result and the maps stay as they are
    assert untouched(out, "image", "result", "point", "null")
    (alert,) = alerts(out["null_result"])
    assert alert.color == "warning" and "slider runs from -2 to 2" in text_of(alert)


@pytest.mark.parametrize("kwargs,expect,where", [
    # the network toggle and the checkbox are checked first for every trigger: their message
    # takes the result's place, as for a click
    (dict(network=UNKNOWN), "Unknown network", "result"), (dict(network=None), "Unknown network", "result"),
    (dict(valid="yes"), "[0, 1]", "result"),
    # the remembered point is the slider's own business: its message goes under the slider
    (dict(point="x"), "remembered point", "null_result"),
    (dict(point={"network": "identity", "point": [math.nan, 1]}), "finite", "null_result"),
    (dict(point={"network": "evil", "point": [1, 2]}), "Unknown network", "null_result"),
])
def test_hostile_null_inputs_get_a_message(state, kwargs, expect, where):
    args = dict(network="identity", valid=False, null=1.0, point={"network": "identity", "point": [1.0, 2.0]})
    args.update(kwargs)
    out = run(state, "null", **args)
    other = {"result": "null_result", "null_result": "result"}[where]
    assert untouched(out, "image", "point", "null", other)
    assert expect in text_of(out[where]) and alerts(out[where])


def test_null_slider_without_a_point_of_this_network(state):
    for point in (None, {"network": "tanh", "point": [0.1, 0.2]}):
        out = run(state, "null", null=1.0, point=point)
        assert untouched(out, "image", "result", "null")
        assert out["point"] == {"network": "identity", "point": None, "nearest": None, "valid": False, "null": 1.0}
        assert "Click the map" in text_of(out["null_result"]) and alerts(out["null_result"])
        out = run(state, "null", null=0, point=point)
        assert out["image"] is no_update and idle_readout(out["null_result"])
    out = run(state, "null", "tanh", null=1.0, point={"network": "tanh", "point": [3.0, 0.0]})
    assert out["image"] is no_update and "nothing to move" in text_of(out["null_result"])
    out = run(state, "null", "tanh", null=0, point={"network": "tanh", "point": [3.0, 0.0]})
    assert out["image"] is no_update and idle_readout(out["null_result"])  # a reset after an unreachable click stays quiet


def test_network_switch_sends_both_maps_and_resets_the_slider(state):
    for name in NETWORKS:
        v = state.view(name)
        other = next(n for n in NETWORKS if n != name)
        out = run(state, "network", name, null=1.5, point={"network": other, "point": [3.0, 4.0]})
        assert update_maps(state, name) == (v.base_map, v.rbf_map)  # whole figures, built once
        assert out["image"] is state.blank_digit  # the markers go: a view of the network, no point
        assert out["point"] == {"network": name, "point": None, "nearest": None, "valid": False, "null": 0}
        assert "Click anywhere" in text_of(out["result"]) and not alerts(out["result"])
        assert out["null"] == 0 and idle_readout(out["null_result"])
        assert run(state, "network", name, null=0)["null"] is no_update  # at 0 already: left alone
        # a link set the network together with its view (pinned for this network): all stays
        for view in ({"network": name, "point": [3.0, 4.0], "valid": False, "null": 1.5},
                     {"network": name, "point": None, "valid": False, "null": 0}):
            assert all(v is no_update for v in update_mnist(state, "network", network=name, null=1.5, point=view))


def test_a_click_or_preset_marks_both_maps_and_resets_the_slider(state, far):
    out = run(state, "click", click_data=click(3.0, 4.0), null=-1.0)
    assert_marks(state, "identity", out, (3.0, 4.0), None)
    assert out["null"] == 0 and idle_readout(out["null_result"])
    assert run(state, "click", click_data=click(3.0, 4.0), null=0)["null"] is no_update
    x, y = far["tanh"][1]["hidden"]
    out = run(state, "preset", "tanh", preset=1, null=2.0)
    assert_marks(state, "tanh", out, (pytest.approx(x), pytest.approx(y)), None)
    assert out["null"] == 0 and idle_readout(out["null_result"])


@pytest.mark.parametrize("args", [(UNKNOWN, None, False, 1.0), ("identity", "x", False, 1.0),
                                  ("identity", {"network": "identity", "point": [1, 2]}, "yes", 1.0),
                                  (None, None, None, None), (["identity"], [1], [True], "x"),
                                  ("identity", {"network": "identity", "point": [1e308, 2]}, True, math.nan)])
@pytest.mark.parametrize("trigger", ["valid", "null", "network"])
def test_hostile_inputs_change_no_marker(state, args, trigger):
    network, point, valid, null = args
    out = run(state, trigger, network, point=point, valid=valid, null=null)
    shown = isinstance(point, dict) and point.get("network") == network  # a link's view: kept
    if trigger == "network" and network in NETWORKS and not shown:  # a real switch: that network's maps, no marker
        assert out["point"]["network"] == network and out["point"]["point"] is None
        assert update_maps(state, network) == (state.view(network).base_map, state.view(network).rbf_map)
    else:
        assert untouched(out, "point")
    if not (isinstance(network, str) and network in NETWORKS):
        linear, rbf = update_maps(state, network)
        assert linear is no_update and rbf is no_update
    assert out["null"] is no_update or (out["null"] == 0 and not isinstance(out["null"], bool))


@pytest.mark.parametrize("name", NETWORKS)
def test_density_verdicts_match_the_core(resources, state, far, image_check, name):
    m = resources.plane(name).model
    check = DensityCheck().fit(m.train_hidden)
    points = [tuple(far[name][0]["hidden"])] + [tuple(h) for h in m.test_hidden[:6]]
    verdicts = set()
    for valid in (False, True):
        for x, y in points:
            children = run(state, "click", name, click_data=click(x, y), valid=valid)["result"]
            (block,) = find(children, lambda c: getattr(c, "id", None) == ids.MNIST_DENSITY)
            text = text_of(block)
            ok = bool(check.in_distribution(np.array([[x, y]]))[0])
            pc = float(check.percentile(np.array([[x, y]]))[0])
            verdicts.add(ok)
            assert f"Clicked point: {'in' if ok else 'out of'} distribution" in text
            assert f"percentile among the training encodings is {pc:.1f}" in text
            r, _ = state.view(name).invert((x, y), valid)
            img = r.image[None, :]
            ok = bool(image_check.in_distribution(img)[0])
            assert f"Image: {'in' if ok else 'out of'} distribution" in text
            if np.isfinite(image_check.log_density(img)[0]):
                assert f"percentile among the training images is {float(image_check.percentile(img)[0]):.1f}" in text
            else:
                assert "pixels outside [0, 1]" in text and not r.in_range
    assert verdicts == {True, False}  # both verdicts occur


# ---- over HTTP ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def http_app(resources):
    """One app for every request below (requests do not change it)."""
    from app import create_app

    return create_app(resources)


def _output_key(app) -> str:
    (key,) = [k for k, spec in app.callback_map.items() if f"{ids.MNIST_RESULT}.tree" in k
              and any(i["id"] == ids.MNIST_MAP for i in spec["inputs"])]
    return key


NULL_CHANGED = f"{ids.MNIST_NULL_ASK}.data"
"""How the slider's move reaches the click's callback (through the browser's gate)."""


def answer(r) -> dict:
    """A 200 answer of the page's callback as the browser applies it: its outputs and its
    side updates, by element id; fails on the app's generic error banner."""
    assert r.status_code == 200, r.data[:300]
    out = r.get_json()
    side = out.get("sideUpdate", {})
    assert ids.ERROR not in side, side  # the page's own message, not the generic banner
    assert not set(side) & set(out["response"]), (side, out["response"])
    return {**out["response"], **side}


def _outputs(key: str) -> list[dict]:
    """The 'outputs' of a request body from a callback_map key ('..a.p...b.q..')."""
    parts = key[2:-2].split("...") if key.startswith("..") else [key]
    return [dict(zip(("id", "property"), p.split("@", 1)[0].rsplit(".", 1))) for p in parts]


def body(app, changed: str = f"{ids.MNIST_MAP}.clickData", *, network="identity", click_data=None,
         presets=(None,) * 4, valid=False, null=0, point=None, query=None) -> dict:
    """The request the browser sends for the /mnist callback: every input and state at its value.

    Built from the registered callback's own inputs (a new input fails here loudly).
    """
    key = _output_key(app)
    spec = app.callback_map[key]
    values = {f"{ids.MNIST_NETWORK}.value": network, f"{ids.MNIST_MAP}.clickData": click_data,
              f"{ids.MNIST_VALID}.value": valid, NULL_CHANGED: null, f"{ids.MNIST_NULL}.value": null,
              f"{ids.MNIST_POINT}.data": point, f"{ids.QUERY}.data": query}

    def entry(dep):
        if dep["id"].startswith("{"):  # the presets: {"type": MNIST_PRESET, "index": ALL}
            assert json.loads(dep["id"])["type"] == ids.MNIST_PRESET
            return [{"id": {"index": k, "type": ids.MNIST_PRESET}, "property": dep["property"], "value": v}
                    for k, v in enumerate(presets)]
        return {"id": dep["id"], "property": dep["property"], "value": values[f"{dep['id']}.{dep['property']}"]}

    return {"output": key, "outputs": _outputs(key), "inputs": [entry(d) for d in spec["inputs"]],
            "changedPropIds": [changed], "state": [entry(d) for d in spec["state"]]}


def post(app, payload):
    client = app.server.test_client()
    data = payload if isinstance(payload, (str, bytes)) else json.dumps(payload, allow_nan=True)
    return client.post("/_dash-update-component", data=data, content_type="application/json")


def test_http_click_returns_the_prediction(http_app, far):
    x, y = far["identity"][3]["hidden"]
    r = post(http_app, body(http_app, click_data=click(x, y)))
    out = answer(r)
    assert "Prediction: " in json.dumps(out[ids.MNIST_RESULT]) and '"3"' in json.dumps(out[ids.MNIST_RESULT])
    assert out[ids.MNIST_POINT]["data"] == {"network": "identity", "point": [x, y], "nearest": None,
                                            "valid": False, "null": 0.0}
    preset = body(http_app, json.dumps({"index": 1, "type": ids.MNIST_PRESET}, separators=(",", ":")) + ".n_clicks",
                  network="tanh", presets=(None, 1, None, None))
    r = post(http_app, preset)
    assert r.status_code == 200
    assert r.get_json()["response"][ids.MNIST_POINT]["data"]["point"] == pytest.approx(far["tanh"][1]["hidden"])


def test_one_click_is_one_small_response_with_everything(http_app, resources, far, polygon):
    """A click the way the browser sends it: ONE response carries both maps' markers (the pinned
    point and its nearest reachable point, which the browser draws over both maps), the image,
    the result and the slider's reset; the maps and their heatmaps are not sent again."""
    st = http_app.states_["/mnist"]
    inv = resources.plane("identity").model.inverter
    x, y = far["identity"][1]["hidden"]  # no valid image reaches it: a nearest point to mark too
    q = nearest_reachable(polygon, np.array([x, y]))
    r = post(http_app, body(http_app, click_data=click(x, y), valid=True, null=1.5,
                            point={"network": "identity", "point": [0.5, 0.5]}))
    out = answer(r)
    assert set(out) == {i for i, _ in PAGE_OUTPUTS.values()}  # everything, and no map
    # the declared outputs are what a click always changes; the slider and its readout come
    # as side updates (declared, they would render twice on every click, reset or not)
    assert set(r.get_json()["response"]) == {PAGE_OUTPUTS[n][0] for n in DECLARED}
    assert set(r.get_json()["sideUpdate"]) == {ids.MNIST_NULL, ids.MNIST_NULL_RESULT}
    # both maps' markers: the clicked point and the nearest reachable one
    assert out[ids.MNIST_POINT]["data"] == {"network": "identity", "point": [x, y],
                                            "nearest": [pytest.approx(q[0]), pytest.approx(q[1])],
                                            "valid": True, "null": 0.0}
    # the image: its pixels, the core's valid image landing on the nearest point
    ref = inv.invert(q, valid=True, ref=support_corner(inv.A_, np.array([x, y]) - q))
    np.testing.assert_allclose(drawn(out[ids.MNIST_IMAGE]["digit"]), ref.image, atol=1e-6)
    # the result, the pinned point, the slider back to 0 and its readout at rest
    # the result is the static-markup block's tree (a prop: the click mounts no component)
    result = json.dumps(out[ids.MNIST_RESULT]["tree"])
    assert set(out[ids.MNIST_RESULT]) == {"tree"} and "Prediction: " in markup_text(out[ids.MNIST_RESULT]["tree"])
    assert "Prediction: " in result and f'"{ref.predicted}"' in result
    assert "No image with pixels in [0, 1] reaches this point" in result
    assert out[ids.MNIST_NULL]["value"] == 0
    readout = json.dumps(out[ids.MNIST_NULL_RESULT]["children"])
    assert "Click a point, then move the slider" in readout and not served_message(readout)
    # small: no map and no heatmap in it (one region heatmap alone is larger than the whole answer)
    assert ids.MNIST_MAP not in out and ids.MNIST_RBF_MAP not in out
    assert json.dumps(out).count('"bdata"') == 1  # the image's pixels, nothing else as an array
    heatmap = len(json.dumps(st.view("identity").base_map.to_plotly_json()["data"][0],
                             cls=plotly.utils.PlotlyJSONEncoder))
    size = len(r.get_data())
    assert size < 20_000 and size < heatmap, (size, heatmap)  # one heatmap alone would not fit


def test_http_link_sets_the_controls_as_side_updates_and_they_find_the_view_drawn(http_app):
    """A link's answer: the image, result and pinned view as outputs; the toggle, checkbox,
    slider and readout as side updates, only those that change. The toggle and checkbox the
    link set then call the page again, and that call finds the view drawn: nothing to do."""
    query = {"net": ["tanh"], "x": ["0.3"], "y": ["-0.2"], "valid": ["1"], "null": ["0.5"]}
    r = post(http_app, body(http_app, f"{ids.QUERY}.data", query=query))
    out = answer(r)
    assert set(r.get_json()["response"]) == {PAGE_OUTPUTS[n][0] for n in DECLARED}
    assert r.get_json()["sideUpdate"][ids.MNIST_NETWORK] == {"value": "tanh"}
    assert r.get_json()["sideUpdate"][ids.MNIST_VALID] == {"value": True}
    assert out[ids.MNIST_NULL]["value"] == 0.5 and "Moved image, t = +0.5" in json.dumps(out[ids.MNIST_NULL_RESULT])
    view = out[ids.MNIST_POINT]["data"]
    assert view == {"network": "tanh", "point": [0.3, -0.2], "nearest": view["nearest"], "valid": True, "null": 0.5}
    for changed in (f"{ids.MNIST_NETWORK}.value", f"{ids.MNIST_VALID}.value"):
        again = post(http_app, body(http_app, changed, network="tanh", valid=True, null=0.5, point=view))
        assert again.status_code == 204, (changed, again.data[:300])  # drawn already
    # the toggle already as the link asks is not set again (its maps would be sent again)
    r = post(http_app, body(http_app, f"{ids.QUERY}.data", network="tanh", query=query))
    assert ids.MNIST_NETWORK not in r.get_json()["sideUpdate"] and ids.MNIST_VALID in r.get_json()["sideUpdate"]
    # a link with no point: a view of the network alone, which its toggle's call leaves as is
    r = post(http_app, body(http_app, f"{ids.QUERY}.data", query={"net": ["tanh"], "x": ["1"]}))
    out = answer(r)
    assert "needs both x and y" in json.dumps(out[ids.MNIST_RESULT])
    view = out[ids.MNIST_POINT]["data"]
    assert view["network"] == "tanh" and view["point"] is None
    again = post(http_app, body(http_app, f"{ids.MNIST_NETWORK}.value", network="tanh", point=view))
    assert again.status_code == 204  # the link's note stays


def test_the_checkbox_redraws_only_a_view_drawn_with_other_pixels(state):
    point = {"network": "identity", "point": [3.0, 4.0], "nearest": None, "valid": True, "null": 0.0}
    assert all(v is no_update for v in update_mnist(state, "valid", network="identity", valid=True, point=point))
    out = run(state, "valid", valid=False, point=point)
    assert out["point"]["valid"] is False and "Prediction: " in text_of(out["result"])
    # a view an unreachable slider move left: it records the slider's value, so the move back
    # to that value is not stopped in the browser while the readout says something else
    out = run(state, "null", "tanh", null=1.0, point={"network": "tanh", "point": [3.0, 0.0], "nearest": [0.5, 0.1]})
    assert "nothing to move" in text_of(out["null_result"])
    assert out["point"] == {"network": "tanh", "point": [3.0, 0.0], "nearest": [0.5, 0.1], "valid": False, "null": 1.0}
    for bad in ([math.nan, 0.1], [1e308, 0.1], [True, 0.1], ["a", 1], [1], "x"):  # a crafted nearest is not kept
        out = run(state, "null", "tanh", null=1.0, point={"network": "tanh", "point": [3.0, 0.0], "nearest": bad})
        assert out["point"]["nearest"] is None, bad


HOSTILE_BODIES = [
    dict(click_data="x"), dict(click_data=None), dict(click_data={"points": [{"x": "NaN", "y": 1}]}),
    dict(click_data={"points": [{"x": 1e308, "y": 1e308}]}), dict(click_data={"points": [{"x": [1, 2]}]}),
    dict(click_data={"points": [{}]}), dict(click_data=[[1, 2]]), dict(network=UNKNOWN, click_data=click(1, 2)),
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
    out = answer(r)  # the page's own message, not the app's generic error banner
    result = json.dumps(out[ids.MNIST_RESULT])
    assert served_message(result) and "Prediction" not in result


@pytest.mark.parametrize("raw", [b"", b"{", b"null", b"[]", json.dumps({"output": "nope.children"}).encode(), None])
def test_malformed_bodies_are_not_a_500(http_app, raw):
    if raw is None:  # the real callback's key, with nonsense inputs
        raw = json.dumps({"output": _output_key(http_app), "inputs": "x", "changedPropIds": []}).encode()
    r = post(http_app, raw)
    assert r.status_code < 500, (r.status_code, r.data[:200])


def test_http_page_and_layout_serve(http_app):
    client = http_app.server.test_client()
    for path in ("/", "/mnist", "/_dash-layout"):
        assert client.get(path).status_code == 200, path


def test_http_null_slider_moves_the_image(http_app, far):
    x, y = far["identity"][2]["hidden"]
    point = {"network": "identity", "point": [x, y]}
    r = post(http_app, body(http_app, NULL_CHANGED, null=1.0, point=point))
    out = answer(r)
    readout = json.dumps(out[ids.MNIST_NULL_RESULT])
    assert "Prediction: " in readout and "Same hidden point, same prediction" in readout
    # the click's result and the maps stay; the pinned view records the slider's value
    assert set(out) == {ids.MNIST_IMAGE, ids.MNIST_NULL_RESULT, ids.MNIST_POINT}
    assert out[ids.MNIST_POINT]["data"] == {"network": "identity", "point": [x, y], "nearest": None,
                                            "valid": False, "null": 1.0}


HOSTILE_SLIDER = [math.nan, math.inf, "x", 1e308, -1e308, None, True, [1], {"a": 1}, 2.5]


@pytest.mark.parametrize("value", HOSTILE_SLIDER, ids=[repr(v) for v in HOSTILE_SLIDER])
def test_http_hostile_slider_values_get_a_message(http_app, value):
    point = {"network": "identity", "point": [1.0, 2.0]}
    r = post(http_app, body(http_app, NULL_CHANGED, null=value, point=point))
    out = answer(r)
    assert ids.MNIST_NULL_RESULT in out, out
    readout = json.dumps(out[ids.MNIST_NULL_RESULT])
    assert served_message(readout) and "slider runs from" in readout
    assert set(out) == {ids.MNIST_NULL_RESULT}  # the image, the click's result and the pinned point are left alone


@pytest.mark.parametrize("kwargs,where", [
    (dict(network=UNKNOWN), ids.MNIST_RESULT), (dict(valid="yes"), ids.MNIST_RESULT),
    (dict(point="x"), ids.MNIST_NULL_RESULT), (dict(point={"network": "identity", "point": ["a", 1]}), ids.MNIST_NULL_RESULT),
])
def test_http_hostile_null_state_gets_a_message(http_app, kwargs, where):
    kwargs.setdefault("point", {"network": "identity", "point": [1.0, 2.0]})
    r = post(http_app, body(http_app, NULL_CHANGED, null=1.0, **kwargs))
    response = answer(r)
    assert set(response) == {where} and served_message(json.dumps(response[where]))


@pytest.mark.parametrize("kwargs", [dict(point="x"), dict(network=UNKNOWN), dict(valid="yes"),
                                    dict(point={"network": "identity", "point": [math.nan, 1]}),
                                    dict(changed=f"{ids.MNIST_NETWORK}.value", network=["x"]),
                                    dict(null="x", point=[1, 2])])
def test_http_hostile_toggle_inputs_are_not_a_500(http_app, kwargs):
    kwargs.setdefault("changed", f"{ids.MNIST_VALID}.value")
    r = post(http_app, body(http_app, **kwargs))
    assert r.status_code in (200, 204), r.data[:300]
    if r.status_code == 200:
        response = answer(r)
        assert not {ids.MNIST_MAP, ids.MNIST_RBF_MAP, ids.MNIST_POINT} & set(response)  # no marker moved
