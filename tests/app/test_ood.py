"""/ood without a browser: its tables and text against the core library's measurements, the
callbacks called directly and through POSTs, hostile values, and the figure factories.

Numbers are formatted here independently of the page (two decimals for a metric, one decimal of
a percent for a probability or share), so a page that showed other numbers fails.
"""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest
from dash import no_update

from app import ids
from app.pages import PAGES, page_for
from app.pages import ood as ood_page
from app.pages.ood import callbacks as cb
from app.pages.ood import compute, figures, formats, text as ood_text
from fooling.attacks import GOODFELLOW_2015
from fooling.network import forward, predict_proba_from
from fooling.oodsets import FAR_SETS, NEAR_SETS
from tests.app.test_iris import is_message, post
from tests.app._text import text

BAD = [None, "", "nope", "AUROC", ["auroc"], 3, 1.5, math.nan, True, {"a": 1}, "auroc ", "x" * 500,
       "<script>alert(1)</script>", [], {}]
MEASURED = ("source", "n_test", "report", "rays", "fgsm", "examples", "origin", "far_answers", "ray_figures", "example_figures")


def two(v: float) -> str:
    """Two decimals; three (or '>0.999', '<0.001') where two would show a 0 or 1 it is not."""
    s = f"{v:.2f}"
    if (s == "1.00" and v < 1) or (s == "0.00" and v > 0):
        s = f"{v:.3f}"
        if (s == "1.000" and v < 1) or (s == "0.000" and v > 0):
            return ">0.999" if v > 0.5 else "<0.001"
    return s


def percent(v: float) -> str:
    """One decimal of a percent; a share that is not exactly 1 (or 0) is never shown as 100% (0%)."""
    s = f"{100 * v:.1f}"
    if s == "100.0" and v < 1:
        return ">99.9%"
    if s == "0.0" and v > 0:
        return "<0.1%"
    return s + "%"


def careful(v: float) -> str:
    """Two decimals unless that shows 0 or 1 for a number that is neither; then three; then a bound."""
    for d in (2, 3):
        s = f"{v:.{d}f}"
        if not ((float(s) == 1 and v < 1) or (float(s) == 0 and v > 0)):
            return s
    return ">0.999" if v > 0.5 else "<0.001"


@pytest.fixture(scope="module")
def state(page_states):
    return page_states["/ood"]


@pytest.fixture(scope="module")
def truth(resources):
    """What the core library measured (cached on disk), read independently of the page."""
    a = resources.analysis
    return {"ood": a.ood(), "report": a.ood_report(), "rays": a.alpha_ray(), "fgsm": a.fgsm(),
            "examples": a.ood_examples()}


def rows_of(table) -> dict[str, list[str]]:
    """{row className: [cell texts]} of a dbc.Table's body rows that have a className."""
    body = table.children[1].children
    return {r.className: [text(c) for c in r.children] for r in body if getattr(r, "className", None)}


def header_cells(table) -> list[list[str]]:
    return [[text(c) for c in row.children] for row in table.children[0].children]


# ---- the page and its state ----------------------------------------------------------------

def test_page_is_registered_after_compare():
    paths = [p.path for p in PAGES]
    assert paths.index("/ood") == paths.index("/compare") + 1
    info = page_for("/ood")
    assert info.package == "ood" and info.label == "Out of data"
    assert info.title and info.blurb and len(info.blurb) < 120


def test_create_app_warms_the_state_before_serving(dash_app):
    state = dash_app.states_["/ood"]
    assert isinstance(state, compute.State)
    assert set(MEASURED) <= set(vars(state)), "warm() left something to compute on a request"


class NoMeasuring:
    def __getattr__(self, name):
        raise AssertionError(f"measured {name} after warm()")


def test_nothing_is_measured_after_warm(state, monkeypatch):
    figs = dict(state.example_figures), dict(state.ray_figures)
    monkeypatch.setattr(state, "analysis", NoMeasuring())
    monkeypatch.setattr(state, "res", NoMeasuring())
    for name in ("make_alpha_ray_figure", "make_examples_figure"):
        monkeypatch.setattr(compute, name, lambda *a, **k: pytest.fail("a figure was rebuilt"))
    page = ood_page.layout(state)
    assert page is not None
    for net in state.networks:
        assert cb.update_examples(state, net)[0] is figs[0][net]
    for v in compute.RAY_VALUES:
        assert cb.update_rays(state, v)[0] is figs[1][v]
    for m in compute.METRIC_LABELS:
        assert cb.update_table(state, m)[1] is None


