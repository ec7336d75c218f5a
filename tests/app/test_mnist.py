"""/mnist without a browser: the callbacks called directly and over HTTP, and the page's figures."""

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
from app.figures_mnist import (NEAREST, blank_digit_figure, decode_typed_array, digit_range,
                               make_hidden_map_figure, make_samples_figure, patch_digit, typed_array)
from app import mnist_view as view
from app.pages import mnist
from fooling.density import DensityCheck, ImageDensityCheck
from fooling.inversion import InversionError
from fooling.network import forward
from fooling.reachable import (contains, estimate_reachable, nearest_reachable, null_space_basis,
                               reachable_polygon, support_corner)
from fooling.regions import RegionGrid
from fooling.probes import fooling_points

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


def patch_ops(patch) -> dict:
    """A dash.Patch's assignments, keyed by location."""
    return {tuple(o["location"]): o["params"]["value"] for o in patch.to_plotly_json()["operations"]}


def drawn(image_patch) -> np.ndarray:
    """The pixels an image Patch draws, back in row order (784,)."""
    return decode_typed_array(patch_ops(image_patch)[("data", 0, "z")])[::-1].ravel().astype(float)


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
    digits = [t for t in a.data if t.type == "scatter" and t.name in view.NAMES]
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
    text = view.explain(resources)[1]
    assert f"{100 * max(caps):.1f}%" in text and f"{100 * min(caps):.1f}%" in text
    sure = min(f["probability"] for f in far["identity"])
    assert sure > 0.99 and view.certainty(sure) in view.explain(resources)[0]


def test_certainty_reads_well_near_one():
    nb = "\u00a0"
    assert view.certainty(1.0) == f"P{nb}={nb}1{nb}to{nb}machine{nb}precision"
    assert view.certainty(1 - 8e-15) == f"P{nb}≥{nb}1{nb}−{nb}8e-15"
    assert view.certainty(0.97) == f"P{nb}≥{nb}0.9700"


def test_valid_pixels(resources, far):
    inv = resources.hidden_plane("identity").model.inverter
    polygon = reachable_polygon(inv.A_, inv.c_, *inv.pixel_range)
    # a far point: no valid image reaches it; the page says so and shows the nearest reachable one
    x, y = far["identity"][1]["hidden"]
    assert not contains(polygon, np.array([x, y]))
    q = nearest_reachable(polygon, np.array([x, y]))
    ref = inv.invert(q, valid=True, ref=support_corner(inv.A_, np.array([x, y]) - q))
    assert ref.residual <= view.EXACT and ref.in_range
    _, image, children, _ = mnist.update_inversion(resources, "identity", "click", click_data=click(x, y), valid=True)
    text = text_of(children)
    assert "No image with pixels in [0, 1] reaches this point" in text and "Not a valid image" not in text
    assert f"nearest point they reach, {view.fmt(q)}" in text
    assert prediction(children) == (str(ref.predicted), pytest.approx(100 * ref.confidence, abs=0.006))
    np.testing.assert_allclose(drawn(image), ref.image, atol=1e-6)
    # a real digit's encoding: a valid image reaches it exactly
    h = resources.hidden_plane("identity").model.test_hidden[0]
    ref = inv.invert(h, valid=True)
    assert ref.residual <= view.EXACT
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
    for name in mnist.NETWORKS:  # caches filled (register does this)
        mnist.update_inversion(resources, name, "network")
        mnist.update_marks(resources, name, None, False, 0, True)
    mnist.update_inversion(resources, "identity", "preset", preset=0)

    def forbidden(*a, **k):
        raise AssertionError("rebuilt on a click")

    monkeypatch.setattr(view, "make_hidden_map_figure", forbidden)
    monkeypatch.setattr("app.figures_mnist.make_region_figure", forbidden)
    monkeypatch.setattr(view, "fooling_points", forbidden)
    monkeypatch.setattr("app.figures_mnist.make_digit_figure", forbidden)
    monkeypatch.setattr("fooling.regions.evaluate_grid", forbidden)
    monkeypatch.setattr("app.resources.evaluate_grid", forbidden)
    monkeypatch.setattr(view, "evaluate_grid", forbidden)
    for fit in ("DensityCheck", "ImageDensityCheck", "reachable_polygon", "estimate_reachable", "null_space_basis"):
        monkeypatch.setattr(view, fit, forbidden)
    monkeypatch.setattr("fooling.heads.RBFHead.fit", forbidden)
    for name in mnist.NETWORKS:
        _, _, children, store = mnist.update_inversion(resources, name, "preset", preset=2, valid=True)
        assert prediction(children)[0] == "2"
        rbf, linear, _ = mnist.update_marks(resources, name, store, True, 1.0, False)
        assert isinstance(rbf, Patch) and isinstance(linear, Patch)
        _, readout = mnist.update_null(resources, 1.0, name, True, store)
        assert prediction(readout)[0] == "2"
        fig, *_ = mnist.update_inversion(resources, name, "network")
        assert fig.layout.uirevision == f"mnist-{name}"
        rbf, *_ = mnist.update_marks(resources, name, None, False, 0, True)
        assert rbf.layout.uirevision == f"mnist-rbf-{name}"


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
    assert all(f"far {d}" in text for d in view.NAMES)


