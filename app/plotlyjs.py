"""A smaller plotly.js: the official "cartesian" partial bundle instead of the full one.

The pages draw only scatter, bar and heatmap traces, yet Dash serves the full plotly.js
(4.8 MB, 1.1 MB brotli) that every trace type needs. plotly.js publishes partial bundles on
the npm registry; the cartesian one (bar, box, contour, heatmap, histogram, image, pie,
scatter, violin, ...) is 1.5 MB, 0.41 MB brotli. ``dcc.Graph`` loads the full bundle only
when ``window.Plotly`` is not defined yet, so serving the partial bundle first (a plain
script before Dash's) is enough: the full one is then never requested.

The bundle is fetched once, at ``python -m app --prepare`` (the Docker build) or at the
first ``python -m app``, from the registry (a package registry, never a CDN at page time),
checked against its published SHA-512, and kept in the cache folder. The version is the
plotly.js version the installed ``plotly`` package was built for. When it cannot be fetched
(offline, a mirror without it) or the cached copy is corrupt, the pages use Dash's full
bundle as before, with one log line saying why: nothing breaks, the page is heavier.

``FOOLING_PLOTLY_BUNDLE=full`` turns this off; ``NPM_CONFIG_REGISTRY`` names a mirror.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import logging
import os
import tarfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

__all__ = ["BUNDLE", "FILE", "PINNED", "TRACES", "Bundle", "BundleError", "ensure", "fetch", "load",
           "plotlyjs_version", "route"]

log = logging.getLogger(__name__)

BUNDLE = "plotly.js-cartesian-dist-min"
"""The npm package of the partial bundle."""
FILE = "plotly-cartesian.min.js"
"""The bundle's file inside the package."""
TRACES = frozenset({"bar", "box", "contour", "heatmap", "histogram", "histogram2d", "histogram2dcontour",
                    "image", "pie", "scatter", "scatterternary", "violin"})
"""The trace types the bundle draws (its package README); a page may use no other."""
PINNED = {"4.1.1": "sha512-o8GrFeusncwBIxbBynRJpY4pkgVB6caM+JLpwrLYbbsO7dZ8FJ+SVN2Fr+L7kiG/Z6w4P5O0Jus/Qr5EefHVeg=="}
"""Known tarball digests (npm ``dist.integrity``), by version; other versions use the registry's."""
MAX_TARBALL = 8 * 2**20
DEFAULT_REGISTRY = "https://registry.npmjs.org"


class BundleError(RuntimeError):
    """The partial bundle could not be fetched or read (the message says why)."""


@dataclass(frozen=True)
class Bundle:
    """A verified partial bundle: its bytes and the plotly.js version."""

    version: str
    data: bytes

    @property
    def route(self) -> str:
        return route(self.version)


def route(version: str) -> str:
    """The URL path the bundle is served under (versioned: cached for a year)."""
    return f"/_fooling/plotly-cartesian-{version}.min.js"


def plotlyjs_version() -> str:
    """The plotly.js version the installed ``plotly`` package targets."""
    from plotly.offline import get_plotlyjs_version

    return str(get_plotlyjs_version())


def _paths(cache_dir: Path, version: str) -> tuple[Path, Path]:
    folder = Path(cache_dir) / "plotlyjs"
    return folder / f"plotly-cartesian-{version}.min.js", folder / f"plotly-cartesian-{version}.sha256"


def _enabled() -> bool:
    return os.environ.get("FOOLING_PLOTLY_BUNDLE", "").strip().lower() not in ("full", "off", "0", "false")


