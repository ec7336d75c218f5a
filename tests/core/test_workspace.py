"""Tests for fooling.workspace and fooling.report on the trained bundled workspace.

The workspace is trained once per session (see conftest.py); these tests check the
acceptance numbers, the cache behaviour and the report's consistency.
"""
from __future__ import annotations

import shutil
import time

import numpy as np
import pytest

import fooling.workspace as wsmod
from fooling import store
from fooling.attacks import normalized_pattern, overlay
from fooling.models import MLP_SPECS
from fooling.network import forward, predict_proba_from
from fooling.neurons import effective_weights
from fooling.probes import data_radius
from fooling.probes import fooling_points
from fooling.report import format_table, overlay_report


# ---------------------------------------------------------------- iris
def test_iris_logistic_accuracy_and_probes(workspace, report):
    assert workspace.iris.accuracy("logistic") == pytest.approx(0.967, abs=0.005)
    model = workspace.iris.models["logistic"]
    for point, label in [((0.1, 5.0), "setosa"), ((10.0, 10.0), "virginica"), ((5.0, -5.0), "versicolor")]:
        p = model.predict_proba(np.array([point]))[0]
        assert workspace.iris.names[int(np.argmax(p))] == label
        assert p.max() >= 0.99
    probes = report["iris"]["logistic"]["probes"]
    assert [(tuple(p["point"]), p["label"]) for p in probes] == [
        ((0.1, 5.0), "setosa"), ((10.0, 10.0), "virginica"), ((5.0, -5.0), "versicolor")]
    assert all(p["probability"] >= 0.99 for p in probes)


def test_iris_svm_accuracies(workspace, report):
    for name in ("svm_linear", "svm_rbf"):
        assert workspace.iris.accuracy(name) >= 0.95
        assert report["iris"][name]["accuracy"] == workspace.iris.accuracy(name)
        for probe in report["iris"][name]["probes"]:
            assert probe["label"] in workspace.iris.names and 0 < probe["probability"] <= 1


def test_iris_data(workspace):
    assert workspace.iris.X.shape == (150, 2) and workspace.iris.y.shape == (150,)
    assert workspace.iris.names == ("setosa", "versicolor", "virginica")


# ---------------------------------------------------------------- MNIST models
def test_mnist_accuracies(workspace):
    mn = workspace.mnist
    assert mn["identity"].trained.test_accuracy >= 0.90
    assert mn["tanh"].trained.test_accuracy >= 0.95
    assert mn["neurons"].trained.test_accuracy >= 0.90
    for m in mn.values():  # the recorded score is the score of the stored weights
        preds = m.net.classes[forward(m.net, m.split.X_test).argmax(1)]
        assert m.trained.test_accuracy == pytest.approx(np.mean(preds == m.split.y_test))


def test_mnist_splits_and_shapes(workspace):
    for name in ("identity", "tanh"):
        m = workspace.mnist[name]
        assert m.net.sizes == (784, 50, 20, 2, 4) and m.hidden_layer == 3
        assert len(m.split.y_train) == 1500 and len(m.split.y_test) == 500
        assert set(np.unique(m.split.y_test)) == {0, 1, 2, 3}
        assert m.train_hidden.shape == (1500, 2) and m.test_hidden.shape == (500, 2)
        assert m.split.X_train.min() >= 0 and m.split.X_train.max() <= 1
    assert workspace.mnist["neurons"].net.sizes == (784, 64, 64, 10)
    assert workspace.mnist["identity"].inverter.affine_
    assert not workspace.mnist["tanh"].inverter.affine_
    assert workspace.source.startswith("bundled")