def test_layout_has_every_ood_id(state):
    found = json.dumps(ood_page.layout(state).to_plotly_json(), default=lambda o: o.to_plotly_json())
    wanted = [v for k, v in vars(ids).items() if k.startswith("OOD_") and isinstance(v, str)]
    assert len(wanted) >= 15
    for cid in wanted:
        assert f'"{cid}"' in found, cid


def test_state_reads_the_core_measurements(state, truth):
    assert state.report == truth["report"]
    assert state.rays == truth["rays"]
    assert state.fgsm == truth["fgsm"]
    assert state.networks == ("identity", "tanh", "relu")
    assert state.near_sets == NEAR_SETS and state.far_sets == FAR_SETS


# ---- the OOD table ---------------------------------------------------------------------------

@pytest.mark.parametrize("metric", ["auroc", "fpr95", "aupr_in", "aupr_out"])
def test_table_shows_the_measured_numbers(state, truth, metric):
    box, msg = cb.update_table(state, metric)
    assert msg is None
    table = box[0]
    assert table.id == ids.OOD_TABLE
    heads = header_cells(table)
    assert heads[0][1:] == ["near-OOD", "far-OOD"]  # the near and far sets apart
    assert heads[1] == [compute.SET_LABELS[s] for s in NEAR_SETS + FAR_SETS]
    rows = rows_of(table)
    assert len(rows) == 3 * 6
    for net, by_score in truth["ood"].items():
        for score, by_set in by_score.items():
            cells = rows[f"ood-row-{net}-{score}"]
            assert cells[0] == compute.SCORE_LABELS[score]
            assert cells[1:] == [two(by_set[s][metric]) for s in NEAR_SETS + FAR_SETS]
    assert compute.METRIC_LABELS[metric] in text(box[1])


def test_table_shades_good_cells_and_worse_than_chance(state, truth):
    table = cb.update_table(state, "auroc")[0][0]
    body = table.children[1].children
    seen = {"good": 0, "worse": 0}
    for row in body:
        if not getattr(row, "className", None):
            continue
        _, _, net, score = row.className.split("-", 3)
        for cell, s in zip(row.children[1:], NEAR_SETS + FAR_SETS):
            v = truth["ood"][net][score][s]["auroc"]
            want = "cell-good" if v >= 0.9 else ("cell-worse" if v < 0.5 else None)
            assert getattr(cell, "className", None) == want, (net, score, s, v)
            if want:
                seen[want.split("-")[1]] += 1
    assert seen["good"] and seen["worse"]
    fpr = cb.update_table(state, "fpr95")[0][0]
    row = next(r for r in fpr.children[1].children if getattr(r, "className", "") == "ood-row-identity-msp")
    v = truth["ood"]["identity"]["msp"]["uniform_noise"]["fpr95"]
    cell = row.children[1 + (NEAR_SETS + FAR_SETS).index("uniform_noise")]
    assert getattr(cell, "className", None) == ("cell-good" if v <= 0.1 else "cell-worse" if v > 0.95 else None)


def test_chance_levels():
    assert ood_text.chance("auroc", 500, 750) == 0.5
    assert ood_text.chance("fpr95", 500, 750) == 0.95
    assert ood_text.chance("aupr_in", 500, 750) == pytest.approx(0.4)
    assert ood_text.chance("aupr_out", 500, 500) == 0.5
    assert ood_text.shade("fpr95", 0.96, 500, 500) == "worse" and ood_text.shade("fpr95", 0.05, 500, 500) == "good"
    assert ood_text.shade("auroc", 0.49, 500, 500) == "worse" and ood_text.shade("auroc", 0.7, 500, 500) is None


def test_metric_lines_say_which_way_is_better():
    assert "0.5 = chance" in ood_text.metric_line("auroc") and "below 0.5" in ood_text.metric_line("auroc")
    assert "Lower is better" in ood_text.metric_line("fpr95") and "95%" in ood_text.metric_line("fpr95")
    for m in ("aupr_in", "aupr_out"):
        assert "Higher is better" in ood_text.metric_line(m)


