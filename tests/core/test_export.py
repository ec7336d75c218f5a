"""Tests for fooling.export: PNGs that decode to the stated grey levels, JSON records that
re-propagate exactly, and records that do not."""
from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image

from fooling.digits import DigitError
from fooling.export import FORMAT, export_record, grey_levels, image_png, verify_record
from fooling.network import forward
from fooling.walk import move_to, trace_ray, walk


def decode(png: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(png))
    im.load()
    return im


@pytest.fixture(scope="module")
def wild_image():
    """Pixels inside and outside [0, 1], and exact ties of 255 * x."""
    rng = np.random.default_rng(3)
    x = rng.uniform(-0.5, 1.5, size=784)
    x[:10] = np.array([0.5, 1.5, 2.5, 3.5, 254.5, 0, 255, 1, 127.5, 100.5]) / 255
    return x


# ---------------------------------------------------------------- PNG
def test_png_decodes_to_rounded_clipped_grey_levels(wild_image):
    im = decode(image_png(wild_image))
    assert im.format == "PNG" and im.mode == "L" and im.size == (28, 28)
    expected = np.rint(255 * np.clip(wild_image, 0, 1)).reshape(28, 28)
    np.testing.assert_array_equal(np.asarray(im), expected)
    outside = int(np.sum((wild_image < 0) | (wild_image > 1)))
    assert outside > 100
    assert im.info["valid"] == "false" and im.info["clipped"] == str(outside)
    assert "clipped" in im.info["Description"]
    levels, clipped = grey_levels(wild_image)
    np.testing.assert_array_equal(levels, expected)
    assert clipped == outside and levels.dtype == np.uint8


def test_valid_image_png_is_its_8_bit_levels_and_says_valid(workspace):
    x = workspace.mnist["identity"].split.X_test[0].astype(float)
    im = decode(image_png(x))
    np.testing.assert_array_equal(np.asarray(im).ravel(), np.rint(255 * x))
    assert im.info["valid"] == "true" and im.info["clipped"] == "0"


def test_enlarged_png_repeats_each_pixel(wild_image):
    small = np.asarray(decode(image_png(wild_image)))
    for scale in (2, 10):
        im = decode(image_png(wild_image, scale=scale))
        assert im.mode == "L" and im.size == (28 * scale, 28 * scale)
        np.testing.assert_array_equal(np.asarray(im), np.kron(small, np.ones((scale, scale), np.uint8)))


def test_png_bytes_are_deterministic(wild_image):
    assert image_png(wild_image, scale=10) == image_png(wild_image.copy(), scale=10)
    assert image_png(wild_image) != image_png(np.clip(wild_image, 0, 0.9))


@pytest.mark.parametrize("scale", [0, -1, 41, 2.5, True, "10", None])
def test_bad_scales(wild_image, scale):
    with pytest.raises(DigitError, match="scale"):
        image_png(wild_image, scale=scale)


@pytest.mark.parametrize("image", [np.full(784, np.nan), np.zeros(100), "x", [[1, 2], [3]]])
def test_bad_images_for_png(image):
    with pytest.raises(DigitError):
        image_png(image)


# ---------------------------------------------------------------- records
def round_trip(record):
    return json.loads(json.dumps(record, allow_nan=False))


def only_json_types(value):
    if isinstance(value, dict):
        return all(isinstance(k, str) and only_json_types(v) for k, v in value.items())
    if isinstance(value, list):
        return all(only_json_types(v) for v in value)
    return type(value) in (str, int, float, bool)


def moves(workspace):
    m, t = workspace.mnist["identity"], workspace.mnist["tanh"]
    x = m.split.X_test[4].astype(float)
    xt = t.split.X_test[4].astype(float)
    ray = trace_ray(m, x)
    yield m, walk(m, x, 3.0, ray=ray), 1e-6
    yield m, walk(m, x, 10.0, ray=ray), 1e-6
    yield m, walk(m, x, 1.0, valid=True, ray=ray), 1e-6
    centre = t.train_hidden[t.split.y_train == 2].mean(axis=0)
    yield t, move_to(t, xt, centre), 1e-9
    yield t, move_to(t, xt, 0.5 * centre, valid=True), 1e-9