# ---- remedies: RBF head, reachable region, null space, density --------------------------

RBF = re.compile(r"RBF head, same hidden point:\s*(\S+)\s*\((\d+\.\d+)%\)")
RESIDUAL = re.compile(r"residual (\S+?)(?:;|\s|$)")
MOVED = re.compile(r"(\S+) from the unmoved image's point")


def rbf_prediction(children) -> tuple[str, float]:
    m = RBF.search(text_of(children))
    assert m, f"no RBF head prediction in {text_of(children)!r}"
    return m.group(1), float(m.group(2))


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
    return ImageDensityCheck().fit(resources.hidden_plane("identity").model.split.X_train)


@pytest.fixture(scope="module")
def polygon(resources):
    inv = resources.hidden_plane("identity").model.inverter
    return reachable_polygon(inv.A_, inv.c_, *inv.pixel_range)


def sample(polygon, bounds, n, inside, seed=0) -> np.ndarray:
    """``n`` uniform points of ``bounds`` inside (or outside) ``polygon``."""
    rng = np.random.default_rng(seed)
    x0, x1, y0, y1 = bounds
    pts = rng.uniform([x0, y0], [x1, y1], size=(20 * n, 2))
    keep = pts[contains(polygon, pts) == inside]
    assert len(keep) >= n
    return keep[:n]


def test_hidden_map_figure_adds_outlines_before_the_clicked_marker():
    xs, ys = np.linspace(0, 4, 5), np.linspace(0, 3, 4)
    proba = np.tile(np.array([0.7, 0.1, 0.1, 0.1], dtype=np.float32), (4, 5, 1))
    grid = RegionGrid(xs, ys, proba)
    square = np.array([[1, 1], [2, 1], [2, 2], [1, 2]], dtype=float)
    segs = np.array([[[0, 0], [1, 1]], [[2, 2], [3, 3]]], dtype=float)
    fig = make_hidden_map_figure(grid, ["a", "b", "c", "d"], reachable=square, reachable_name="reach",
                                 typical=segs, typical_name="typ", clicked=(3, 1))
    names = [t.name for t in fig.data]
    assert names[-3:] == ["typ", NEAREST, "clicked"] and names[-4] == "reach"
    ring = fig.data[-4]
    assert list(ring.x) == [1, 2, 2, 1, 1] and list(ring.y) == [1, 1, 2, 2, 1]  # closed
    typ = fig.data[-3]
    assert np.isnan(typ.x[2]) and list(typ.x[:2]) == [0, 1] and list(typ.x[3:5]) == [2, 3]
    assert list(fig.data[-2].x) == [None] and list(fig.data[-1].x) == [3]
    bare = make_hidden_map_figure(grid, ["a", "b", "c", "d"])
    assert [t.name for t in bare.data][-2:] == [NEAREST, "clicked"] and "reach" not in [t.name for t in bare.data]