def test_mmc_table_shows_the_mean_max_probability(state, truth):
    rows = rows_of(ood_text.mmc_table(state))
    mmc = truth["report"]["mean_max_probability"]
    for net in state.networks:
        cells = rows[f"mmc-row-{net}"]
        assert cells[1:] == [percent(mmc[net]["in"])] + [percent(mmc[net][s]) for s in NEAR_SETS + FAR_SETS]


def test_sets_line_gives_the_sizes(state, truth):
    n = truth["report"]["n"]["identity"]
    line = ood_text.sets_line(state)
    assert f"the {n['in']} held-out digits 0-3" in line
    assert f"{n['near_digits_4_9']} real digits 4-9" in line and f"{n['uniform_noise']} images each" in line


# ---- the claims in the text ----------------------------------------------------------------------

def test_highlights_match_the_numbers(state, truth):
    said = " ".join(ood_text.highlights(state))
    ood = truth["ood"]
    for net, label in compute.NETWORK_LABELS.items():
        below = sum(ood[net]["msp"][s]["auroc"] < 0.5 for s in FAR_SETS)
        assert f"{below} of {len(FAR_SETS)} far sets for the {label} net" in said
    best = max(v["near_digits_4_9"]["auroc"] for net in ood.values() for v in net.values())
    assert f"at {careful(best)}." in said
    assert ("no score reaches 0.9" in said) == (best < 0.9)
    lo = min(ood[n]["image_density"][s]["auroc"] for n in ood for s in FAR_SETS)
    assert ("separates every far set" in said) == (lo >= 0.99)
    mmc = truth["report"]["mean_max_probability"]
    for net, label in compute.NETWORK_LABELS.items():
        assert f"{label} {sum(mmc[net][s] > mmc[net]['in'] for s in FAR_SETS)}" in said


def test_the_text_follows_other_numbers(state, truth):
    """Numbers changed (as after retraining): the sentences change with them."""
    fake = compute.State(state.res)
    report = json.loads(json.dumps(truth["report"]))
    for net in report["metrics"]:
        for s in FAR_SETS:
            report["metrics"][net]["msp"][s]["auroc"] = 0.75
        for score in report["metrics"][net]:
            report["metrics"][net][score]["near_digits_4_9"]["auroc"] = 0.5
    report["metrics"]["tanh"]["energy"]["near_digits_4_9"]["auroc"] = 0.93
    fake.__dict__["report"] = report
    said = " ".join(ood_text.highlights(fake))
    assert "0 of 8 far sets for the identity net" in said
    assert "the best score reaches 0.9" in said and "the tanh net's energy at 0.93" in said
    report["metrics"]["relu"]["energy"]["near_digits_4_9"]["auroc"] = 0.93
    report["metrics"]["identity"]["energy"]["near_digits_4_9"]["auroc"] = 0.93
    assert "the energy (the same for every net) at 0.93" in " ".join(ood_text.highlights(fake))
    rows = rows_of(cb.update_table(fake, "auroc")[0][0])
    assert rows["ood-row-tanh-msp"][2:] == ["0.75"] * len(FAR_SETS)


def _stuck_at_origin(model, alphas) -> np.ndarray:
    X = np.asarray(model.split.X_test, dtype=float)
    stuck = np.ones(len(X), bool)
    for a in alphas:
        stuck &= ~np.any(forward(model.net, a * X, model.hidden_layer), axis=1)
    return stuck


