"""Tests for fooling.store: atomic npz artifacts, refusal of pickles, rebuild on corruption."""
from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest

from fooling import store
from fooling.store import CacheError, artifact_key, cache_dir, load, load_or_build, save

UNPICKLED: list = []


def _mark():
    UNPICKLED.append("unpickled!")
    return "boom"


class Trap:
    """Unpickling this calls _mark(): proof that a loader executed pickled code."""

    def __reduce__(self):
        return (_mark, ())


def sample_arrays():
    rng = np.random.default_rng(0)
    return {"W0": rng.normal(size=(5, 3)), "b0": rng.normal(size=3).astype(np.float32),
            "classes": np.array([0, 1, 2]), "activations": np.array(["tanh", "softmax"]),
            "flag": np.array(True), "empty": np.zeros((0, 4))}


def test_save_load_round_trip(tmp_path):
    arrays = sample_arrays()
    meta = {"spec": {"sizes": [5, 3], "name": "x"}, "version": "0.1.0", "n": 3}
    path = save(tmp_path / "sub" / "dir" / "a.npz", arrays, meta)
    assert path == tmp_path / "sub" / "dir" / "a.npz" and path.is_file()
    back, back_meta = load(path)
    assert back_meta == meta
    assert set(back) == set(arrays)
    for name, a in arrays.items():
        assert back[name].dtype == a.dtype
        np.testing.assert_array_equal(back[name], a)


def test_save_without_meta(tmp_path):
    save(tmp_path / "a.npz", {"x": [1, 2, 3]})
    arrays, meta = load(tmp_path / "a.npz")
    assert meta == {}
    np.testing.assert_array_equal(arrays["x"], [1, 2, 3])


def test_save_leaves_no_temp_files(tmp_path):
    for i in range(3):
        save(tmp_path / "a.npz", {"x": np.arange(i + 1)}, {"i": i})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.npz"]
    assert load(tmp_path / "a.npz")[1] == {"i": 2}