def test_identity_fooling_points(workspace, report):
    m = workspace.mnist["identity"]
    entries = report["mnist"]["identity"]["fooling"]
    assert [e["label"] for e in entries] == [0, 1, 2, 3]
    centroid, radius = data_radius(m.train_hidden)
    for e in entries:
        assert e["predicted"] == e["label"]
        assert e["probability"] >= 0.99
        assert e["residual"] <= 1e-6
        assert e["data_radius_ratio"] >= 2
        h = np.array(e["hidden"])
        assert np.linalg.norm(h - centroid) / radius == pytest.approx(e["data_radius_ratio"])
        # independent check: invert again and classify the image from the input
        r = m.inverter.invert(h)
        proba = forward(m.net, r.image)
        assert m.net.classes[proba.argmax()] == e["label"]
        assert proba[e["label"]] == pytest.approx(e["probability"], abs=1e-9)
        assert r.image.min() == pytest.approx(e["pixel_min"]) and r.image.max() == pytest.approx(e["pixel_max"])


def test_tanh_fooling_points(workspace, report):
    m = workspace.mnist["tanh"]
    entries = report["mnist"]["tanh"]["fooling"]
    assert [e["label"] for e in entries] == [0, 1, 2, 3]
    for k, e in enumerate(entries):
        assert "error" not in e
        assert e["predicted"] == e["label"]
        assert e["residual"] <= 1e-3
        assert e["probability"] <= e["max_confidence"] + 1e-9
        h = np.array(e["hidden"])
        assert np.all(np.abs(h) <= 0.95 + 1e-12)
        assert predict_proba_from(m.net, h, 3)[k] == pytest.approx(e["probability"], abs=1e-6)


def test_overlay_flips_seven_to_zero(workspace, report):
    o = report["mnist"]["neurons"]["overlay"]
    assert o["source_label"] == 7 and o["target_label"] == 0
    assert o["flip_strength"] is not None and o["probability"] >= 0.9
    assert o["first_flip_strength"] <= o["flip_strength"]
    # independent check at the reported strength
    m = workspace.mnist["neurons"]
    image = m.split.X_test[o["test_index"]]
    assert m.split.y_test[o["test_index"]] == 7
    assert m.net.classes[forward(m.net, image).argmax()] == 7
    pattern = normalized_pattern(effective_weights(m.net, 3, 0))
    blend = overlay(image, pattern, o["flip_strength"], clip=None)[0]
    proba = forward(m.net, blend)
    assert m.net.classes[proba.argmax()] == 0
    assert proba[0] == pytest.approx(o["probability"]) and proba[0] >= 0.9
    clipped = report["mnist"]["neurons"]["overlay_clipped"]
    assert clipped["clip"] == [0.0, 1.0]


def test_overlay_report_rejects_missing_source(workspace):
    m = workspace.mnist["identity"]  # digits 0-3 only: there is no 7
    with pytest.raises(ValueError, match="no correctly classified 7"):
        overlay_report(m, source=7, target=0)


def test_fooling_points_reports_inversion_errors(workspace, monkeypatch):
    m = workspace.mnist["tanh"]
    monkeypatch.setattr("fooling.probes.TANH_BOX", 1.0)  # corners of the closed square: unreachable
    entries = fooling_points(m)
    assert all("error" in e and "codomain" in e["error"] for e in entries)


def test_report_table(report):
    table = format_table(report)
    lines = table.splitlines()
    assert lines[0].split()[:3] == ["what", "essay", "ours"]
    assert any(l.startswith("iris logistic: accuracy") and "0.967" in l for l in lines)
    assert sum("fooling" in l for l in lines) == 12  # identity, tanh and ReLU nets, four digits each
    assert any("overlay 7 + pattern(0)" in l for l in lines)


# ---------------------------------------------------------------- cache behaviour
def artifact_files(folder):
    return sorted(p.name for p in folder.glob("mlp-*.npz"))


def test_session_cache_holds_one_artifact_per_model(workspace, session_cache):
    names = artifact_files(session_cache)
    assert len(names) == len(MLP_SPECS) == 4
    for name in MLP_SPECS:
        assert sum(n.startswith(f"mlp-{name}-") for n in names) == 1