def test_ray_notes_match_the_numbers(state, truth, workspace):
    notes = " ".join(ood_text.ray_notes(state))
    rays = truth["rays"]
    relu = workspace.mnist["relu"]
    stuck = _stuck_at_origin(relu, rays["relu"]["alpha"])
    p0 = predict_proba_from(relu.net, np.zeros((1, 2)), relu.hidden_layer)[0]
    if stuck.any():
        assert f"{stuck.sum()} of its {len(stuck)} held-out digits" in notes
        assert f"answers {relu.net.classes[np.argmax(p0)]} at {percent(p0.max())} for ever" in notes
        top = forward(relu.net, rays["relu"]["alpha"][-1] * relu.split.X_test[~stuck]).max(axis=1)
        if np.all(top >= 0.99):
            assert f"The other {(~stuck).sum()} all end at least 99% sure" in notes
        # the mean and the share of the ray are those of the stuck digits and the others together
        assert rays["relu"]["share_confident"][-1] == pytest.approx(np.mean(top >= 0.99) * (~stuck).mean())
    else:
        assert "exception" not in notes
    b = rays["tanh"]["top_probability_bound"]
    assert f"above {percent(b)} anywhere" in notes
    assert max(rays["tanh"]["mean_top_probability"]) <= b
    ident = rays["identity"]["share_confident"][-1]
    assert ("identity net (affine: one polytope) does as the theorem says" in notes) == (ident == 1.0)
    for k in ("identity_rbf_head", "relu_rbf_head"):
        y = rays[k]["mean_top_probability"]
        head = f"{compute.NETWORK_LABELS[k.split('_')[0]]} net's RBF head"
        if y[-1] >= 0.99:
            assert f"The {head} does not help along the ray" in notes
        elif y[-1] < y[0] - 0.01:
            assert f"The {head} gets less sure as α grows ({careful(y[0])} → {careful(y[-1])})" in notes


def test_far_answers_are_the_heads_constant(state, resources):
    for k, far in state.far_answers.items():
        net = k.removesuffix("_rbf_head")
        p = resources.plane(net)
        H = p.centroid + 1e4 * p.radius * np.array([[0.6, 0.8], [1.0, 0.0], [0.0, 1.0]])
        if net == "identity":
            H = np.vstack([H, p.centroid - 1e4 * p.radius * np.array([[1.0, 0.0]])])
        proba = p.head.predict_proba(H)
        assert np.allclose(proba, proba[0], atol=1e-9)  # one answer far away, whatever the direction
        assert far["probability"] == pytest.approx(proba[0].max(), abs=1e-9)
        assert far["predicted"] == p.head.classes_[np.argmax(proba[0])]
    assert "tanh_rbf_head" not in state.far_answers  # a bounded plane has no far away


def test_ray_table_shows_first_and_last_values(state, truth):
    rows = rows_of(ood_text.ray_table(state))
    for k, r in truth["rays"].items():
        cells = rows[f"ray-row-{k}"]
        assert cells[0] == compute.RAY_LABELS[k]
        a, b = r["mean_top_probability"][0], r["mean_top_probability"][-1]
        want = [careful(a), careful(b)] if careful(a) != careful(b) else [f"{a:.3f}", f"{b:.3f}"]
        assert cells[1:3] == want
        assert cells[3:] == [percent(r["share_confident"][0]), percent(r["share_confident"][-1])]


def test_theorem_is_stated_with_its_source():
    t = ood_text.theorem()
    assert "Hein" in t and "CVPR 2019" in t and "polytopes" in t and "tends to 1" in t


# ---- FGSM --------------------------------------------------------------------------------------------

def test_fgsm_table_has_ours_and_theirs_apart(state, truth):
    table = ood_text.fgsm_table(state)
    assert table.id == ids.OOD_FGSM_TABLE
    rows = rows_of(table)
    eps = ["0.05", "0.1", "0.25"]
    for name, by_eps in truth["fgsm"].items():
        cells = rows[f"fgsm-row-{name}"]
        assert cells[0] == compute.FGSM_LABELS[name]
        want = []
        for e in eps:
            c = by_eps[e]["mean_confidence_on_mistakes"]
            want += [percent(by_eps[e]["error"]), "n/a" if c is None else percent(c)]
        assert cells[1:] == want
    for name, v in GOODFELLOW_2015["models"].items():
        cells = rows[f"fgsm-published-{name} fst-italic"]
        assert cells[1:5] == ["—"] * 4
        assert cells[5:] == [percent(v["error"]), percent(v["mean_confidence_on_mistakes"])]
    groups = [text(r) for r in table.children[1].children if not getattr(r, "className", None)]
    assert groups[0].startswith("ours") and groups[1].startswith("theirs")
    assert GOODFELLOW_2015["data"] in groups[1] and "ICLR 2015" in groups[1]


