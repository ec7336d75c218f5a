"""The out-of-distribution sets and the cached measurements of the 0-3 networks."""
from __future__ import annotations

import numpy as np
import pytest

from fooling import oodsets
from fooling.analysis import WorkspaceAnalysis
from fooling.attacks import FGSM_EPS
from fooling.gradients import network_gradient
from fooling.network import forward
from fooling.ood import METRICS, SCORES, ood_metrics
from fooling.probes import data_radius

NETS = ("identity", "tanh", "relu")


def test_far_sets(workspace):
    m = workspace.mnist["identity"]
    X = np.asarray(m.split.X_test, dtype=float)
    sets = oodsets.far_sets(X, m.split.X_train)
    assert set(sets) == set(oodsets.FAR_SETS) - {"fooling_images"}
    for name, S in sets.items():
        assert S.shape == X.shape, name
    u, g = sets["uniform_noise"], sets["gaussian_noise"]
    assert 0 <= u.min() and u.max() <= 1 and abs(u.mean() - 0.5) < 0.01
    assert 0 <= g.min() and g.max() <= 1 and (g == 0).mean() > 0.2  # the data's mean is low: many clipped at 0
    np.testing.assert_array_equal(np.sort(sets["permuted"], axis=1), np.sort(X, axis=1))
    assert not np.array_equal(sets["permuted"], X)
    for a in oodsets.ALPHA_SCALES:
        np.testing.assert_array_equal(sets[f"alpha_{a}"], a * X)
    again = oodsets.far_sets(X, m.split.X_train)  # seeded: the same images every time
    np.testing.assert_array_equal(again["gaussian_noise"], g)


def test_near_digits_are_the_held_out_4_to_9(workspace):
    split = workspace.mnist["neurons"].split
    near = oodsets.near_digits(workspace)
    assert near.shape == ((split.y_test >= 4).sum(), 784) == (750, 784)  # 125 of each, bundled
    np.testing.assert_array_equal(near, split.X_test[split.y_test >= 4])


@pytest.mark.parametrize("name", NETS)
def test_fooling_targets_and_images(workspace, name):
    m = workspace.mnist[name]
    c, radius = data_radius(m.train_hidden)
    H = oodsets.fooling_targets(m, 60)
    d = np.linalg.norm(H - c, axis=1) / radius
    if name == "tanh":
        assert np.all(np.abs(H) <= oodsets.TANH_EDGE) and d.max() <= 1.5
    else:
        assert np.all((d >= 2 - 1e-9) & (d <= 10 + 1e-9))
    if name == "relu":
        assert np.all(H >= 0)
    images, points = oodsets.fooling_images(m, 20)
    assert len(images) == len(points) and len(images) >= 18
    tol = 1e-6 if name == "tanh" else 1e-9
    np.testing.assert_allclose(forward(m.net, images, m.hidden_layer), points, atol=tol)


@pytest.fixture(scope="module")
def analysis(workspace):
    return WorkspaceAnalysis(workspace)


def test_ood_tables(workspace, analysis):
    table = analysis.ood()
    assert set(table) == set(NETS)
    for name in NETS:
        assert list(table[name]) == list(SCORES)
        for score in SCORES:
            assert list(table[name][score]) == list(oodsets.SETS)
            for metrics in table[name][score].values():
                assert list(metrics) == list(METRICS) and all(0 <= v <= 1 for v in metrics.values())
    # one entry recomputed from scratch
    m = workspace.mnist["identity"]
    X = np.asarray(m.split.X_test, dtype=float)
    msp_in = forward(m.net, X).max(axis=1)
    msp_out = forward(m.net, 10 * X).max(axis=1)
    assert table["identity"]["msp"]["alpha_10"] == pytest.approx(ood_metrics(msp_in, msp_out))
    assert table["identity"]["image_density"]["alpha_10"]["auroc"] == 1.0  # pixels outside [0, 1]
    report = analysis.ood_report()
    assert report["n"]["relu"] == {"in": 500, **{s: (750 if s == "near_digits_4_9" else 500) for s in oodsets.SETS}}
    assert report["mean_max_probability"]["identity"]["alpha_10"] == pytest.approx(msp_out.mean())


def test_ood_is_cached(workspace, analysis, monkeypatch):
    first = analysis.ood()
    again = WorkspaceAnalysis(workspace)
    monkeypatch.setattr(again, "_ood_build", lambda: pytest.fail("the OOD tables were computed again"))
    assert again.ood() == first
    assert len(again.ood_examples()["entries"]) == len(analysis.ood_examples()["entries"])


def test_ood_examples(workspace, analysis):
    ex = analysis.ood_examples()
    images, entries = ex["images"], ex["entries"]
    assert images.shape == (len(entries), 784) and images.dtype == np.float32
    assert {e["set"] for e in entries} == set(oodsets.SETS)
    assert {e["source"] for e in entries if e["set"] == "fooling_images"} == set(NETS)
    for x, e in zip(images, entries):
        assert set(e["answers"]) == set(NETS)
        for name, answer in e["answers"].items():
            m = workspace.mnist[name]
            p = forward(m.net, x.astype(float))
            assert answer["predicted"] == int(m.net.classes[np.argmax(p)])
            assert answer["probability"] == pytest.approx(p.max(), rel=1e-5)
            assert set(answer["scores"]) == set(SCORES)
            if x.min() < 0 or x.max() > 1:
                assert answer["scores"]["image_density"] is None  # -inf is not JSON


def test_alpha_ray(analysis):
    rays = analysis.alpha_ray()
    assert set(rays) == set(NETS) | {f"{n}_rbf_head" for n in NETS}
    for name, r in rays.items():
        assert len(r["alpha"]) == len(r["mean_top_probability"]) == len(r["share_confident"]) == 31
        assert r["alpha"][0] == pytest.approx(1.0) and r["alpha"][-1] == pytest.approx(1000.0)
    assert rays["identity"]["mean_top_probability"][-1] > 0.99  # an affine net: certain far out
    bound = rays["tanh"]["top_probability_bound"]
    assert bound is not None and max(rays["tanh"]["mean_top_probability"]) <= bound
    assert rays["relu"]["top_probability_bound"] is None


def test_fgsm(workspace, analysis):
    table = analysis.fgsm()
    assert set(table) == set(NETS) | {f"{n}_rbf_head" for n in NETS} | {"neurons"}
    for name, rows in table.items():
        assert list(rows) == [str(e) for e in FGSM_EPS] == ["0.05", "0.1", "0.25"]
        for row in rows.values():
            assert 0 <= row["error"] <= 1
    # the identity net at eps = 0.1, recomputed step by step
    m = workspace.mnist["identity"]
    X, y = np.asarray(m.split.X_test, dtype=float), m.split.y_test
    adv = np.clip(X + 0.1 * np.sign(network_gradient(m.net, X, y)[1]), 0, 1)
    P = forward(m.net, adv)
    wrong = m.net.classes[P.argmax(axis=1)] != y
    assert table["identity"]["0.1"]["error"] == pytest.approx(wrong.mean())
    assert table["identity"]["0.1"]["mean_confidence_on_mistakes"] == pytest.approx(P.max(axis=1)[wrong].mean())
    # more perturbation, more mistakes
    for rows in table.values():
        assert rows["0.05"]["error"] <= rows["0.1"]["error"] <= rows["0.25"]["error"]