def test_second_load_is_a_cache_hit(workspace, session_cache, monkeypatch):
    def no_training(*args, **kwargs):
        raise AssertionError("train_mlp called on a cached load")

    monkeypatch.setattr(wsmod, "train_mlp", no_training)
    start = time.perf_counter()
    with __import__("warnings").catch_warnings():
        __import__("warnings").simplefilter("error")  # no "rebuilding" warning either
        again = wsmod.load_workspace(cache_dir=session_cache)
    assert time.perf_counter() - start < 10
    for name, m in workspace.mnist.items():
        b = again.mnist[name]
        for la, lb in zip(m.net.layers, b.net.layers):
            np.testing.assert_array_equal(la.W, lb.W)
            np.testing.assert_array_equal(la.b, lb.b)
        assert b.trained.test_accuracy == m.trained.test_accuracy
        np.testing.assert_array_equal(b.split.X_test, m.split.X_test)


def test_cache_dir_env_is_used_by_default(workspace, session_cache, monkeypatch):
    monkeypatch.setenv("FOOLING_CACHE_DIR", str(session_cache))
    monkeypatch.setattr(wsmod, "train_mlp", lambda *a, **k: pytest.fail("should hit the cache"))
    ws = wsmod.load_workspace(models=("tanh",))
    assert list(ws.mnist) == ["tanh"]


def fake_trainer(workspace, calls):
    def train(spec, *args, **kwargs):
        calls.append(spec.name)
        return workspace.mnist[spec.name].trained

    return train


def test_corrupt_artifact_is_rebuilt_with_warning(workspace, session_cache, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    shutil.copytree(session_cache, cache)
    spec = MLP_SPECS["identity"]
    path = next(cache.glob("mlp-identity-*.npz"))
    path.write_bytes(path.read_bytes()[:1000])
    calls = []
    monkeypatch.setattr(wsmod, "train_mlp", fake_trainer(workspace, calls))
    with pytest.warns(UserWarning, match="rebuilding cached artifact"):
        ws = wsmod.load_workspace(cache_dir=cache, models=("identity", "tanh"))
    assert calls == ["identity"]  # tanh came from the cache
    np.testing.assert_array_equal(ws.mnist["identity"].net.layers[0].W,
                                  workspace.mnist["identity"].net.layers[0].W)
    arrays, meta = store.load(path)  # rewritten, readable, same spec
    assert meta["version"] and meta["spec"]["name"] == spec.name
    ws = wsmod.load_workspace(cache_dir=cache, models=("identity",))
    assert calls == ["identity"]


def test_artifact_for_another_spec_is_rebuilt(workspace, session_cache, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    shutil.copytree(session_cache, cache)
    path = next(cache.glob("mlp-tanh-*.npz"))
    arrays, meta = store.load(path)
    store.save(path, arrays, {**meta, "spec": {**meta["spec"], "learning_rate_init": 0.5}})
    calls = []
    monkeypatch.setattr(wsmod, "train_mlp", fake_trainer(workspace, calls))
    with pytest.warns(UserWarning, match="another spec"):
        wsmod.load_workspace(cache_dir=cache, models=("tanh",))
    assert calls == ["tanh"]


def test_artifact_path_depends_on_spec_and_data(tmp_path):
    from dataclasses import replace

    spec = MLP_SPECS["tanh"]
    p = wsmod.mlp_artifact_path(spec, "abc", tmp_path)
    assert p.parent == tmp_path and p.name.startswith("mlp-tanh-") and p.suffix == ".npz"
    assert wsmod.mlp_artifact_path(spec, "abc", tmp_path) == p
    assert wsmod.mlp_artifact_path(spec, "abd", tmp_path) != p
    assert wsmod.mlp_artifact_path(replace(spec, random_state=22), "abc", tmp_path) != p
    assert wsmod.mlp_artifact_path(replace(spec, essay={"x": 1}), "abc", tmp_path) == p  # notes only