@pytest.mark.parametrize("name", mnist.NETWORKS)
def test_rbf_map_is_the_rbf_heads_regions_on_the_same_plane(resources, name):
    lin, last = view.base_map(resources, name)
    rbf, rlast = view.rbf_map(resources, name)
    assert rbf is view.rbf_map(resources, name)[0]  # built once
    assert last == rlast and [t.name for t in lin.data] == [t.name for t in rbf.data]
    assert tuple(lin.layout.xaxis.range) == tuple(rbf.layout.xaxis.range)
    assert tuple(lin.layout.yaxis.range) == tuple(rbf.layout.yaxis.range)
    assert "RBF head" in rbf.layout.title.text and "linear head" in lin.layout.title.text
    assert rbf.layout.uirevision == f"mnist-rbf-{name}"
    m = resources.hidden_plane(name).model
    head = view.remedies(resources, name).head
    heat = rbf.data[0]
    xs, ys, z = np.asarray(heat.x, float), np.asarray(heat.y, float), np.asarray(heat.z, float)
    rng = np.random.default_rng(1)
    for i, j in zip(rng.integers(0, len(ys), 30), rng.integers(0, len(xs), 30)):
        p = head.predict_proba(np.array([[xs[j], ys[i]]]))[0]
        assert int(np.floor(z[i, j])) == int(np.argmax(p))  # the colour is the RBF head's class
    # the same held-out points on both maps
    for k in view.NAMES:
        a = next(t for t in lin.data if t.name == k)
        b = next(t for t in rbf.data if t.name == k)
        np.testing.assert_array_equal(np.asarray(a.x), np.asarray(b.x))


def test_reachable_outline_is_the_exact_polygon_and_tanh_is_labelled_an_estimate(resources, polygon):
    fig, _ = view.base_map(resources, "identity")
    (ring,) = [t for t in fig.data if t.name == view.REACH_NAMES["identity"]]
    xy = np.column_stack([ring.x, ring.y]).astype(float)
    np.testing.assert_allclose(xy[:-1], polygon)
    np.testing.assert_allclose(xy[-1], xy[0])
    assert "estimated" not in ring.name
    tanh, _ = view.base_map(resources, "tanh")
    (est,) = [t for t in tanh.data if t.name == view.REACH_NAMES["tanh"]]
    assert "estimated" in est.name
    ref = estimate_reachable(resources.hidden_plane("tanh").model.inverter)
    np.testing.assert_allclose(np.column_stack([est.x, est.y]).astype(float)[:-1], ref)
    text = " ".join(view.remedy_text(resources))
    assert "estimate" in text and f"{len(polygon):,} corners" in text
    hp = resources.hidden_plane("identity")
    far_point = hp.centroid + np.array([view.FAR_RADII * hp.radius, 0.0])
    p = view.remedies(resources, "identity").head.predict_proba(far_point[None, :])[0]
    assert p.max() < 0.95 and f"a {view.NAMES[int(np.argmax(p))]} at {100 * p.max():.1f}%" in text
    inside = [bool(contains(polygon, np.array(f["hidden"]))) for f in view.far_points(resources, "identity")]
    assert ("none of the four far presets" in text) == (not any(inside))


def test_typical_line_is_the_density_checks_threshold(resources):
    m = resources.hidden_plane("identity").model
    check = DensityCheck().fit(m.train_hidden)
    level = np.quantile(check.train_log_density_, check.threshold_percentile / 100)
    fig, _ = view.base_map(resources, "identity")
    (line,) = [t for t in fig.data if t.name == view.TYPICAL_NAME]
    pts = np.column_stack([line.x, line.y]).astype(float)
    pts = pts[np.isfinite(pts).all(axis=1)]
    assert len(pts) > 10
    logd = check.log_density(pts)
    assert np.median(np.abs(logd - level)) < 0.05 * abs(level) + 0.1
    assert check.in_distribution(m.test_hidden).mean() > 0.9  # the line encloses the data


@pytest.mark.parametrize("name", mnist.NETWORKS)
def test_click_shows_both_heads_predictions(resources, far, name):
    m = resources.hidden_plane(name).model
    points = [tuple(f["hidden"]) for f in far[name]] + [tuple(h) for h in m.test_hidden[:4]]
    for x, y in points:
        _, _, children, _ = mnist.update_inversion(resources, name, "click", click_data=click(x, y))
        ref = m.inverter.invert(np.array([x, y]))
        p = view.remedies(resources, name).head.predict_proba(ref.hidden[None, :])[0]
        k = int(np.argmax(p))
        assert prediction(children) == (str(ref.predicted), pytest.approx(100 * ref.confidence, abs=0.006))
        label, pct = rbf_prediction(children)
        assert label == str(m.net.classes[k]) and pct == pytest.approx(100 * p[k], abs=0.006)
        (table,) = find(children, lambda c: type(c).__name__ == "Table")
        rows = [text_of(r).split() for r in find(table, lambda c: type(c).__name__ == "Tr")][1:]
        assert [r[0] for r in rows] == list(view.NAMES)
        np.testing.assert_allclose([float(r[1].rstrip("%")) for r in rows], 100 * ref.proba, atol=0.006)
        np.testing.assert_allclose([float(r[2].rstrip("%")) for r in rows], 100 * p, atol=0.006)


