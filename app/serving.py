"""A light page: compressed responses, year-long caching of fingerprinted bundles, real 404s.

* Dynamic responses (the layout, callback answers) are compressed on the fly by
  flask-compress (``dash[compress]``) at a fast level: :data:`COMPRESS_CONFIG`.
* Static bundles (Dash's component suites, plotly.js, the local Bootstrap CSS, the
  assets) are compressed once at the best levels (brotli 11, gzip 9) by
  :class:`StaticCompressor`, kept in memory and on disk beside the models (keyed by the
  bytes' hash, so a new version of a bundle is a new file), and served with
  ``Content-Encoding`` to every browser that accepts it. plotly.min.js goes from 4.8 MB
  to 1.1 MB. :func:`warm` compresses them all before gunicorn forks (the first start
  on an empty cache takes half a minute longer; later starts read the copies).
* Fingerprinted URLs (their name carries the package version) are cached by browsers for
  a year (``immutable``); everything else revalidates.
* A GET of a path no page serves answers the app shell (navbar and a "page not found"
  page) with status 404.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import re
import threading
from pathlib import Path

from flask import request

from .pages import PAGES

__all__ = ["COMPRESS_CONFIG", "StaticCompressor", "install", "warm"]

log = logging.getLogger(__name__)

COMPRESS_CONFIG = {
    "COMPRESS_ALGORITHM": ["br", "gzip"],
    "COMPRESS_BR_LEVEL": 4,
    "COMPRESS_LEVEL": 6,
    "COMPRESS_MIN_SIZE": 500,
    "COMPRESS_MIMETYPES": ["text/html", "text/css", "application/json", "application/javascript",
                           "text/javascript", "image/svg+xml"],
}
"""flask-compress settings for dynamic responses (set before it is initialised)."""

STATIC_PREFIXES = ("/_dash-component-suites/", "/_fooling/", "/assets/")
_FINGERPRINT = re.compile(r"\.v[\w-]+m\d+\.")  # Dash's name.v<version>m<mtime>.ext
_LEVELS = {"br": 11, "gzip": 9}
_ONE_YEAR = 31536000


def _accepts(header: str) -> list[str]:
    """Encodings the client accepts with q > 0, in our order of preference."""
    accepted = {}
    for part in header.split(","):
        name, _, params = part.strip().partition(";")
        q = 1.0
        for p in params.split(";"):
            k, _, v = p.strip().partition("=")
            if k == "q":
                try:
                    q = float(v)
                except ValueError:
                    q = 0.0
        accepted[name.strip().lower()] = q
    return [e for e in ("br", "gzip") if accepted.get(e, accepted.get("*", 0.0)) > 0]


class StaticCompressor:
    """Best-level compressed copies of static files, in memory and on disk.

    The first request for a file not compressed yet gets a quick copy (brotli 5, gzip 6:
    milliseconds) while the best one (brotli 11, gzip 9: up to half a minute for
    plotly.js) is made in a background thread, then kept in memory and on disk for every
    later request and start. :meth:`finish` waits for those threads.

    Parameters
    ----------
    cache_dir : path-like or None
        Folder for the compressed copies (``<sha256>.<encoding>``); None keeps them in
        memory only. An unreadable or unwritable folder only costs recompression.
    """

    _QUICK = {"br": 5, "gzip": 6}

    def __init__(self, cache_dir=None):
        self.dir = Path(cache_dir) / "static" if cache_dir is not None else None
        self._best: dict[tuple[str, str], bytes] = {}
        self._quick: dict[tuple[str, str], bytes] = {}
        self._jobs: dict[tuple[str, str], threading.Thread] = {}
        self._lock = threading.Lock()

    def compressed(self, raw: bytes, encoding: str) -> bytes:
        """``raw`` compressed with ``encoding`` ('br' or 'gzip'): the best copy once there is one."""
        key = (hashlib.sha256(raw).hexdigest(), encoding)
        hit = self._best.get(key)
        if hit is not None:
            return hit
        with self._lock:
            hit = self._best.get(key)
            if hit is None:
                hit = self._load(*key)
                if hit is not None:
                    self._best[key] = hit
                    return hit
                if key not in self._jobs:
                    job = threading.Thread(target=self._make_best, args=(raw, key), daemon=True,
                                           name=f"compress-{encoding}")
                    self._jobs[key] = job
                    job.start()
                hit = self._quick.get(key)
                if hit is None:
                    hit = self._quick[key] = _compress(raw, encoding, self._QUICK[encoding])
        return hit

    def _make_best(self, raw: bytes, key: tuple[str, str]) -> None:
        data = _compress(raw, key[1], _LEVELS[key[1]])
        self._save(*key, data)
        with self._lock:
            self._best[key] = data
            self._quick.pop(key, None)

    def finish(self, timeout: float | None = None) -> bool:
        """Wait for the background compressions; True when none is left running."""
        for job in list(self._jobs.values()):
            job.join(timeout)
        return not any(j.is_alive() for j in self._jobs.values())

    def _load(self, digest: str, encoding: str) -> bytes | None:
        if self.dir is None:
            return None
        path = self.dir / f"{digest}.{encoding}"
        try:
            data = path.read_bytes()
        except OSError:
            return None
        try:  # a truncated or foreign file must never reach a browser
            if hashlib.sha256(_decompress(data, encoding)).hexdigest() == digest:
                return data
        except Exception:  # noqa: BLE001 -- any unreadable copy is rebuilt
            pass
        log.warning("rebuilding corrupt compressed copy %s", path)
        return None

    def _save(self, digest: str, encoding: str, data: bytes) -> None:
        if self.dir is None:
            return
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            tmp = self.dir / f".{digest}.{encoding}.{threading.get_ident()}.tmp"
            tmp.write_bytes(data)
            tmp.replace(self.dir / f"{digest}.{encoding}")
        except OSError as exc:
            log.warning("cannot cache compressed copy in %s (%s)", self.dir, exc)


def _compress(raw: bytes, encoding: str, level: int) -> bytes:
    if encoding == "br":
        import brotli

        return brotli.compress(raw, quality=level)
    return gzip.compress(raw, compresslevel=level, mtime=0)


def _decompress(data: bytes, encoding: str) -> bytes:
    if encoding == "br":
        import brotli

        return brotli.decompress(data)
    return gzip.decompress(data)


def _page_paths() -> set[str]:
    return {p.path for p in PAGES}


def install(dash_app, compressor: StaticCompressor) -> None:
    """Compress static responses, set cache headers, and answer unknown pages with 404."""
    server = dash_app.server
    prefix = dash_app.config.routes_pathname_prefix.rstrip("/")
    pages = {prefix + p if p != "/" else (prefix or "/") for p in _page_paths()}
    static = tuple(prefix + s for s in STATIC_PREFIXES)
    dash_routes = prefix + "/_"

    @server.after_request
    def _serve_light(response):
        path = request.path
        if request.method not in ("GET", "HEAD") or response.status_code != 200:
            return response
        if path.startswith(static):
            if response.mimetype == "text/html":  # Dash's catch-all page for a file that is not there
                response.status_code = 404
                return response
            if _FINGERPRINT.search(path) or path.startswith(prefix + "/_fooling/") or request.args.get("m"):
                response.headers["Cache-Control"] = f"public, max-age={_ONE_YEAR}, immutable"
            if "Content-Encoding" in response.headers or response.direct_passthrough:
                return response
            raw = response.get_data()
            if len(raw) < 1024:
                return response
            for encoding in _accepts(request.headers.get("Accept-Encoding", "")):
                response.set_data(compressor.compressed(raw, encoding))
                response.headers["Content-Encoding"] = encoding
                break
            response.headers["Vary"] = "Accept-Encoding"
            return response
        if (response.mimetype == "text/html" and path not in pages and not path.startswith(dash_routes)
                and path != prefix + "/health"):
            response.status_code = 404
        return response


def warm(dash_app, compressor: StaticCompressor, *, wait: bool = True) -> int:
    """Compress every bundle the pages load now (before the workers fork); returns how many.

    Requests the index page and every script and stylesheet it names, then the
    component suites Dash loads on demand (async chunks, plotly.js), through the test
    client, with both encodings; with ``wait`` also waits for the best-level copies.
    """
    client = dash_app.server.test_client()
    base = dash_app.config.requests_pathname_prefix
    index = client.get(base).get_data(as_text=True)
    urls = set(re.findall(r'(?:src|href)="([^"]+)"', index))
    # the bundles Dash loads on demand: the same bytes under any URL fill the same cache entry
    for namespace, paths in list(dash_app.registered_paths.items()):
        urls.update(f"{base}_dash-component-suites/{namespace}/{rel}" for rel in paths
                    if rel.endswith((".js", ".css")))
    count = 0
    for url in sorted(urls):
        if not url.startswith("/") or url.startswith("//"):
            continue
        for encoding in ("br", "gzip"):
            r = client.get(url, headers={"Accept-Encoding": encoding})
            count += r.status_code == 200 and r.headers.get("Content-Encoding") == encoding
    if wait:
        compressor.finish()
    return count