def load(cache_dir: Path, version: str | None = None) -> Bundle | None:
    """The cached bundle, or None (not fetched, turned off, or corrupt: removed, with a warning)."""
    if not _enabled():
        return None
    version = version or plotlyjs_version()
    js, digest = _paths(cache_dir, version)
    if not js.is_file():
        return None
    try:
        data = js.read_bytes()
        ok = digest.read_text().strip() == hashlib.sha256(data).hexdigest() and _looks_like_plotly(data, version)
    except OSError:
        ok = False
    if not ok:
        log.warning("the cached plotly.js partial bundle %s is corrupt; removed (pages use the full bundle)", js)
        for p in (js, digest):
            p.unlink(missing_ok=True)
        return None
    return Bundle(version, data)


def _looks_like_plotly(data: bytes, version: str) -> bool:
    head = data[:400].decode("utf-8", "replace")
    return "plotly.js" in head and f"v{version}" in head


def _get(url: str, timeout: float, limit: int) -> bytes:
    req = urllib.request.Request(url, headers={"Accept": "application/json, application/octet-stream",
                                               "User-Agent": "fooling"})
    with urllib.request.urlopen(req, timeout=timeout) as r:  # noqa: S310 -- the registry's https URL
        data = r.read(limit + 1)
    if len(data) > limit:
        raise BundleError(f"{url} is larger than {limit} bytes")
    return data


def _check_integrity(data: bytes, integrity: str) -> None:
    algo, _, expected = integrity.partition("-")
    if algo != "sha512" or not expected:
        raise BundleError(f"unsupported integrity {integrity[:20]!r}")
    got = base64.b64encode(hashlib.sha512(data).digest()).decode()
    if got != expected:
        raise BundleError("the downloaded bundle does not match its published SHA-512")


def fetch(cache_dir: Path, version: str | None = None, *, registry: str | None = None,
          timeout: float = 20.0) -> Bundle:
    """Download, verify and cache the partial bundle of ``version`` (default: the installed
    plotly's); the cached copy when there is one.

    Raises
    ------
    BundleError
        Unreachable registry, unknown version, a digest mismatch, or a malformed package.
    """
    version = version or plotlyjs_version()
    cached = load(cache_dir, version)
    if cached is not None:
        return cached
    base = (registry or os.environ.get("NPM_CONFIG_REGISTRY") or DEFAULT_REGISTRY).rstrip("/")
    try:
        integrity = PINNED.get(version)
        if integrity is None:
            meta = json.loads(_get(f"{base}/{BUNDLE}/{version}", timeout, 2**20))
            integrity = meta["dist"]["integrity"]
        tarball = _get(f"{base}/{BUNDLE}/-/{BUNDLE}-{version}.tgz", timeout, MAX_TARBALL)
    except (urllib.error.URLError, OSError, ValueError, KeyError, TypeError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise BundleError(f"could not fetch {BUNDLE}@{version} from {base}: {reason}") from None
    _check_integrity(tarball, integrity)
    try:
        with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as tar:
            member = tar.getmember(f"package/{FILE}")
            if not member.isfile() or member.size > MAX_TARBALL * 2:
                raise BundleError(f"{FILE} in the package is not a plain file")
            data = tar.extractfile(member).read()
    except (tarfile.TarError, KeyError, OSError, EOFError) as exc:
        raise BundleError(f"the {BUNDLE} package could not be read: {exc}") from None
    if not _looks_like_plotly(data, version):
        raise BundleError(f"{FILE} in the package is not plotly.js {version}")
    js, digest = _paths(cache_dir, version)
    js.parent.mkdir(parents=True, exist_ok=True)
    for path, content in ((js, data), (digest, hashlib.sha256(data).hexdigest().encode())):
        tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
        tmp.write_bytes(content)
        os.replace(tmp, path)
    return Bundle(version, data)


def ensure(cache_dir: Path, *, timeout: float = 20.0) -> Bundle | None:
    """:func:`fetch`, or None with one log line when it cannot (the pages then use the full bundle)."""
    if not _enabled():
        return None
    try:
        return fetch(cache_dir, timeout=timeout)
    except BundleError as exc:
        log.warning("%s; the pages use Dash's full plotly.js instead (about 0.7 MB more per first visit)", exc)
        return None