def test_rbf_accuracy_is_stated_beside_the_linear_one(resources):
    page = mnist.layout(resources)
    caps = {c: text_of(find(page, lambda n, c=c: c in (getattr(n, "className", None) or "")))
            for c in ("accuracy-linear", "accuracy-rbf")}
    for n in mnist.NETWORKS:
        m = resources.hidden_plane(n).model
        rbf = view.remedies(resources, n).head.score_images(m.split.X_test, m.split.y_test)
        assert f"{n} net {100 * rbf:.1f}%" in caps["accuracy-rbf"]
        assert f"{n} net {100 * m.trained.test_accuracy:.1f}%" in caps["accuracy-linear"]
    found = {c.id for c in page._traverse() if isinstance(getattr(c, "id", None), str)}
    assert {ids.MNIST_RBF_MAP, ids.MNIST_NULL, mnist.NULL_RESULT} <= found


def test_two_hundred_valid_clicks_inside_the_polygon_land_exactly(resources, polygon):
    hp = resources.hidden_plane("identity")
    inv = hp.model.inverter
    pts = sample(polygon, hp.bounds, 200, inside=True)
    for x, y in pts:
        _, image, children, store = mnist.update_inversion(resources, "identity", "click",
                                                           click_data=click(float(x), float(y)), valid=True)
        text = text_of(children)
        assert "No image with pixels" not in text and "Not a valid image" not in text, text
        assert "inside the region valid images reach" in text
        assert residual(children) <= view.EXACT
        pixels = drawn(image)
        assert pixels.shape == (784,) and pixels.min() >= 0.0 and pixels.max() <= 1.0
        ref = inv.invert(np.array([x, y]), valid=True)
        np.testing.assert_allclose(pixels, ref.image, atol=1e-6)
        assert store == {"network": "identity", "point": [float(x), float(y)]}


def test_valid_click_outside_shows_the_nearest_reachable_point(resources, far, polygon, monkeypatch):
    hp = resources.hidden_plane("identity")
    inv = hp.model.inverter
    asked = []
    real = inv.invert

    def spy(h, **kw):
        asked.append(np.array(h, dtype=float))
        return real(h, **kw)

    monkeypatch.setattr(inv, "invert", spy)
    pts = [tuple(f["hidden"]) for f in far["identity"]] + [tuple(p) for p in sample(polygon, hp.bounds, 15, inside=False)]
    for x, y in pts:
        q = nearest_reachable(polygon, np.array([x, y]))
        asked.clear()
        _, image, children, store = mnist.update_inversion(resources, "identity", "click", click_data=click(x, y),
                                                           valid=True)
        assert len(asked) == 1 and np.allclose(asked[0], q)  # no solve aimed at the unreachable click
        text = text_of(children)
        assert "No image with pixels in [0, 1] reaches this point" in text
        assert f"nearest point they reach, {view.fmt(q)}" in text
        assert f"{np.hypot(x - q[0], y - q[1]):.3g} away" in text
        ref = real(q, valid=True, ref=support_corner(inv.A_, np.array([x, y]) - q))
        assert residual(children) <= view.EXACT and ref.residual <= view.EXACT
        pixels = drawn(image)
        assert pixels.min() >= 0 and pixels.max() <= 1
        np.testing.assert_allclose(pixels, ref.image, atol=1e-6)
        assert prediction(children) == (str(ref.predicted), pytest.approx(100 * ref.confidence, abs=0.006))
        # both maps mark the nearest point; the RBF map also the click
        rbf, linear, _ = mnist.update_marks(resources, "identity", store, True, 0, False)
        last = len(view.base_map(resources, "identity")[0].data) - 1
        r_ops, l_ops = patch_ops(rbf), patch_ops(linear)
        assert r_ops[("data", last, "x")] == [x] and r_ops[("data", last, "y")] == [y]
        for ops in (r_ops, l_ops):
            assert ops[("data", last - 1, "x")] == [pytest.approx(q[0])]
            assert ops[("data", last - 1, "y")] == [pytest.approx(q[1])]
        assert view.base_map(resources, "identity")[0].data[last - 1].name == NEAREST
        # unticked: no nearest point, the unconstrained image lands on the click itself
        rbf, linear, _ = mnist.update_marks(resources, "identity", store, False, 0, False)
        assert patch_ops(linear)[("data", last - 1, "x")] == [None]