def test_exported_records_re_propagate(workspace):
    for model, mv, tol in moves(workspace):
        rec = export_record(model, mv.image, mv.target)
        assert only_json_types(rec)
        assert set(rec) >= {"network", "key", "hidden", "image", "predicted", "probabilities",
                            "residual", "valid"} and rec["format"] == FORMAT
        back = round_trip(rec)
        assert np.array_equal(np.array(back["image"]), mv.image)  # bit for bit
        assert back["key"] == model.key and back["network"] == model.name
        # independent of fooling.export: propagate the JSON's image here
        h = forward(model.net, np.array(back["image"]), model.hidden_layer)
        assert np.linalg.norm(h - np.array(back["hidden"])) <= tol
        assert back["predicted"] == model.net.classes[np.argmax(forward(model.net, np.array(back["image"])))]
        assert back["predicted"] == mv.predicted and back["valid"] == mv.valid
        check = verify_record(back, model)
        assert check.ok and check.lands and not check.problems, check.problems
        assert check.tol == tol and check.residual <= tol


def test_record_of_an_unreachable_point_is_honest(workspace):
    m = workspace.mnist["identity"]
    x = m.split.X_test[4].astype(float)
    mv = walk(m, x, 10.0, valid=True)
    back = round_trip(export_record(m, mv.image, mv.target))
    assert back["valid"] and back["residual"] == pytest.approx(mv.residual) and back["residual"] > 1
    check = verify_record(back, m)
    assert check.ok and not check.lands


def test_default_target_is_where_the_image_lands(workspace):
    m = workspace.mnist["tanh"]
    x = m.split.X_test[9].astype(float)
    rec = export_record(m, x)
    np.testing.assert_array_equal(rec["hidden"], forward(m.net, x, m.hidden_layer))
    assert rec["residual"] == 0.0 and rec["valid"] is True


def test_tampered_records_fail_the_check(workspace):
    m, t = workspace.mnist["identity"], workspace.mnist["tanh"]
    mv = walk(m, m.split.X_test[4].astype(float), 2.0)
    good = round_trip(export_record(m, mv.image, mv.target))
    assert verify_record(good, m).ok

    moved = dict(good, image=list(np.array(good["image"]) + 1e-3 * np.eye(784)[400]))
    check = verify_record(moved, m)
    assert not check.lands and not check.ok and any("residual" in p for p in check.problems)
    wrong_class = dict(good, predicted=(good["predicted"] + 1) % 4)
    assert any("class" in p for p in verify_record(wrong_class, m).problems)
    wrong_key = dict(good, key="0" * 16)
    assert not verify_record(wrong_key, m).ok
    assert not verify_record(good, t).ok  # another network
    wrong_valid = dict(good, valid=not good["valid"])
    assert any("valid" in p for p in verify_record(wrong_valid, m).problems)
    wrong_proba = dict(good, probabilities=good["probabilities"][::-1])
    assert any("probabilities" in p for p in verify_record(wrong_proba, m).problems)


@pytest.mark.parametrize("change", [
    lambda r: "not a record",
    lambda r: {k: v for k, v in r.items() if k != "image"},
    lambda r: {k: v for k, v in r.items() if k != "key"},
    lambda r: dict(r, image=r["image"][:-1]),
    lambda r: dict(r, image=["x"] * 784),
    lambda r: dict(r, hidden=[float("nan"), 0.0]),
    lambda r: dict(r, hidden=[1.0]),
    lambda r: dict(r, residual="small"),
    lambda r: dict(r, probabilities=None),
])
def test_malformed_records_raise_digit_error(workspace, change):
    m = workspace.mnist["identity"]
    rec = round_trip(export_record(m, m.split.X_test[0].astype(float)))
    with pytest.raises(DigitError):
        verify_record(change(rec), m)


@pytest.mark.parametrize("image, target", [(np.zeros(10), None), (np.full(784, np.inf), None),
                                           (np.zeros(784), [np.nan, 1.0]), (np.zeros(784), [1, 2, 3])])
def test_bad_export_inputs(workspace, image, target):
    with pytest.raises(DigitError):
        export_record(workspace.mnist["identity"], image, target)
