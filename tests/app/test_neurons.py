"""/neurons without a browser: callbacks called directly, POSTs to Dash, figure factories."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import plotly.graph_objects as go
import pytest
from dash import Patch, no_update

from app import ids
from app.pages import neurons as neurons_page
from app.pages.neurons import callbacks as page
from app.pages.neurons import compute as neurons_compute
from app.pages.neurons.figures import make_weight_figure
from fooling.attacks import normalized_pattern, overlay, overlay_sweep
from fooling.network import forward
from fooling.neurons import activation_sparsity, activity_weighted_average, effective_weights
from tests.app._text import text, texts  # noqa: F401 -- shared helpers
from tests.conftest import shown_value

PREDICTION = re.compile(r"Prediction: (\d) \((>?\d+\.\d\d)%\)")
NOT_NUMBERS = [None, "x", "", [1], {}, {"value": 1}, True, False]
NON_FINITE = [math.nan, math.inf, -math.inf]


# ---------------------------------------------------------------- helpers

def is_alert(node) -> bool:
    j = node.to_plotly_json() if hasattr(node, "to_plotly_json") else node
    return isinstance(j, dict) and j.get("type") == "Alert"


def z_of(fig) -> np.ndarray:
    """The first trace's z as an array (figure object or its JSON)."""
    if isinstance(fig, go.Figure):
        return np.asarray(fig.data[0].z, dtype=float)
    z = fig["data"][0]["z"]
    if isinstance(z, dict):  # typed array: {"dtype", "bdata", "shape"}
        import base64
        arr = np.frombuffer(base64.b64decode(z["bdata"]), dtype=z["dtype"])
        return arr.reshape([int(s) for s in str(z["shape"]).split(",")]).astype(float)
    return np.asarray(z, dtype=float)


@pytest.fixture(scope="module")
def model(resources):
    return resources.workspace.mnist["neurons"]


@pytest.fixture(scope="module")
def attack(model):
    """The default attack recomputed here from the core library (the report's rule)."""
    net, split = model.net, model.split
    pred = net.classes[forward(net, split.X_test).argmax(axis=1)]
    row = int(np.flatnonzero((split.y_test == 7) & (pred == 7))[0])
    pattern = normalized_pattern(effective_weights(net, 3, 0))
    strengths = np.linspace(0.0, 3.0, 301)
    sweeps = {clip: overlay_sweep(net, split.X_test[row], pattern, 0, strengths,
                                  clip=(0.0, 1.0) if clip else None) for clip in (True, False)}
    return {"row": row, "pattern": pattern, "image": split.X_test[row], "sweeps": sweeps}


# ---------------------------------------------------------------- figure factory