def test_tanh_valid_clicks(resources):
    inv = resources.hidden_plane("tanh").model.inverter
    # outside the codomain: still 'cannot reach', no nearest point
    _, _, children, _ = mnist.update_inversion(resources, "tanh", "click", click_data=click(1.5, 0.2), valid=True)
    (alert,) = alerts(children)
    assert "cannot reach" in text_of(alert)
    rbf, linear, _ = mnist.update_marks(resources, "tanh", {"network": "tanh", "point": [1.5, 0.2]}, True, 0, False)
    last = len(view.base_map(resources, "tanh")[0].data) - 1
    assert patch_ops(linear)[("data", last - 1, "x")] == [None]
    # inside the estimate: a valid image
    _, image, children, _ = mnist.update_inversion(resources, "tanh", "click", click_data=click(0.3, -0.5), valid=True)
    ref = inv.invert(np.array([0.3, -0.5]), valid=True)
    assert prediction(children) == (str(ref.predicted), pytest.approx(100 * ref.confidence, abs=0.006))
    assert "(estimated)" in text_of(children)
    pixels = drawn(image)
    assert pixels.min() >= 0 and pixels.max() <= 1


NULL_CASES = [("identity", "far", 2, False), ("identity", "test", 0, True), ("identity", "far", 0, True),
              ("identity", "test", 7, False), ("tanh", "test", 3, False), ("tanh", "far", 1, False),
              ("tanh", "test", 5, True)]


@pytest.mark.parametrize("name,kind,index,valid", NULL_CASES)
def test_null_slider_moves_the_image_not_the_hidden_point(resources, far, name, kind, index, valid):
    m = resources.hidden_plane(name).model
    x, y = far[name][index]["hidden"] if kind == "far" else m.test_hidden[index]
    point = {"network": name, "point": [float(x), float(y)]}
    _, base_image, base, _ = mnist.update_inversion(resources, name, "valid", valid=valid, point=point)
    before = drawn(base_image)
    r0 = residual(base)
    for t in (1.0, -1.0, 2.0, -0.5):
        image, readout = mnist.update_null(resources, t, name, valid, point)
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
    image, readout = mnist.update_null(resources, 0, name, valid, point)
    np.testing.assert_allclose(drawn(image), before)
    assert "Prediction" not in text_of(readout)


def test_null_directions_are_invisible_to_the_network(resources):
    for name in mnist.NETWORKS:
        m = resources.hidden_plane(name).model
        rem = view.remedies(resources, name)
        seen = m.inverter.A_ if name == "identity" else m.net.layers[0].W
        assert rem.directions.shape == (4, 784)
        np.testing.assert_allclose(np.abs(rem.directions).max(axis=1), 1.0)
        assert np.abs(rem.directions @ seen).max() < 1e-9
        assert rem.null_dim == null_space_basis(seen).shape[1] == 784 - np.linalg.matrix_rank(seen)
    text = " ".join(view.remedy_text(resources))
    for name in mnist.NETWORKS:
        assert str(view.remedies(resources, name).null_dim) in text


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, "x", "1", 1e308, -1e308, None, True,
                                   [1], {"v": 1}, 2.5, -3])
def test_hostile_slider_values_get_a_message(resources, value):
    point = {"network": "identity", "point": [1.0, 2.0]}
    image, readout = mnist.update_null(resources, value, "identity", False, point)
    assert image is no_update
    (alert,) = alerts(readout)
    assert alert.color == "warning" and "slider runs from -2 to 2" in text_of(alert)


@pytest.mark.parametrize("kwargs,expect", [
    (dict(network="relu"), "Unknown network"), (dict(network=None), "Unknown network"),
    (dict(valid="yes"), "[0, 1]"), (dict(point="x"), "remembered point"),
    (dict(point={"network": "identity", "point": [math.nan, 1]}), "finite"),
    (dict(point={"network": "evil", "point": [1, 2]}), "Unknown network"),
])
def test_hostile_null_inputs_get_a_message(resources, kwargs, expect):
    args = dict(value=1.0, network="identity", valid=False, point={"network": "identity", "point": [1.0, 2.0]})
    args.update(kwargs)
    image, readout = mnist.update_null(resources, **args)
    assert image is no_update and expect in text_of(readout) and alerts(readout)