def test_fgsm_note_matches_the_numbers(state, truth):
    note = " ".join(ood_text.fgsm_note(state))
    f, pub = truth["fgsm"], GOODFELLOW_2015["models"]
    ours = f["identity"]["0.25"]
    assert f"errs on {percent(ours['error'])} at {percent(ours['mean_confidence_on_mistakes'])}" in note
    assert (f"theirs: {percent(pub['shallow_softmax']['error'])} at "
            f"{percent(pub['shallow_softmax']['mean_confidence_on_mistakes'])}") in note
    heads = [f[k]["0.25"] for k in f if k.endswith("_rbf_head")]
    errs = [h["error"] for h in heads]
    assert f"err on {percent(min(errs))} to {percent(max(errs))}" in note
    confs = [h["mean_confidence_on_mistakes"] for h in heads]
    assert ("confidently wrong" in note) == (min(confs) > 0.5)
    assert f"{len(state.res.workspace.mnist['identity'].split.y_test):,} held-out digits 0-3" in note


# ---- the example tiles ----------------------------------------------------------------------------

@pytest.mark.parametrize("network", ["identity", "tanh", "relu"])
def test_examples_show_each_networks_answers(state, truth, network):
    fig, msg = cb.update_examples(state, network)
    assert msg is None and fig is state.example_figures[network]
    ex = truth["examples"]
    sets = NEAR_SETS + FAR_SETS
    per_set = {s: [e for e in ex["entries"] if e["set"] == s and e["source"] in (None, network)] for s in sets}
    notes = fig.layout.annotations
    titles, captions = notes[:len(sets)], notes[len(sets):]
    for t, s in zip(titles, sets):
        label = compute.TILE_LABELS.get(s, compute.SET_LABELS[s])
        assert t.text.startswith(label)
    expect = [(i, j, e) for j, s in enumerate(sets) for i, e in enumerate(per_set[s])]
    assert len(captions) == len(expect) == sum(len(v) for v in per_set.values())
    got = sorted(captions, key=lambda a: (round(a.x), -a.y))
    want = sorted(expect, key=lambda t: (t[1], t[0]))
    for c, (_, _, e) in zip(got, want):
        a = e["answers"][network]
        assert c.text == f"{a['predicted']} · {formats.pct(a['probability'])}"
        assert (c.font.color == figures.CONFIDENT_COLOR) == (a["probability"] >= 0.99)
    z = np.asarray(fig.data[0].z)
    assert z.dtype == np.uint8 and z.shape[1] == len(sets) * (28 + figures.GAP) - figures.GAP


def test_fooling_column_holds_the_networks_own_images(state, truth):
    ex = truth["examples"]
    for net in state.networks:
        col = next(c for c in state.example_columns[net] if c["set"] == "fooling_images")
        own = [i for i, e in enumerate(ex["entries"]) if e["set"] == "fooling_images" and e["source"] == net]
        assert len(col["tiles"]) == len(own) > 0
        for t, i in zip(col["tiles"], own):
            assert np.allclose(t["pixels"], compute.display_pixels(ex["images"][i]))
            assert t["range"] == compute.tile_range(ex["images"][i])


def test_tiles_are_drawn_on_their_own_range():
    img = np.array([-2.0, 0.0, 1.0, 4.0])
    assert compute.tile_range(img) == (-2.0, 4.0)
    assert np.allclose(compute.display_pixels(img), [0, 1 / 3, 0.5, 1])
    assert compute.tile_range(np.array([0.2, 0.5])) == (0.0, 1.0)
    assert formats.pixel_span([(0.0, 1.0), (-4.891, 6.4)]) == "pixels −4.89 to 6.4"


def test_told_never_rounds_to_certainty():
    assert formats.told(0.83) == "0.83" and formats.told(0.9968) == "0.997" and formats.told(1.0) == "1.00"
    assert formats.told(0.0018) == "0.002" and formats.told(0.0) == "0.00" and formats.told(0.99996) == ">0.999"
    assert formats.told(0.00001) == "<0.001"


def test_pct_never_claims_certainty_it_did_not_measure():
    assert formats.pct(0.99996) == ">99.9%" and formats.pct(1.0) == "100.0%"
    assert formats.pct(0.00001) == "<0.1%" and formats.pct(0.0) == "0.0%"
    assert formats.pct(0.8923) == "89.2%"
    assert formats.pct(0.99989) == ">99.9%" and formats.pct(0.99989, 2) == "99.99%" and formats.pct(None) == "n/a"


