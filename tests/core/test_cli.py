"""Tests for the command line (python -m fooling) and the purity of the core package."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import require_or_skip

ROOT = Path(__file__).resolve().parents[2]
T10K = Path(__file__).resolve().parents[2].parent / "shared/data/mnist-t10k"


def run(args, cache, *, extra_env=None, timeout=300, code=None):
    env = {k: v for k, v in os.environ.items() if k not in ("FOOLING_MNIST", "PYTHONPATH")}
    env.update(PYTHONPATH=str(ROOT), FOOLING_CACHE_DIR=str(cache), **(extra_env or {}))
    cmd = [sys.executable, "-c", code] if code is not None else [sys.executable, "-m", "fooling", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout, cwd=ROOT)


@pytest.fixture(scope="module")
def cli_report(workspace, session_cache):
    """``reproduce --json --quiet`` on the session cache (already trained: fast)."""
    out = run(["reproduce", "--json", "--quiet"], session_cache)
    assert out.returncode == 0, out.stderr
    return out


def check_fooling_entry(entry, bounded):
    keys = {"label", "hidden", "probability", "residual", "pixel_min", "pixel_max", "data_radius_ratio"}
    assert keys <= set(entry), entry
    assert isinstance(entry["label"], int)
    assert len(entry["hidden"]) == 2 and all(isinstance(v, float) for v in entry["hidden"])
    for key in keys - {"label", "hidden"}:
        assert isinstance(entry[key], float), key
    assert 0 <= entry["probability"] <= 1 and entry["residual"] >= 0
    assert entry["pixel_min"] <= entry["pixel_max"]
    if bounded:
        assert "max_confidence" in entry


def test_reproduce_json_schema(cli_report):
    lines = cli_report.stdout.splitlines()
    assert len(lines) == 1  # exactly one JSON object, nothing else on stdout
    report = json.loads(lines[0])
    assert {"iris", "mnist"} <= set(report)
    assert set(report["iris"]) == {"logistic", "svm_linear", "svm_rbf"}
    for model in report["iris"].values():
        assert isinstance(model["accuracy"], float) and 0 <= model["accuracy"] <= 1
        assert len(model["probes"]) == 3
        for probe in model["probes"]:
            assert set(probe) == {"point", "label", "probability"}
            assert len(probe["point"]) == 2 and probe["label"] in ("setosa", "versicolor", "virginica")
    mn = report["mnist"]
    assert {"source", "n_train", "n_test", "identity", "tanh", "neurons"} <= set(mn)
    assert mn["source"].startswith("bundled") and (mn["n_train"], mn["n_test"]) == (1500, 500)
    for name in ("identity", "tanh"):
        assert {"train_accuracy", "test_accuracy", "fooling"} <= set(mn[name])
        assert [e["label"] for e in mn[name]["fooling"]] == [0, 1, 2, 3]
        for entry in mn[name]["fooling"]:
            check_fooling_entry(entry, bounded=name == "tanh")
    assert "test_accuracy" in mn["neurons"]
    overlay = mn["neurons"]["overlay"]
    assert {"source_label", "target_label", "flip_strength", "probability"} <= set(overlay)
    assert (overlay["source_label"], overlay["target_label"]) == (7, 0)


def assert_same(a, b, path="report"):
    """Equal structure and strings/ints; floats equal to 1e-9 (BLAS threads may differ)."""
    if isinstance(a, dict):
        assert set(a) == set(b), path
        for key in a:
            assert_same(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{path}[{i}]")
    elif isinstance(a, float):
        assert a == pytest.approx(b, rel=1e-9, abs=1e-12), path
    else:
        assert a == b, path


def test_reproduce_json_matches_in_process_report(cli_report, report):
    assert_same(json.loads(cli_report.stdout), json.loads(json.dumps(report)))


def test_reproduce_quiet_json_has_no_progress(cli_report):
    assert "fooling [" not in cli_report.stderr
    assert "Traceback" not in cli_report.stderr


def test_reproduce_table(workspace, session_cache):
    out = run(["reproduce", "--quiet"], session_cache)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[0].split()[:3] == ["what", "essay", "ours"]
    assert "identity net: held-out accuracy" in out.stdout


def test_build_reports_accuracies(workspace, session_cache):
    out = run(["build"], session_cache)
    assert out.returncode == 0, out.stderr
    for name in ("identity", "tanh", "neurons"):
        assert f"{name}: held-out accuracy" in out.stderr
        assert f"{name} net loaded from cache" in out.stderr  # progress names the cache hits
    assert out.stdout == ""


def test_missing_mnist_path_is_a_clean_error(tmp_path):
    out = run(["reproduce", "--json", "--quiet", "--mnist", "/nonexistent/path"], tmp_path / "cache")
    assert out.returncode == 2
    assert out.stdout == ""
    err = out.stderr.strip().splitlines()
    assert len(err) == 1, out.stderr
    assert err[0].startswith("error:") and "/nonexistent/path" in err[0]
    assert "Traceback" not in out.stderr


def test_missing_mnist_from_env_is_a_clean_error(tmp_path):
    out = run(["build", "--quiet"], tmp_path / "cache", extra_env={"FOOLING_MNIST": "/nonexistent/x"})
    assert out.returncode == 2
    assert "FOOLING_MNIST" in out.stderr and "Traceback" not in out.stderr


def test_bad_arguments_exit_2(tmp_path):
    out = run(["frobnicate"], tmp_path / "cache")
    assert out.returncode == 2 and "usage" in out.stderr
    out = run([], tmp_path / "cache")
    assert out.returncode == 2


def test_t10k_folder_accuracies(tmp_path):
    require_or_skip(T10K.is_dir(), f"{T10K} (MNIST's t10k files, in ../shared)")
    out = run(["reproduce", "--json", "--quiet", "--mnist", str(T10K)], tmp_path / "cache", timeout=600)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["mnist"]["source"].startswith("idx:")
    assert report["mnist"]["identity"]["test_accuracy"] >= 0.90
    assert report["mnist"]["tanh"]["test_accuracy"] >= 0.95


# ---------------------------------------------------------------- purity
PURITY = """
import os, sys
import fooling, fooling.workspace, fooling.report, fooling.__main__
import fooling.network, fooling.inversion, fooling.regions, fooling.neurons, fooling.attacks
import fooling.store, fooling.probes, fooling.models, fooling.datasets, fooling.progress
print([m for m in sys.modules if m.split('.')[0] in ('dash', 'plotly', 'flask')])
"""


def test_core_imports_no_web_stack_and_write_nothing(tmp_path):
    cache, home, xdg = tmp_path / "cache", tmp_path / "home", tmp_path / "xdg"
    for d in (cache, home, xdg):
        d.mkdir()
    out = run([], cache, code=PURITY, extra_env={"HOME": str(home), "XDG_CACHE_HOME": str(xdg)})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
    for d in (cache, home, xdg):
        assert list(d.iterdir()) == [], d
