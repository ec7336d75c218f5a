"""Where /lab's job records and trained networks live: a local folder, or Redis.

* :class:`DiskBackend` (no Redis): JSON files in the cache folder, changed under a file lock,
  shared by every process of one machine (gunicorn's workers and the job processes they start).
* :class:`RedisBackend` (``REDIS_URL``): the same records in Redis, shared by every web
  container and Celery worker that reaches it; trained networks travel through it as npz
  bytes with a time to live, so web containers need no disk in common with the workers.

Both keep JSON, never pickles; :class:`JsonDisk` makes the ``diskcache`` that Dash's default
manager keeps job results and progress in store every value as JSON or raw bytes, and refuse
to read a pickled entry. :class:`Artifacts` puts trained networks in a local folder, backed by the
backend's bytes store when there is one.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Callable

import diskcache
from diskcache.core import MODE_PICKLE, UNKNOWN

__all__ = ["Artifacts", "BackendError", "DiskBackend", "JsonDisk", "RedisBackend"]

KEY = re.compile(r"^[0-9a-f]{16}$")
"""What an artifact key looks like (:func:`fooling.lab.spec_key`)."""


class BackendError(RuntimeError):
    """The job records cannot be reached (Redis down, the cache folder unwritable)."""


class JsonDisk(diskcache.Disk):
    """``diskcache`` serialisation as JSON (bytes stay bytes); pickled entries are never read."""

    def store(self, value, read, key=UNKNOWN):
        if not read and type(value) is not bytes:
            from plotly.utils import PlotlyJSONEncoder

            value = json.dumps(value, cls=PlotlyJSONEncoder)
        return super().store(value, read, key=key)

    def fetch(self, mode, filename, value, read):
        if mode == MODE_PICKLE:
            raise ValueError("a pickled cache entry is never read")
        data = super().fetch(mode, filename, value, read)
        return json.loads(data) if isinstance(data, str) else data


def open_cache(directory: Path) -> diskcache.Cache:
    """A ``diskcache.Cache`` with :class:`JsonDisk` in ``directory``."""
    return diskcache.Cache(str(directory), disk=JsonDisk, timeout=10)


class DiskBackend:
    """Job records as JSON files in a folder (one machine), changed under an exclusive ``flock``.

    A record is written to a temporary file and renamed over the old one, so a reader never
    sees half a record and needs no lock; a writer that dies releases its lock with its
    process. (Not SQLite: under a flood, its locks on a busy 2-core machine timed out.)

    Parameters
    ----------
    directory : path-like
    timeout : float
        Longest wait for the lock, seconds (then :class:`BackendError`).
    """

    shared_bytes = False

    def __init__(self, directory, timeout: float = 10.0):
        self.directory = Path(directory)
        self.timeout = float(timeout)

    def _path(self, name: str) -> Path:
        if not re.match(r"^[A-Za-z0-9_-]{1,64}$", name):
            raise ValueError("not a record name")
        return self.directory / f"{name}.json"

    def _load(self, path: Path) -> dict:
        try:
            value = json.loads(path.read_text())
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise BackendError(f"the job record {path} cannot be read ({exc})") from exc
        return value if isinstance(value, dict) else {}

    def update(self, name: str, fn: Callable[[dict], Any]) -> Any:
        """Apply ``fn`` to the record ``name`` (a dict, changed in place) atomically; its result."""
        import fcntl
        import time

        path = self._path(name)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            with open(path.with_suffix(".lock"), "a+") as lock:
                end = time.monotonic() + self.timeout
                while True:
                    try:
                        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                        break
                    except BlockingIOError:
                        if time.monotonic() > end:
                            raise BackendError(f"the job record {path} stayed locked for {self.timeout:g} s") from None
                        time.sleep(0.002)
                try:
                    value = self._load(path)
                    result = fn(value)
                    fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=f".{name}.", suffix=".tmp")
                    with os.fdopen(fd, "w") as f:
                        json.dump(value, f)
                    os.replace(tmp, path)
                finally:
                    fcntl.flock(lock, fcntl.LOCK_UN)
        except OSError as exc:
            raise BackendError(f"the job records in {self.directory} cannot be used ({exc})") from exc
        return result

    def read(self, name: str) -> dict:
        """The record ``name`` as it stands (no lock: a snapshot)."""
        return self._load(self._path(name))

    def get_bytes(self, key: str) -> bytes | None:
        return None

    def put_bytes(self, key: str, data: bytes, ttl: int) -> None:
        return None


class RedisBackend:
    """Job records and artifact bytes in Redis.

    Parameters
    ----------
    url : str
        ``redis://host:port/db``.
    prefix : str
        Of every key.
    """

    shared_bytes = True

    def __init__(self, url: str, prefix: str = "fooling:"):
        import redis

        self.url = url
        self.prefix = prefix
        self.redis = redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=5,
                                          health_check_interval=30)
        self._errors = (redis.RedisError, OSError)

    def update(self, name: str, fn: Callable[[dict], Any]) -> Any:
        key = self.prefix + name
        out: list = []

        def txn(pipe):
            raw = pipe.get(key)
            value = json.loads(raw) if raw else {}
            out[:] = [fn(value)]
            pipe.multi()
            pipe.set(key, json.dumps(value))

        try:
            self.redis.transaction(txn, key)  # WATCH, retried when another client wrote first
        except self._errors as exc:
            raise BackendError(f"Redis at {self.url} cannot be reached ({type(exc).__name__})") from exc
        return out[0]

    def read(self, name: str) -> dict:
        try:
            raw = self.redis.get(self.prefix + name)
        except self._errors as exc:
            raise BackendError(f"Redis at {self.url} cannot be reached ({type(exc).__name__})") from exc
        return json.loads(raw) if raw else {}

    def get_bytes(self, key: str) -> bytes | None:
        try:
            return self.redis.get(self.prefix + "artifact:" + key)
        except self._errors as exc:
            raise BackendError(f"Redis at {self.url} cannot be reached ({type(exc).__name__})") from exc

    def put_bytes(self, key: str, data: bytes, ttl: int) -> None:
        try:
            self.redis.set(self.prefix + "artifact:" + key, data, ex=int(ttl))
        except self._errors as exc:
            raise BackendError(f"Redis at {self.url} cannot be reached ({type(exc).__name__})") from exc


class Artifacts:
    """Trained lab networks as npz bytes by key: a local folder, backed by a shared store.

    Parameters
    ----------
    folder : path-like
        Local copies (``lab-<key>.npz``); at most ``keep`` are kept (oldest dropped).
    backend : DiskBackend or RedisBackend
        With shared bytes (Redis), every network is also stored there for ``ttl`` seconds.
    """

    def __init__(self, folder, backend, *, ttl: int = 7 * 24 * 3600, keep: int = 200):
        self.folder = Path(folder)
        self.backend = backend
        self.ttl = int(ttl)
        self.keep = int(keep)

    def path(self, key: str) -> Path:
        if not isinstance(key, str) or not KEY.match(key):
            raise ValueError("not an artifact key")
        return self.folder / f"lab-{key}.npz"

    def _write(self, key: str, data: bytes) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".lab-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, self.path(key))
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self._prune()

    def _prune(self) -> None:
        """Keep the ``keep`` newest networks (and as many analyses of them, ``plane-*.npz``)."""
        for pattern in ("lab-*.npz", "plane-*.npz"):
            files = []
            for p in self.folder.glob(pattern):
                try:
                    files.append((p.stat().st_mtime, p))
                except FileNotFoundError:  # pruned by another process meanwhile
                    pass
            for _, old in sorted(files)[:max(0, len(files) - self.keep)]:
                old.unlink(missing_ok=True)

    def has(self, key: str) -> bool:
        """Whether the network is stored (here, or in the shared store: then it is copied here)."""
        return self.get(key) is not None

    def get(self, key: str) -> bytes | None:
        """The stored bytes, or None (a key that is not a key is None too)."""
        try:
            path = self.path(key)
        except ValueError:
            return None
        try:
            return path.read_bytes()
        except FileNotFoundError:
            pass
        data = self.backend.get_bytes(key) if self.backend.shared_bytes else None
        if data is not None:
            try:
                self._write(key, data)
            except OSError:
                pass  # a read-only folder: serve from the shared store every time
        return data

    def put(self, key: str, data: bytes) -> None:
        """Store ``data`` (locally, and in the shared store when there is one)."""
        if self.backend.shared_bytes:
            self.backend.put_bytes(key, data, self.ttl)
        try:
            self._write(key, data)
        except OSError:
            if not self.backend.shared_bytes:
                raise
