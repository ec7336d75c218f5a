"""Tests for ``python -m fooling invert``: JSON and table output re-propagated here, and clean
refusals (exit 2, no traceback) for unreachable points and bad numbers."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fooling.__main__ import main
from fooling.network import forward

ROOT = Path(__file__).resolve().parents[2]
FIELDS = {"network", "point", "image", "hidden", "residual", "predicted", "probabilities", "valid",
          "in_range"}


@pytest.fixture
def cli(workspace, session_cache, monkeypatch, capsys):
    """``cli(*args) -> (code, stdout, stderr)`` through main(), on the trained session cache."""
    monkeypatch.setenv("FOOLING_CACHE_DIR", str(session_cache))

    def run(*args):
        try:
            code = main(["invert", "--quiet", *args])
        except SystemExit as exc:  # argparse
            code = exc.code
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


def check_report(workspace, report, point, valid):
    assert FIELDS <= set(report)
    m = workspace.mnist[report["network"]]
    x = np.array(report["image"])
    assert x.shape == (784,) and all(isinstance(v, float) for v in report["image"])
    h = forward(m.net, x, m.hidden_layer)
    np.testing.assert_allclose(report["hidden"], h, rtol=0, atol=1e-9 * max(1, np.abs(h).max()))
    assert report["point"] == list(point)
    assert np.linalg.norm(h - point) <= 1e-6 * max(1, np.abs(point).max())
    assert report["residual"] == pytest.approx(np.linalg.norm(h - point), abs=1e-12)
    proba = forward(m.net, x)
    np.testing.assert_allclose(report["probabilities"], proba, atol=1e-12)
    assert report["predicted"] == m.net.classes[np.argmax(proba)]
    assert report["valid"] is valid
    assert report["in_range"] == bool(x.min() >= 0 and x.max() <= 1)
    assert report["key"] == m.key


@pytest.mark.parametrize("network, point, valid", [
    ("identity", (1200.0, -300.0), False),
    ("identity", (-1000.0, 900.0), False),
    ("tanh", (0.5, -0.7), False),
    ("tanh", (-0.2, 0.3), True),
    ("relu", (10.0, 10.0), False),
    ("relu", (0.0, 5.0), True),
])
def test_json_output_re_propagates(cli, workspace, network, point, valid):
    args = ["--network", network, "--point", *map(str, point), "--json"] + (["--valid"] if valid else [])
    code, out, err = cli(*args)
    assert code == 0, err
    assert len(out.splitlines()) == 1
    report = json.loads(out)
    check_report(workspace, report, point, valid)
    if valid:
        assert report["in_range"]


def test_valid_identity_point_inside_the_polygon(cli, workspace):
    m = workspace.mnist["identity"]
    point = tuple(float(v) for v in m.train_hidden[m.split.y_train == 1].mean(axis=0).round(3))
    code, out, err = cli("--network", "identity", "--point", *map(str, point), "--valid", "--json")
    assert code == 0, err
    report = json.loads(out)
    check_report(workspace, report, point, True)
    assert report["in_range"]


def test_table_output(cli):
    code, out, err = cli("--network", "identity", "--point", "-1e3", "900")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["network", "identity"]
    assert lines[1].split() == ["point", "(-1000,", "900)"]
    assert any(line.startswith("residual") for line in lines)
    art = lines[-28:]
    assert len(art) == 28 and all(len(row) == 56 for row in art)


@pytest.mark.parametrize("value, why", [
    ("nan", "not a finite number"), ("inf", "not a finite number"), ("-inf", "not a finite number"),
    ("1e309", "not a finite number"), ("-1e309", "not a finite number"), ("abc", "not a number"),
    ("", "not a number"), ("0x10", "not a number"), ("2e7", "too large"), ("-10000000.5", "too large"),
])
def test_bad_numbers_exit_2_with_a_message(cli, value, why):
    code, out, err = cli("--network", "identity", "--point", "0", value, "--json")
    assert code == 2 and out == ""
    assert why in err and "Traceback" not in err
    code, _, err = cli("--network", "identity", "--point", value, "0")
    assert code == 2 and why in err


def test_negative_and_limit_values_are_numbers(cli, workspace):
    for args in (["-1e3", "-2.5e2"], ["-10000000", "10000000"], ["-.5", "-0"]):
        code, out, err = cli("--network", "identity", "--point", *args, "--json")
        assert code == 0, err
        assert json.loads(out)["point"] == [float(a) for a in args]


@pytest.mark.parametrize("network, point, valid, why", [
    ("tanh", ("1.5", "0"), False, "codomain"),
    ("tanh", ("1", "0.2"), False, "codomain"),
    ("tanh", ("-0.99999", "-0.99999"), False, "nearest it gets"),
    ("identity", ("1e6", "1e6"), True, "no image with pixels in [0, 1]"),
    ("relu", ("-1", "3"), False, "negative"),
    ("relu", ("3000", "3000"), True, "no image with pixels in [0, 1]"),
])
def test_unreachable_points_exit_2_with_a_message(cli, network, point, valid, why):
    args = ["--network", network, "--point", *point, "--json"] + (["--valid"] if valid else [])
    code, out, err = cli(*args)
    assert code == 2 and out == ""
    assert err.startswith("error:") and why in err and "Traceback" not in err


def test_bad_arguments_exit_2(cli):
    for args in (["--network", "sigmoid", "--point", "0", "0"], ["--network", "identity"],
                 ["--network", "identity", "--point", "1"], ["--network", "identity", "--point", "1", "--valid"]):
        code, out, err = cli(*args)
        assert code == 2 and "usage" in err and out == ""


def test_subprocess_json(workspace, session_cache):
    env = {k: v for k, v in os.environ.items() if k not in ("FOOLING_MNIST", "PYTHONPATH")}
    env.update(PYTHONPATH=str(ROOT), FOOLING_CACHE_DIR=str(session_cache))
    cmd = [sys.executable, "-m", "fooling", "invert", "--network", "identity", "--point", "-500",
           "500", "--json", "--quiet"]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stderr
    check_report(workspace, json.loads(out.stdout), (-500.0, 500.0), False)
    bad = subprocess.run(cmd[:7] + ["nan", "0", "--json"], capture_output=True, text=True, env=env,
                         cwd=ROOT, timeout=300)
    assert bad.returncode == 2 and bad.stdout == "" and "Traceback" not in bad.stderr
    assert "not a finite number" in bad.stderr
