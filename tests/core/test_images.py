"""Checking and scaling images handed in by a user."""
from __future__ import annotations

import numpy as np
import pytest

from fooling.datasets import DataError
from fooling.images import MAX_IMAGES, as_images, read_images


def test_shapes_and_scaling():
    rng = np.random.default_rng(0)
    grey = rng.integers(0, 256, (3, 28, 28)).astype(np.uint8)
    X = as_images(grey)
    assert X.shape == (3, 784) and X.dtype == np.float64
    np.testing.assert_array_equal(X, grey.reshape(3, 784) / 255.0)
    np.testing.assert_array_equal(as_images(grey.reshape(3, 784).astype(np.int64)), X)
    floats = rng.normal(size=(2, 784)) * 5  # floats as they are, also outside [0, 1]
    np.testing.assert_array_equal(as_images(floats), floats)
    np.testing.assert_array_equal(as_images(floats.astype(np.float32)), floats.astype(np.float32))


@pytest.mark.parametrize("array, message", [
    (np.zeros((2, 100)), r"shape \(n, 784\) or \(n, 28, 28\), got \(2, 100\)"),
    (np.zeros(784), r"got \(784,\)"),
    (np.zeros((1, 28, 27)), r"got \(1, 28, 27\)"),
    (np.zeros((0, 784)), "no image"),
    (np.full((1, 784), 256, dtype=np.int32), "grey levels 0-255, but ranges from 256 to 256"),
    (np.full((1, 784), -1, dtype=np.int8), "ranges from -1"),
    (np.array([[np.nan] * 784]), "NaN or infinite"),
    (np.array([[0.5] * 783 + [np.inf]]), r"1 value\(s\) that are NaN or infinite \(the first in image 0, pixel 783\)"),
    (np.zeros((1, 784), dtype=bool), "must hold numbers"),
    (np.zeros((1, 784), dtype=complex), "must hold numbers"),
    (np.array([["a"] * 784]), "must hold numbers"),
])
def test_bad_arrays(array, message):
    with pytest.raises(DataError, match=message):
        as_images(array)


def test_too_many_images():
    with pytest.raises(DataError, match="at most"):
        as_images(np.zeros((MAX_IMAGES + 1, 784), dtype=np.uint8))


def test_read_images_and_bad_files(tmp_path):
    good = tmp_path / "good.npz"
    np.savez(good, images=np.full((2, 28, 28), 51, dtype=np.uint8), other=np.arange(3))
    np.testing.assert_allclose(read_images(good), 0.2)
    cases = {
        "missing.npz": (None, "no such file"),
        "text.npz": (b"hello, not an archive", "not a readable .npz archive"),
        "garbage.npz": (b"PK\x03\x04 broken zip", "not a readable .npz archive"),
    }
    for name, (content, message) in cases.items():
        path = tmp_path / name
        if content is not None:
            path.write_bytes(content)
        with pytest.raises(DataError, match=message):
            read_images(path)
    np.save(tmp_path / "single.npy", np.zeros((1, 784)))
    with pytest.raises(DataError, match="single .npy array"):
        read_images(tmp_path / "single.npy")
    np.savez(tmp_path / "nokey.npz", pixels=np.zeros((1, 784)))
    with pytest.raises(DataError, match=r"no 'images' array \(it holds 'pixels'\)"):
        read_images(tmp_path / "nokey.npz")
    np.savez(tmp_path / "objects.npz", images=np.array([{"x": 1}, None], dtype=object))
    with pytest.raises(DataError, match="unpickling"):
        read_images(tmp_path / "objects.npz")
    with pytest.raises(DataError, match="not a file"):
        read_images(tmp_path)
