"""python -m fooling score, and what reproduce --json gained: OOD, alpha-ray, FGSM, the ReLU net."""
from __future__ import annotations

import json

import numpy as np
import pytest

from fooling.analysis import WorkspaceAnalysis
from fooling.network import forward
from fooling.ood import METRICS, SCORES
from fooling.oodsets import SETS

from .test_cli import check_fooling_entry, run

NETS = ("identity", "tanh", "relu")


@pytest.fixture(scope="module")
def images(workspace):
    m = workspace.mnist["identity"]
    X = np.asarray(m.split.X_test[:3], dtype=float)
    noise = np.random.default_rng(0).uniform(0, 1, (1, 784))
    return np.vstack([X, 2.0 * X[:1], noise])  # the fourth has pixels outside [0, 1]


@pytest.mark.parametrize("name", NETS)
def test_score_json_matches_the_library(workspace, session_cache, tmp_path, images, name):
    path = tmp_path / "images.npz"
    np.savez(path, images=images)
    out = run(["score", str(path), "--network", name, "--json", "--quiet"], session_cache)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert len(lines) == 1 and "Traceback" not in out.stderr
    got = json.loads(lines[0])
    assert set(got) == {"network", "scores", "predicted", "probabilities"} and got["network"] == name
    assert list(got["scores"]) == list(SCORES)
    want = WorkspaceAnalysis(workspace).scorer(name).scores(images)
    for score in SCORES:
        values = got["scores"][score]
        assert len(values) == len(images)
        for v, w in zip(values, want[score]):
            assert (v is None) == (not np.isfinite(w))
            if v is not None:
                assert v == pytest.approx(w, rel=1e-9, abs=1e-12)
    # the image with pixels outside [0, 1] has image density -inf: null in JSON
    assert got["scores"]["image_density"][3] is None
    assert all(v is not None for i, v in enumerate(got["scores"]["image_density"]) if i != 3)
    m = workspace.mnist[name]
    P = forward(m.net, images)
    np.testing.assert_allclose(got["probabilities"], P, rtol=1e-9, atol=1e-15)
    assert got["predicted"] == [int(c) for c in m.net.classes[P.argmax(axis=1)]]


def test_score_integer_grey_levels_and_the_table(workspace, session_cache, tmp_path):
    grey = np.random.default_rng(1).integers(0, 256, (2, 28, 28)).astype(np.uint8)
    np.savez(tmp_path / "grey.npz", images=grey)
    out = run(["score", str(tmp_path / "grey.npz"), "--network", "relu", "--json", "--quiet"], session_cache)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    want = WorkspaceAnalysis(workspace).scorer("relu").scores(grey.reshape(2, 784) / 255.0)
    assert got["scores"]["msp"] == pytest.approx(want["msp"].tolist(), rel=1e-9)
    table = run(["score", str(tmp_path / "grey.npz"), "--network", "relu", "--quiet"], session_cache)
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].startswith("network: relu") and lines[1].split() == ["image", "predicted", "probability", *SCORES]
    assert [line.split()[0] for line in lines[2:]] == ["0", "1"]


def bad_files(tmp_path):
    np.savez(tmp_path / "objects.npz", images=np.array([{"pickled": True}], dtype=object))
    np.savez(tmp_path / "nokey.npz", digits=np.zeros((1, 784)))
    np.savez(tmp_path / "shape.npz", images=np.zeros((2, 30, 30)))
    np.savez(tmp_path / "nan.npz", images=np.array([[0.1] * 783 + [np.nan]]))
    np.savez(tmp_path / "inf.npz", images=np.array([[-np.inf] + [0.1] * 783]))
    np.savez(tmp_path / "levels.npz", images=np.full((1, 784), 999, dtype=np.int64))
    np.save(tmp_path / "array.npy", np.zeros((1, 784)))
    (tmp_path / "text.npz").write_text("not an archive")
    return {"missing.npz": "no such file", "objects.npz": "unpickling", "nokey.npz": "no 'images' array",
            "shape.npz": "shape", "nan.npz": "NaN or infinite", "inf.npz": "NaN or infinite",
            "levels.npz": "grey levels 0-255", "array.npy": "single .npy array", "text.npz": "not a readable .npz"}


def test_bad_files_are_clean_errors(tmp_path):
    cache = tmp_path / "cache"  # empty: a bad file must fail before anything is trained
    for name, message in bad_files(tmp_path).items():
        out = run(["score", str(tmp_path / name), "--network", "tanh", "--json", "--quiet"], cache)
        assert out.returncode == 2, (name, out.stderr)
        assert out.stdout == ""
        err = out.stderr.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("error:") and name in err[0] and message in err[0], err
        assert "Traceback" not in out.stderr
    assert not cache.exists() or not list(cache.glob("mlp-*.npz"))
    out = run(["score", str(tmp_path / "nokey.npz"), "--network", "sigmoid"], cache)
    assert out.returncode == 2 and "invalid choice" in out.stderr


# ---------------------------------------------------------------- reproduce --json
def test_reproduce_has_the_ood_tables(report):
    ood = report["ood"]
    assert list(ood) == list(NETS)
    for name in NETS:
        assert list(ood[name]) == list(SCORES)
        for score in SCORES:
            assert list(ood[name][score]) == list(SETS)
            assert all(list(v) == list(METRICS) for v in ood[name][score].values())
    assert set(SETS) == {"near_digits_4_9", "uniform_noise", "gaussian_noise", "permuted", "alpha_2", "alpha_5",
                         "alpha_10", "alpha_100", "fooling_images"}


def test_reproduce_has_the_alpha_ray_and_fgsm(report):
    rays = report["alpha_ray"]
    assert {"identity", "tanh", "relu", "identity_rbf_head"} <= set(rays)
    for r in rays.values():
        assert len(r["alpha"]) == len(r["mean_top_probability"]) and r["alpha"][-1] == pytest.approx(1000)
    fgsm = report["fgsm"]
    assert {"identity", "tanh", "relu", "identity_rbf_head", "neurons"} <= set(fgsm)
    for rows in fgsm.values():
        assert list(rows) == ["0.05", "0.1", "0.25"]
        assert all(set(v) == {"error", "mean_confidence_on_mistakes"} for v in rows.values())
    assert report["fgsm_published"]["models"]["shallow_softmax"]["error"] == 0.999


def test_reproduce_has_the_relu_net(report):
    mn = report["mnist"]
    assert set(mn["relu"]) == set(mn["identity"])
    assert mn["relu"]["test_accuracy"] >= 0.93
    assert [e["label"] for e in mn["relu"]["fooling"]] == [0, 1, 2, 3]
    for entry in mn["relu"]["fooling"]:
        check_fooling_entry(entry, bounded=False)
        assert entry["residual"] <= 1e-9 and isinstance(entry["bounded"], bool)


def test_reproduce_table_shows_them(workspace, session_cache):
    out = run(["reproduce", "--quiet"], session_cache)
    assert out.returncode == 0, out.stderr
    for text in ("relu net: held-out accuracy", "OOD relu net, AUROC/FPR95", "alpha-ray tanh:",
                 "FGSM identity_rbf_head:", "shallow_rbf: 55.4% at 1.2%"):
        assert text in out.stdout, text