def test_failed_save_keeps_old_file_and_no_temp(tmp_path, monkeypatch):
    path = save(tmp_path / "a.npz", {"x": np.arange(3)}, {"v": 1})
    before = path.read_bytes()

    def broken_savez(f, **arrays):
        f.write(b"PK\x03\x04 half an archive")
        raise OSError("disk full")

    monkeypatch.setattr(store.np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        save(path, {"x": np.arange(10)}, {"v": 2})
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["a.npz"]


def test_save_refuses_object_arrays(tmp_path):
    with pytest.raises(TypeError, match="object"):
        save(tmp_path / "a.npz", {"ok": np.zeros(2), "bad": np.array([{"a": 1}, None], dtype=object)})
    assert not (tmp_path / "a.npz").exists()
    assert list(tmp_path.iterdir()) == []


def test_load_missing_file(tmp_path):
    with pytest.raises(CacheError, match="does not exist"):
        load(tmp_path / "nope.npz")


def test_load_truncated_file(tmp_path):
    path = save(tmp_path / "a.npz", sample_arrays(), {"v": 1})
    data = path.read_bytes()
    for cut in (0, 10, len(data) // 2, len(data) - 1):
        path.write_bytes(data[:cut])
        with pytest.raises(CacheError, match="unreadable"):
            load(path)


def test_load_random_bytes(tmp_path):
    path = tmp_path / "a.npz"
    path.write_bytes(np.random.default_rng(0).bytes(4096))
    with pytest.raises(CacheError):
        load(path)


def npy_bytes(array, allow_pickle=False):
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=allow_pickle)
    return buf.getvalue()


def test_load_refuses_pickled_object_array(tmp_path):
    path = tmp_path / "evil.npz"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("W0.npy", npy_bytes(np.zeros(3)))
        z.writestr("payload.npy", npy_bytes(np.array([Trap()], dtype=object), allow_pickle=True))
        z.writestr("__meta__.npy", npy_bytes(np.array("{}")))
    UNPICKLED.clear()
    with pytest.raises(CacheError):
        load(path)
    assert UNPICKLED == []
    # the file really does hold a working pickle: loading it unsafely runs the trap
    with np.load(path, allow_pickle=True) as z:
        z["payload"]
    assert UNPICKLED == ["unpickled!"]


@pytest.mark.parametrize("meta", [b"", "not json", "[1, 2]", "3"])
def test_load_rejects_bad_metadata(tmp_path, meta):
    path = tmp_path / "a.npz"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("x.npy", npy_bytes(np.zeros(2)))
        if meta != b"":
            z.writestr("__meta__.npy", npy_bytes(np.array(meta)))
    with pytest.raises(CacheError):
        load(path)


def counting_build(arrays=None, meta=None):
    calls = []

    def build():
        calls.append(1)
        return (arrays if arrays is not None else {"x": np.arange(4.0)}), (meta or {"v": 1})

    return build, calls


def test_load_or_build_builds_then_loads(tmp_path):
    path = tmp_path / "c" / "a.npz"
    build, calls = counting_build()
    arrays, meta, built = load_or_build(path, build)
    assert built and calls == [1] and meta == {"v": 1}
    np.testing.assert_array_equal(arrays["x"], np.arange(4.0))
    arrays, meta, built = load_or_build(path, build)
    assert not built and calls == [1] and meta == {"v": 1}
    np.testing.assert_array_equal(arrays["x"], np.arange(4.0))


@pytest.mark.parametrize("corruption", ["truncate", "random", "empty"])
def test_load_or_build_rebuilds_corrupt_file(tmp_path, corruption):
    path = tmp_path / "a.npz"
    build, calls = counting_build()
    load_or_build(path, build)
    data = path.read_bytes()
    path.write_bytes({"truncate": data[: len(data) // 3], "random": os.urandom(300), "empty": b""}[corruption])
    with pytest.warns(UserWarning, match="rebuilding"):
        arrays, _, built = load_or_build(path, build)
    assert built and len(calls) == 2
    np.testing.assert_array_equal(arrays["x"], np.arange(4.0))
    assert load(path)[0]["x"].tolist() == [0, 1, 2, 3]  # the rebuilt file is good again


def test_load_or_build_rebuilds_when_check_rejects(tmp_path):
    path = tmp_path / "a.npz"
    save(path, {"old": np.zeros(2)}, {"v": 0})
    checked = []

    def check(arrays, meta):
        checked.append(meta)
        if "x" not in arrays:
            raise KeyError("x missing")

    build, calls = counting_build()
    with pytest.warns(UserWarning, match="x missing"):
        arrays, meta, built = load_or_build(path, build, check)
    assert built and calls == [1] and checked == [{"v": 0}] and meta == {"v": 1}
    arrays, _, built = load_or_build(path, build, check)  # now accepted
    assert not built and calls == [1]


def test_load_or_build_unwritable_cache_still_returns(tmp_path):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the cache folder should be")
    build, calls = counting_build()
    with pytest.warns(UserWarning, match="cannot write cache"):
        arrays, meta, built = load_or_build(blocker / "sub" / "a.npz", build)
    assert built and calls == [1] and meta == {"v": 1}
    np.testing.assert_array_equal(arrays["x"], np.arange(4.0))
    assert blocker.read_text().startswith("a file")


def test_load_or_build_converts_to_arrays(tmp_path):
    build, _ = counting_build(arrays={"x": [1, 2], "y": 3.5})
    arrays, _, _ = load_or_build(tmp_path / "a.npz", build)
    assert isinstance(arrays["x"], np.ndarray) and isinstance(arrays["y"], np.ndarray)


def test_artifact_key_stable_and_sensitive():
    spec = {"name": "tanh", "sizes": [50, 20, 2], "lr": 1e-3}
    base = artifact_key(spec, "fingerprint", 42, 0.25, "0.1.0")
    assert len(base) == 16 and all(c in "0123456789abcdef" for c in base)
    assert artifact_key(dict(reversed(list(spec.items()))), "fingerprint", 42, 0.25, "0.1.0") == base
    variants = [
        ({**spec, "lr": 1e-4}, "fingerprint", 42, 0.25, "0.1.0"),
        ({**spec, "sizes": [50, 20, 3]}, "fingerprint", 42, 0.25, "0.1.0"),
        (spec, "fingerprinT", 42, 0.25, "0.1.0"),
        (spec, "fingerprint", 43, 0.25, "0.1.0"),
        (spec, "fingerprint", 42, 0.2, "0.1.0"),
        (spec, "fingerprint", 42, 0.25, "0.1.1"),
        (spec, "fingerprint", 42, 0.25),
        ("fingerprint", spec, 42, 0.25, "0.1.0"),
    ]
    keys = {artifact_key(*v) for v in variants}
    assert len(keys) == len(variants) and base not in keys


def test_artifact_key_stable_across_processes():
    import subprocess
    import sys

    code = "from fooling.store import artifact_key; print(artifact_key({'b': 1, 'a': [1, 2]}, 'f', 3))"
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(root), "PYTHONHASHSEED": "123"})
    assert out.stdout.strip() == artifact_key({"a": [1, 2], "b": 1}, "f", 3)


def test_cache_dir_precedence(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("FOOLING_CACHE_DIR", str(tmp_path / "explicit"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "explicit"
    monkeypatch.setenv("FOOLING_CACHE_DIR", "   ")
    assert cache_dir() == tmp_path / "xdg" / "fooling"
    monkeypatch.delenv("FOOLING_CACHE_DIR")
    assert cache_dir() == tmp_path / "xdg" / "fooling"
    monkeypatch.setenv("XDG_CACHE_HOME", "")
    assert cache_dir() == tmp_path / "home" / ".cache" / "fooling"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache_dir() == tmp_path / "home" / ".cache" / "fooling"
    monkeypatch.setenv("FOOLING_CACHE_DIR", "~/elsewhere")
    assert cache_dir() == tmp_path / "home" / "elsewhere"
    assert not (tmp_path / "home").exists()  # cache_dir() creates nothing
