"""Trained artifacts on disk: ``.npz`` files, never pickles.

An artifact is a dict of plain numeric/string arrays plus a small JSON metadata
record, written atomically (temporary file, then ``os.replace``) and read with
``np.load(..., allow_pickle=False)``. Its file name carries a key: a hash of the
model specification, the data fingerprint and the package version, so a change to
any of them is a new file, and a stale file is simply never read.

The cache directory is ``$FOOLING_CACHE_DIR``, else ``$XDG_CACHE_HOME/fooling``,
else ``~/.cache/fooling``.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import warnings
from pathlib import Path
from typing import Callable, Mapping

import numpy as np

__all__ = ["CacheError", "artifact_key", "cache_dir", "jsonable", "load", "load_or_build", "plain", "save", "unpack"]

_META = "__meta__"


class CacheError(Exception):
    """An artifact file is missing, unreadable, or not what its name promises."""


def cache_dir() -> Path:
    """Where artifacts live (not created here)."""
    env = os.environ.get("FOOLING_CACHE_DIR", "").strip()
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "fooling"


def artifact_key(*parts: object) -> str:
    """A short stable hash of JSON-serialisable parts (spec dicts, fingerprints, versions)."""
    blob = json.dumps(parts, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def jsonable(value):
    """``value`` as it comes back from JSON metadata (tuples become lists, numpy scalars numbers)."""
    return json.loads(json.dumps(value, default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o)))


def plain(arrays: Mapping[str, np.ndarray], meta: Mapping | None = None) -> dict[str, np.ndarray]:
    """``arrays`` as ``np.savez`` keyword arguments, with ``meta`` as JSON under the metadata
    key; object arrays (which only pickle could read back) raise :class:`TypeError`."""
    clean = {}
    for name, value in arrays.items():
        a = np.asarray(value)
        if a.dtype == object:
            raise TypeError(f"array {name!r} has dtype object; artifacts hold plain arrays only")
        clean[name] = a
    clean[_META] = np.array(json.dumps(dict(meta or {}), sort_keys=True, default=str))
    return clean


def save(path: str | os.PathLike, arrays: Mapping[str, np.ndarray], meta: Mapping | None = None) -> Path:
    """Write ``arrays`` and ``meta`` to ``path`` atomically.

    Parameters
    ----------
    path : path-like
        Target ``.npz`` file; parent folders are created.
    arrays : mapping of str to ndarray
        Numeric or string arrays only (object arrays are refused).
    meta : mapping, optional
        JSON-serialisable metadata.

    Raises
    ------
    OSError
        The file could not be written (nothing is left behind).
    """
    path = Path(path)
    clean = plain(arrays, meta)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **clean)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def unpack(source) -> tuple[dict[str, np.ndarray], dict]:
    """The arrays and metadata of what :func:`plain` packed, from a path or a binary file
    object, read with ``allow_pickle=False``; raises whatever reading it raised."""
    with np.load(source, allow_pickle=False) as z:
        arrays = {name: z[name] for name in z.files}
    meta = json.loads(str(arrays.pop(_META)))
    if not isinstance(meta, dict):
        raise ValueError("metadata is not a JSON object")
    return arrays, meta


def load(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict]:
    """Read an artifact written by :func:`save`.

    Returns
    -------
    arrays : dict of str to ndarray
    meta : dict

    Raises
    ------
    CacheError
        Missing, truncated, not an npz, holds pickled objects, or bad metadata.
    """
    path = Path(path)
    try:
        arrays, meta = unpack(path)
    except FileNotFoundError as exc:
        raise CacheError(f"artifact {path} does not exist") from exc
    except Exception as exc:  # noqa: BLE001 -- any failure to read means the file is unusable
        raise CacheError(f"artifact {path} is unreadable ({type(exc).__name__}: {exc})") from exc
    return arrays, meta


def load_or_build(path: str | os.PathLike, build: Callable[[], tuple[Mapping, Mapping]],
                  check: Callable[[dict, dict], None] | None = None) -> tuple[dict, dict, bool]:
    """Load the artifact at ``path``, or build and save it.

    A corrupt file (or one that ``check`` rejects by raising) is rebuilt with a
    warning. A cache that cannot be written is a warning too: the built arrays are
    returned all the same.

    Parameters
    ----------
    path : path-like
    build : callable returning (arrays, meta)
    check : callable(arrays, meta), optional
        Raises on arrays that are readable but wrong (missing keys, shapes).

    Returns
    -------
    arrays : dict
    meta : dict
    built : bool
        True when ``build`` ran.
    """
    path = Path(path)
    if path.exists():
        try:
            arrays, meta = load(path)
            if check is not None:
                check(arrays, meta)
            return arrays, meta, False
        except Exception as exc:  # noqa: BLE001
            warnings.warn(f"rebuilding cached artifact {path}: {exc}", stacklevel=2)
    arrays, meta = build()
    try:
        save(path, arrays, meta)
    except OSError as exc:
        warnings.warn(f"cannot write cache {path} ({exc}); continuing without it", stacklevel=2)
    return {k: np.asarray(v) for k, v in arrays.items()}, dict(meta), True