def test_weight_figure_is_symmetric_around_zero_and_upright():
    w = np.linspace(-2.0, 0.5, 784)
    fig = make_weight_figure(w, title="t")
    tr = fig.data[0]
    assert tr.zmin == -2.0 and tr.zmax == 2.0 and tr.zmid == 0.0
    z = np.asarray(tr.z)
    assert z.shape == (28, 28)
    np.testing.assert_allclose(z, w.reshape(28, 28)[::-1], rtol=1e-6)  # row 0 drawn at the top
    assert fig.layout.yaxis.scaleanchor == "x"
    assert fig.layout.title.text == "t"
    scale = fig.data[0].colorscale
    assert scale[len(scale) // 2][1].lower() in ("#ffffff", "white")  # zero is white


def test_weight_figure_edge_cases():
    assert len(make_weight_figure(None).data) == 0
    flat = make_weight_figure(np.zeros(784)).data[0]
    assert (flat.zmin, flat.zmax) == (-1.0, 1.0)
    w = np.zeros(784)
    w[3], w[5] = np.nan, -0.25
    tr = make_weight_figure(w).data[0]
    assert (tr.zmin, tr.zmax) == (-0.25, 0.25)
    assert len(make_weight_figure(np.ones((4, 4)), size=4).data[0].z) == 4


# ---------------------------------------------------------------- layout and caches

def test_layout_has_every_element_and_the_default_attack(neurons_state, attack):
    tree = neurons_page.layout(neurons_state)
    flat = json.dumps(tree.to_plotly_json(), default=lambda o: o.to_plotly_json()
                      if hasattr(o, "to_plotly_json") else str(o))
    for i in (ids.NEURONS_LAYER, ids.NEURONS_UNIT, ids.NEURONS_EFFECTIVE, ids.NEURONS_AVERAGE,
              ids.NEURONS_SPARSITY, ids.ATTACK_SOURCE, ids.ATTACK_TARGET, ids.ATTACK_STRENGTH,
              ids.ATTACK_CLIP, ids.ATTACK_IMAGE, ids.ATTACK_CURVE, ids.ATTACK_RESULT):
        assert f'"id": "{i}"' in flat, i
    sweep = attack["sweeps"][True]
    m = PREDICTION.search(text(tree))
    assert m.group(1) == "7"
    assert float(m.group(2).lstrip(">")) == pytest.approx(shown_value(sweep.confidence[0]), abs=0.006)


def test_arrays_are_computed_once_per_process(dash_app, monkeypatch):
    state = dash_app.states_["/neurons"]  # built and warmed once by create_app, before the app serves
    layers = state.layers
    assert state.layers is layers and len(layers) == 3
    swept = len(state.sweep)
    assert swept >= 1  # the default attack's sweep is ready

    def forbidden(*args, **kwargs):
        raise AssertionError("recomputed after the warm-up")

    for name in ("effective_weights", "activity_weighted_average", "activation_sparsity", "overlay_sweep"):
        monkeypatch.setattr(neurons_compute, name, forbidden)
    monkeypatch.setattr(state.res, "stored", forbidden)  # not even re-read from the disk cache
    for _ in range(3):
        page.update_neuron(state, 2, 5)
        page.update_sparsity(state, 1)
        page.update_attack(state, 7, 0, True, 0.5)
        page.update_attack(state, "7", "0", True, 1.25, strength_only=True)
    assert state.layers is layers and len(state.sweep) == swept


# ---------------------------------------------------------------- part 1: neurons

@pytest.mark.parametrize("layer,unit", [(1, 0), (1, 63), (2, 17), (3, 0), (3, 9)])
def test_neuron_images_are_the_core_arrays(neurons_state, model, layer, unit):
    eff, avg, note = page.update_neuron(neurons_state, layer, unit)
    np.testing.assert_allclose(z_of(eff), effective_weights(model.net, layer, unit).reshape(28, 28)[::-1],
                               rtol=1e-5, atol=1e-7)
    want = activity_weighted_average(model.net, model.split.X_train, layer, unit)
    np.testing.assert_allclose(z_of(avg), want.reshape(28, 28)[::-1], rtol=1e-5, atol=1e-6)
    label = f"digit {unit}" if layer == 3 else f"neuron {unit}"
    assert label in eff.layout.title.text and label in avg.layout.title.text
    A = forward(model.net, model.split.X_train, layer)
    active = (A[:, unit] > 0).mean()
    if layer == 3:
        share = (model.net.classes[A.argmax(axis=1)] == unit).mean()
        assert f"calls {100 * share:.1f}% of the {len(A)} training images a {unit}" in text(note)
    elif active > 0:
        assert f"{100 * active:.1f}%" in text(note)
    else:
        assert "silent" in text(note)


def test_effective_weights_look_like_noise_and_averages_like_digits(neurons_state, model):
    """The essay's contrast, measured: averages are smooth, effective weights are not."""

    def roughness(img):
        img = img.reshape(28, 28)
        return np.abs(np.diff(img, axis=1)).mean() / (np.abs(img).mean() + 1e-12)

    d = neurons_state.layers[1]
    live = np.flatnonzero(d.active > 0)
    eff = np.median([roughness(d.effective[:, u]) for u in live])
    avg = np.median([roughness(d.average[:, u]) for u in live])
    assert eff > 2 * avg


@pytest.mark.parametrize("layer", [0, 4, -1, 1.5, "x", "1", None, [1], {}, True, math.nan, math.inf, 1e308])
def test_bad_layer_is_a_message(neurons_state, layer):
    eff, avg, note = page.update_neuron(neurons_state, layer, 0)
    assert eff is no_update and avg is no_update
    assert is_alert(note) and "layer" in text(note)
    fig, msg = page.update_sparsity(neurons_state, layer)
    assert fig is no_update and is_alert(msg)
    assert page.update_unit_range(neurons_state, layer, 3) == (no_update,) * 3


@pytest.mark.parametrize("unit", [99, 64, -1, 2.5, "3", None, [1], {}, True, 1e308, -1e308]
                         + NON_FINITE)
def test_bad_unit_is_a_message(neurons_state, unit):
    eff, avg, note = page.update_neuron(neurons_state, 1, unit)
    assert eff is no_update and avg is no_update
    assert is_alert(note) and "neuron" in text(note)


def test_unit_out_of_range_for_the_output_layer(neurons_state):
    _, _, note = page.update_neuron(neurons_state, 3, 10)
    assert is_alert(note) and "0 to 9" in text(note)
    eff, _, _ = page.update_neuron(neurons_state, 3, 9.0)  # an integral float is a fine unit
    assert isinstance(eff, go.Figure)


def test_unit_range_follows_the_layer(neurons_state):
    mx, marks, value = page.update_unit_range(neurons_state, 3, 40)
    assert (mx, value) == (9, 9) and sorted(marks) == list(range(10))
    mx, marks, value = page.update_unit_range(neurons_state, 2, 5)
    assert (mx, value) == (63, 5) and max(marks) == 63
    assert page.update_unit_range(neurons_state, 1, 1e308)[2] == 63
    for unit in (None, "x", math.nan, math.inf, -3, 2.5, True, [4]):
        assert page.update_unit_range(neurons_state, 1, unit)[2] == 0


@pytest.mark.parametrize("layer", [1, 2, 3])
def test_sparsity_reports_the_measured_medians(neurons_state, model, layer):
    fig, sentence = page.update_sparsity(neurons_state, layer)
    counts = activation_sparsity(model.net, model.split.X_test, layer)
    strong, mild = np.median(counts[:, 0]), np.median(counts[:, 1])
    assert f"{strong:g} strongly and {mild:g} mildly active" in sentence
    assert f"of the {model.net.sizes[layer]} units" in sentence
    bars = {tr.name: dict(zip(tr.x, tr.y)) for tr in fig.data}
    assert sum(bars[next(n for n in bars if n.startswith("strongly"))].values()) == len(counts)
    assert sum(bars[next(n for n in bars if n.startswith("mildly"))].values()) == len(counts)


# ---------------------------------------------------------------- part 2: attack

@pytest.mark.parametrize("clip", [True, False])
def test_attack_flips_the_prediction_beyond_the_flip_strength(neurons_state, attack, clip):
    sweep = attack["sweeps"][clip]
    assert sweep.flip_strength is not None
    for s in (0.0, sweep.flip_strength, min(3.0, sweep.flip_strength + 0.2), 3.0):
        image, curve, result = page.update_attack(neurons_state, 7, 0, clip, s)
        i = int(round(s * 100))
        label, pct = PREDICTION.search(text(result)).groups()
        assert label == str(sweep.predicted[i])
        assert float(pct.lstrip(">")) == pytest.approx(shown_value(sweep.confidence[i]), abs=0.006)
        assert f"P(0) = {100 * sweep.target_proba[i]:.2f}%" in text(result)
        want = overlay(attack["image"], attack["pattern"], s, clip=(0, 1) if clip else None)[0]
        np.testing.assert_allclose(z_of(image), want.reshape(28, 28)[::-1], atol=1e-6)
        assert f"Flip strength {sweep.flip_strength:.2f}" in text(result)
        assert f"#{attack['row']}" in text(result)
        np.testing.assert_allclose(np.asarray(curve.data[0].y), sweep.target_proba, atol=1e-6)
        xs = sorted(sh.x0 for sh in curve.layout.shapes)
        assert xs == pytest.approx(sorted([sweep.flip_strength, s]))
    _, _, result = page.update_attack(neurons_state, 7, 0, clip, 0.0)
    assert PREDICTION.search(text(result)).group(1) == "7"
    _, _, result = page.update_attack(neurons_state, 7, 0, clip, sweep.flip_strength)
    assert PREDICTION.search(text(result)).group(1) == "0"


def test_flip_strength_is_explained_in_pixel_terms(neurons_state, attack):
    f = attack["sweeps"][True].flip_strength
    _, _, result = page.update_attack(neurons_state, 7, 0, True, 1.0)
    t = text(result)
    assert "largest absolute pixel is 1" in t
    assert f"no pixel moves by more than {f:.2f} ({100 * f:.0f}% of the range)" in t
    assert f"average pixel by {f * np.abs(attack['pattern']).mean():.3f}" in t


def test_moving_only_the_strength_patches_the_cursor(neurons_state, attack):
    image, curve, result = page.update_attack(neurons_state, 7, 0, True, 1.37, strength_only=True)
    assert isinstance(curve, Patch)
    ops = curve.to_plotly_json()["operations"]
    sets = {tuple(op["location"]): op["params"]["value"] for op in ops if op["operation"] == "Assign"}
    shape = 1 if attack["sweeps"][True].flip_strength is not None else 0
    assert sets == {("layout", "shapes", shape, "x0"): 1.37, ("layout", "shapes", shape, "x1"): 1.37}
    assert "1.37" in image.layout.title.text


def test_strength_snaps_to_the_sweep_grid(neurons_state, attack):
    sweep = attack["sweeps"][True]
    _, _, a = page.update_attack(neurons_state, 7, 0, True, 0.504)
    _, _, b = page.update_attack(neurons_state, 7, 0, True, 0.5)
    assert PREDICTION.search(text(a)).groups() == PREDICTION.search(text(b)).groups()
    assert PREDICTION.search(text(a)).group(1) == str(sweep.predicted[50])


def test_other_pairs_use_the_first_correct_source(neurons_state, model):
    net, split = model.net, model.split
    pred = net.classes[forward(net, split.X_test).argmax(axis=1)]
    row = int(np.flatnonzero((split.y_test == 3) & (pred == 3))[0])
    sweep = overlay_sweep(net, split.X_test[row], normalized_pattern(effective_weights(net, 3, 8)),
                          8, np.linspace(0, 3, 301), clip=(0.0, 1.0))
    _, _, result = page.update_attack(neurons_state, "3", "8", True, 3.0)
    label, pct = PREDICTION.search(text(result)).groups()
    assert label == str(sweep.predicted[-1])
    assert float(pct.lstrip(">")) == pytest.approx(shown_value(sweep.confidence[-1]), abs=0.006)
    assert f"#{row}" in text(result)


@pytest.mark.parametrize("strength", [-5, -0.01, 3.01, 1e308, -1e308, "abc", "1", None, [1], {}, True]
                         + NON_FINITE)
def test_bad_strength_is_a_message(neurons_state, strength):
    image, curve, result = page.update_attack(neurons_state, 7, 0, True, strength)
    assert image is no_update and curve is no_update
    assert is_alert(result) and "strength" in text(result)


@pytest.mark.parametrize("source,target", [(7, 7), ("0", 0), (10, 0), (-1, 0), (7, 12), ("x", 0),
                                           ("77", 0), (None, 0), (7, None), (7.5, 0), (True, 0),
                                           ([7], 0), (7, {}), (math.nan, 0), (7, math.inf), (1e308, 0)])
def test_bad_digits_are_a_message(neurons_state, source, target):
    image, curve, result = page.update_attack(neurons_state, source, target, True, 1.0)
    assert image is no_update and curve is no_update
    assert is_alert(result) and "digit" in text(result)


@pytest.mark.parametrize("clip", [None, "yes", 1, 0, [], {}, [True]])
def test_bad_clip_is_a_message(neurons_state, clip):
    image, curve, result = page.update_attack(neurons_state, 7, 0, clip, 1.0)
    assert image is no_update and is_alert(result) and "clip" in text(result)


# ---------------------------------------------------------------- POSTs

def _body(outputs: list[tuple[str, str]], inputs: list[tuple[str, str, object]],
          state: list[tuple[str, str, object]] = (), changed: list[str] | None = None) -> str:
    out = (f"{outputs[0][0]}.{outputs[0][1]}" if len(outputs) == 1
           else ".." + "...".join(f"{i}.{p}" for i, p in outputs) + "..")
    return json.dumps({
        "output": out,
        "outputs": [{"id": i, "property": p} for i, p in outputs],
        "inputs": [{"id": i, "property": p, "value": v} for i, p, v in inputs],
        "changedPropIds": changed if changed is not None else [f"{i}.{p}" for i, p, _ in inputs[:1]],
        "state": [{"id": i, "property": p, "value": v} for i, p, v in state],
    })


def _post(client, body: str):
    return client.post("/_dash-update-component", data=body, content_type="application/json")


ATTACK_OUT = [(ids.ATTACK_IMAGE, "figure"), (ids.ATTACK_CURVE, "figure"), (ids.ATTACK_RESULT, "children")]
NEURON_OUT = [(ids.NEURONS_EFFECTIVE, "figure"), (ids.NEURONS_AVERAGE, "figure"),
              (ids.NEURONS_NOTE, "children")]


def _attack_inputs(source, target, clip, strength):
    return [(ids.ATTACK_SOURCE, "value", source), (ids.ATTACK_TARGET, "value", target),
            (ids.ATTACK_CLIP, "value", clip), (ids.ATTACK_STRENGTH, "value", strength)]


def test_post_attack_gives_the_core_prediction(dash_app, attack):
    sweep = attack["sweeps"][True]
    s = min(3.0, sweep.flip_strength + 0.3)
    r = _post(dash_app.server.test_client(), _body(ATTACK_OUT, _attack_inputs("7", "0", True, s),
                                                   changed=[f"{ids.ATTACK_STRENGTH}.value"]))
    assert r.status_code == 200
    resp = r.get_json()["response"]
    label, pct = PREDICTION.search(text(resp[ids.ATTACK_RESULT]["children"])).groups()
    i = int(round(s * 100))
    assert label == "0" == str(sweep.predicted[i])
    assert float(pct.lstrip(">")) == pytest.approx(shown_value(sweep.confidence[i]), abs=0.006)
    assert "operations" in json.dumps(resp[ids.ATTACK_CURVE]["figure"])  # a Patch, not a figure
    want = overlay(attack["image"], attack["pattern"], s)[0].reshape(28, 28)[::-1]
    np.testing.assert_allclose(z_of(resp[ids.ATTACK_IMAGE]["figure"]), want, atol=1e-6)


HOSTILE_ATTACKS = [
    ("7", "0", True, math.nan), ("7", "0", True, math.inf), ("7", "0", True, -5), ("7", "0", True, "abc"),
    ("7", "0", True, 1e308), ("7", "0", True, None), ("7", "0", True, [1, 2]), ("7", "0", True, {"a": 1}),
    ("7", "7", True, 1.0), ("11", "0", True, 1.0), ("7", "zero", True, 1.0), (None, "0", True, 1.0),
    ({"x": 1}, "0", True, 1.0), ("7", "0", "on", 1.0), ("7", "0", None, 1.0), (-math.inf, "0", True, 1.0),
]


@pytest.mark.parametrize("source,target,clip,strength", HOSTILE_ATTACKS)
def test_post_hostile_attack_is_a_message_not_an_error(dash_app, source, target, clip, strength):
    body = _body(ATTACK_OUT, _attack_inputs(source, target, clip, strength))
    r = _post(dash_app.server.test_client(), body)
    assert r.status_code == 200, r.data[:300]
    resp = r.get_json()["response"]
    assert set(resp) == {ids.ATTACK_RESULT}  # figures untouched
    assert resp[ids.ATTACK_RESULT]["children"]["type"] == "Alert"
    assert b"Something went wrong" not in r.data


@pytest.mark.parametrize("layer,unit", [(0, 1), (4, 1), ("x", 1), (None, 1), (2, 99), (2, -1),
                                        (2, math.nan), (2, 1e308), (3, 10), ([2], 1), (2, {"u": 1})])
def test_post_hostile_neuron_is_a_message_not_an_error(dash_app, layer, unit):
    body = _body(NEURON_OUT, [(ids.NEURONS_LAYER, "value", layer), (ids.NEURONS_UNIT, "value", unit)])
    r = _post(dash_app.server.test_client(), body)
    assert r.status_code == 200, r.data[:300]
    resp = r.get_json()["response"]
    assert set(resp) == {ids.NEURONS_NOTE}
    assert resp[ids.NEURONS_NOTE]["children"]["type"] == "Alert"
    assert b"Something went wrong" not in r.data


def test_post_neuron_and_sparsity_and_unit_range(dash_app, model):
    client = dash_app.server.test_client()
    r = _post(client, _body(NEURON_OUT, [(ids.NEURONS_LAYER, "value", 2), (ids.NEURONS_UNIT, "value", 7)]))
    assert r.status_code == 200
    z = z_of(r.get_json()["response"][ids.NEURONS_EFFECTIVE]["figure"])
    want = effective_weights(model.net, 2, 7).reshape(28, 28)[::-1]
    np.testing.assert_allclose(z, want, rtol=1e-5, atol=1e-7)

    r = _post(client, _body([(ids.NEURONS_SPARSITY, "figure"), (ids.NEURONS_SPARSITY_NOTE, "children")],
                            [(ids.NEURONS_LAYER, "value", 2)]))
    assert r.status_code == 200
    med = np.median(activation_sparsity(model.net, model.split.X_test, 2), axis=0)
    sentence = r.get_json()["response"][ids.NEURONS_SPARSITY_NOTE]["children"]
    assert f"{med[0]:g} strongly and {med[1]:g} mildly" in sentence
    r = _post(client, _body([(ids.NEURONS_SPARSITY, "figure"), (ids.NEURONS_SPARSITY_NOTE, "children")],
                            [(ids.NEURONS_LAYER, "value", "2; drop table")]))
    assert r.status_code == 200 and b"Something went wrong" not in r.data

    unit_out = [(ids.NEURONS_UNIT, "max"), (ids.NEURONS_UNIT, "marks"), (ids.NEURONS_UNIT, "value")]
    r = _post(client, _body(unit_out, [(ids.NEURONS_LAYER, "value", 3)], [(ids.NEURONS_UNIT, "value", 50)]))
    assert r.status_code == 200
    resp = r.get_json()["response"][ids.NEURONS_UNIT]
    assert (resp["max"], resp["value"]) == (9, 9)
    for bad in (0, "x", None, math.nan, [3]):
        r = _post(client, _body(unit_out, [(ids.NEURONS_LAYER, "value", bad)],
                                [(ids.NEURONS_UNIT, "value", 5)]))
        assert r.status_code in (200, 204) and not (r.get_json() or {}).get("response")  # nothing to update


@pytest.mark.parametrize("layer", [1, 2])
def test_every_hidden_unit_has_a_truthful_note(neurons_state, model, layer):
    """Dead units (never active on a training image) say so; the others give their share."""
    active = (forward(model.net, model.split.X_train, layer) > 0).mean(axis=0)
    for unit, share in enumerate(active):
        note = text(page.update_neuron(neurons_state, layer, unit)[2])
        if share == 0:
            assert "silent on every training image" in note
        else:
            assert f"active on {100 * share:.1f}% of the" in note