def test_null_slider_without_a_point_of_this_network(resources):
    for point in (None, {"network": "tanh", "point": [0.1, 0.2]}):
        image, readout = mnist.update_null(resources, 1.0, "identity", False, point)
        assert image is no_update and "Click the map" in text_of(readout) and alerts(readout)
        image, readout = mnist.update_null(resources, 0, "identity", False, point)
        assert image is no_update and not alerts(readout)
    image, readout = mnist.update_null(resources, 1.0, "tanh", False, {"network": "tanh", "point": [3.0, 0.0]})
    assert image is no_update and "nothing to move" in text_of(readout)
    image, readout = mnist.update_null(resources, 0, "tanh", False, {"network": "tanh", "point": [3.0, 0.0]})
    assert image is no_update and not alerts(readout)  # a reset after an unreachable click stays quiet


def test_marks_follow_the_network_and_reset_the_slider(resources):
    for name in mnist.NETWORKS:
        rbf, linear, reset = mnist.update_marks(resources, name, None, False, 1.5, True)
        assert rbf is view.rbf_map(resources, name)[0] and linear is no_update and reset == 0
        assert mnist.update_marks(resources, name, None, False, 0, True)[2] is no_update
    point = {"network": "identity", "point": [3.0, 4.0]}
    rbf, linear, reset = mnist.update_marks(resources, "identity", point, False, -1.0, False)
    last = len(view.rbf_map(resources, "identity")[0].data) - 1
    assert patch_ops(rbf)[("data", last, "x")] == [3.0] and reset == 0
    assert mnist.update_marks(resources, "tanh", point, False, 0, False) == (no_update, no_update, no_update)


@pytest.mark.parametrize("args", [("relu", None, False, 1.0), ("identity", "x", False, 1.0),
                                  ("identity", {"network": "identity", "point": [1, 2]}, "yes", 1.0),
                                  (None, None, None, None), (["identity"], [1], [True], "x"),
                                  ("identity", {"network": "identity", "point": [1e308, 2]}, True, math.nan)])
def test_hostile_marks_inputs_change_no_marker(resources, args):
    for changed in (False, True):
        rbf, linear, reset = mnist.update_marks(resources, *args, changed)
        assert linear is no_update
        assert rbf is no_update or (changed and args[0] in mnist.NETWORKS)
        assert reset in (0, no_update)


@pytest.mark.parametrize("name", mnist.NETWORKS)
def test_density_verdicts_match_the_core(resources, far, image_check, name):
    m = resources.hidden_plane(name).model
    check = DensityCheck().fit(m.train_hidden)
    points = [tuple(far[name][0]["hidden"])] + [tuple(h) for h in m.test_hidden[:6]]
    verdicts = set()
    for valid in (False, True):
        for x, y in points:
            _, _, children, _ = mnist.update_inversion(resources, name, "click", click_data=click(x, y), valid=valid)
            (block,) = find(children, lambda c: getattr(c, "id", None) == ids.MNIST_DENSITY)
            text = text_of(block)
            ok = bool(check.in_distribution(np.array([[x, y]]))[0])
            pc = float(check.percentile(np.array([[x, y]]))[0])
            verdicts.add(ok)
            assert f"Clicked point: {'in' if ok else 'out of'} distribution" in text
            assert f"percentile among the training encodings is {pc:.1f}" in text
            r, _ = view.invert(resources, name, (x, y), valid)
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


def _key_with(app, fragment: str) -> str:
    (key,) = [k for k in app.callback_map if fragment in k]
    return key


def _outputs(key: str) -> list[dict]:
    """The 'outputs' of a request body from a callback_map key ('..a.p...b.q..')."""
    parts = key.strip(".").split("...") if key.startswith("..") else [key]
    return [dict(zip(("id", "property"), p.rsplit(".", 1))) for p in parts]


def null_body(app, value, *, network="identity", valid=False, point=None) -> dict:
    key = _key_with(app, f"{mnist.NULL_RESULT}.children")
    return {"output": key, "outputs": _outputs(key),
            "inputs": [{"id": ids.MNIST_NULL, "property": "value", "value": value}],
            "changedPropIds": [f"{ids.MNIST_NULL}.value"],
            "state": [{"id": ids.MNIST_NETWORK, "property": "value", "value": network},
                      {"id": ids.MNIST_VALID, "property": "value", "value": valid},
                      {"id": mnist.POINT, "property": "data", "value": point}]}