# ---- the alpha-ray chart --------------------------------------------------------------------------

@pytest.mark.parametrize("value,key", [("mean", "mean_top_probability"), ("share", "share_confident")])
def test_ray_chart_draws_the_measured_curves(state, truth, value, key):
    fig, msg = cb.update_rays(state, value)
    assert msg is None
    rays = truth["rays"]
    lines = fig.data[:len(rays)]
    assert [t.name for t in lines] == [compute.RAY_LEGEND[k] for k in rays]
    for t, (k, r) in zip(lines, rays.items()):
        assert np.allclose(np.asarray(t.x, float), r["alpha"], rtol=1e-6)
        assert np.allclose(np.asarray(t.y, float), r[key], atol=1e-6)
        assert (t.line.dash == "dash") == k.endswith("_rbf_head")
    assert fig.layout.xaxis.type == "log"
    assert fig.layout.xaxis.range == pytest.approx((0.0, 3.0))
    lo, hi = fig.layout.yaxis.range
    assert lo <= min(min(r[key]) for r in rays.values()) and hi >= 1.0
    if value == "mean":
        bound = fig.data[len(rays)]
        assert bound.y[0] == pytest.approx(rays["tanh"]["top_probability_bound"])
    else:
        assert len(fig.data) == len(rays)


def test_ray_factory_without_bound_and_with_few_points():
    fig = figures.make_alpha_ray_figure({"a": {"alpha": [1, 10], "y": [0.5, 0.9]}}, dashed={"a"})
    assert len(fig.data) == 1 and fig.data[0].line.dash == "dash"
    assert list(fig.layout.xaxis.tickvals) == [1, 10]


# ---- hostile input ------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", BAD)
def test_bad_switch_values_give_a_message(state, value):
    for call, what in ((cb.update_table, "metric"), (cb.update_examples, "network"), (cb.update_rays, "quantity")):
        content, msg = call(state, value)
        assert content is no_update and is_message(msg), (call.__name__, value)
        assert f"Unknown {what}" in text(msg)


_SWITCHES = [(f"{ids.OOD_TABLE_BOX}.children", ids.OOD_METRIC, ids.OOD_METRIC_MESSAGE, ids.OOD_TABLE_BOX),
             (f"{ids.OOD_EXAMPLES}.figure", ids.OOD_NETWORK, ids.OOD_NETWORK_MESSAGE, ids.OOD_EXAMPLES),
             (f"{ids.OOD_RAYS}.figure", ids.OOD_RAY_VALUE, ids.OOD_RAY_MESSAGE, ids.OOD_RAYS)]


@pytest.mark.parametrize("fragment,control,note,content", _SWITCHES)
def test_post_good_and_bad_values(dash_app, fragment, control, note, content):
    client = dash_app.server.test_client()
    good = {ids.OOD_METRIC: "fpr95", ids.OOD_NETWORK: "relu", ids.OOD_RAY_VALUE: "share"}[control]
    resp = post(client, dash_app, fragment, [{"id": control, "property": "value", "value": good}],
                [f"{control}.value"])
    assert resp.status_code == 200
    body = resp.get_json()["response"]
    assert content in body and body[note]["children"] is None
    for value in BAD + [1e308, -math.inf]:
        item = {"id": control, "property": "value"}
        if value is not None:
            item["value"] = value
        resp = post(client, dash_app, fragment, [item], [f"{control}.value"])
        assert resp.status_code == 200, value
        body = resp.get_json()["response"]
        assert content not in body and body[note]["children"]["type"] == "Alert", value
        assert ids.ERROR not in json.dumps(body)


def test_post_metric_switch_sends_that_metrics_numbers(dash_app, truth):
    client = dash_app.server.test_client()
    resp = post(client, dash_app, f"{ids.OOD_TABLE_BOX}.children",
                [{"id": ids.OOD_METRIC, "property": "value", "value": "aupr_out"}], [f"{ids.OOD_METRIC}.value"])
    shown = json.dumps(resp.get_json()["response"][ids.OOD_TABLE_BOX]["children"])
    v = truth["ood"]["relu"]["rbf_head"]["permuted"]["aupr_out"]
    assert f'"{two(v)}"' in shown and "AUPR-Out" in shown
    assert re.search(r'"ood-row-relu-rbf_head"', shown)