def marks_body(app, *, point=None, network="identity", valid=False, current=0,
               changed=f"{mnist.POINT}.data") -> dict:
    key = _key_with(app, f"{ids.MNIST_NULL}.value")
    return {"output": key, "outputs": _outputs(key),
            "inputs": [{"id": mnist.POINT, "property": "data", "value": point},
                       {"id": ids.MNIST_NETWORK, "property": "value", "value": network},
                       {"id": ids.MNIST_VALID, "property": "value", "value": valid}],
            "changedPropIds": [changed],
            "state": [{"id": ids.MNIST_NULL, "property": "value", "value": current}]}


def test_http_page_and_layout_serve(http_app):
    client = http_app.server.test_client()
    for path in ("/", "/mnist", "/_dash-layout"):
        assert client.get(path).status_code == 200, path


def test_http_null_slider_moves_the_image(http_app, far):
    x, y = far["identity"][2]["hidden"]
    point = {"network": "identity", "point": [x, y]}
    r = post(http_app, null_body(http_app, 1.0, point=point))
    assert r.status_code == 200, r.data[:300]
    out = r.get_json()["response"]
    readout = json.dumps(out[mnist.NULL_RESULT])
    assert "Prediction: " in readout and "Same hidden point, same prediction" in readout
    assert ids.MNIST_IMAGE in out


HOSTILE_SLIDER = [math.nan, math.inf, "x", 1e308, -1e308, None, True, [1], {"a": 1}, 2.5]


@pytest.mark.parametrize("value", HOSTILE_SLIDER, ids=[repr(v) for v in HOSTILE_SLIDER])
def test_http_hostile_slider_values_get_a_message(http_app, value):
    point = {"network": "identity", "point": [1.0, 2.0]}
    r = post(http_app, null_body(http_app, value, point=point))
    assert r.status_code == 200, r.data[:300]
    out = r.get_json()
    assert "sideUpdate" not in out
    readout = json.dumps(out["response"][mnist.NULL_RESULT])
    assert "Alert" in readout and "slider runs from" in readout
    assert ids.MNIST_IMAGE not in out["response"]  # the image is left alone


@pytest.mark.parametrize("kwargs", [dict(network="relu"), dict(valid="yes"), dict(point="x"),
                                    dict(point={"network": "identity", "point": ["a", 1]})])
def test_http_hostile_null_state_gets_a_message(http_app, kwargs):
    kwargs.setdefault("point", {"network": "identity", "point": [1.0, 2.0]})
    r = post(http_app, null_body(http_app, 1.0, **kwargs))
    assert r.status_code == 200 and "sideUpdate" not in r.get_json()
    assert "Alert" in json.dumps(r.get_json()["response"][mnist.NULL_RESULT])


def test_http_marks_reset_the_slider_and_mark_the_nearest_point(http_app, far, polygon):
    x, y = far["identity"][1]["hidden"]
    r = post(http_app, marks_body(http_app, point={"network": "identity", "point": [x, y]}, valid=True, current=1.5))
    assert r.status_code == 200, r.data[:300]
    out = r.get_json()["response"]
    assert out[ids.MNIST_NULL]["value"] == 0
    q = nearest_reachable(polygon, np.array([x, y]))
    last = len(view.base_map(http_app.resources_, "identity")[0].data) - 1
    for graph_id in (ids.MNIST_RBF_MAP, ids.MNIST_MAP):
        ops = {tuple(o["location"]): o["params"]["value"] for o in out[graph_id]["figure"]["operations"]}
        assert ops[("data", last - 1, "x")] == [pytest.approx(q[0])]
        assert ops[("data", last - 1, "y")] == [pytest.approx(q[1])]


@pytest.mark.parametrize("kwargs", [dict(point="x"), dict(network="relu"), dict(valid="yes"),
                                    dict(point={"network": "identity", "point": [math.nan, 1]}),
                                    dict(changed=f"{ids.MNIST_NETWORK}.value", network=["x"]),
                                    dict(current="x", point=[1, 2])])
def test_http_hostile_marks_inputs_are_not_a_500(http_app, kwargs):
    r = post(http_app, marks_body(http_app, **kwargs))
    assert r.status_code in (200, 204), r.data[:300]
    if r.status_code == 200:
        assert "sideUpdate" not in r.get_json()
