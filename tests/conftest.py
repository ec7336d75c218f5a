"""Fixtures shared by every test folder.

Tests never touch the user's cache: artifacts go to a fresh temporary folder per
session, or to ``$FOOLING_TEST_CACHE_DIR`` when set (reuse across local runs).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_T10K = REPO.parent / "shared" / "data" / "mnist-t10k"


def in_ci(value: str | None) -> bool:
    """Whether a ``CI`` value means "running in CI": any non-empty value but ``0``/``false``."""
    v = (value or "").strip().lower()
    return v not in ("", "0", "false")


IN_CI = in_ci(os.environ.get("CI"))


def shown_value(p: float) -> float:
    """The percentage the pages show for probability ``p``, as a number: ``p`` to 2 decimals,
    but never 100 unless ``p`` is 1 (the pages write ``>99.99%``, read back as 99.99)."""
    v = round(100 * float(p), 2)
    return 99.99 if v >= 100 and float(p) < 1 else v

_made: list[str] = []
_session_cache: list[Path] = []


def pytest_configure(config):
    cache = os.environ.get("FOOLING_TEST_CACHE_DIR")
    if not cache:
        cache = tempfile.mkdtemp(prefix="fooling-test-cache-")
        _made.append(cache)
    _session_cache.append(Path(cache))
    os.environ["FOOLING_CACHE_DIR"] = cache
    os.environ.pop("FOOLING_MNIST", None)
    os.environ.setdefault("OMP_NUM_THREADS", "1")


def pytest_unconfigure(config):
    for d in _made:
        shutil.rmtree(d, ignore_errors=True)


def require_or_skip(condition: bool, why: str) -> None:
    """Skip outside CI when ``condition`` is false; in CI (CI=true) fail instead."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"required in CI: {why}")
    pytest.skip(f"SKIPPED OUTSIDE CI: {why}")


@pytest.fixture(scope="session")
def session_cache() -> Path:
    """The session's artifact cache (shared by every test folder and the CLI tests)."""
    return _session_cache[-1]


@pytest.fixture(scope="session")
def workspace(session_cache):
    """The bundled-data workspace (trained once per session, then cached)."""
    from fooling.workspace import load_workspace

    return load_workspace("bundled", cache_dir=session_cache, progress=False)


@pytest.fixture(scope="session")
def resources(workspace):
    """App resources with coarse grids (fast) built on the session workspace."""
    from app.resources import Resources

    return Resources(workspace, grid=120).warm()


@pytest.fixture
def dash_app(resources):
    """A fresh Dash app on the session's resources."""
    from app import create_app

    return create_app(resources)


@pytest.fixture(scope="session")
def page_states(resources) -> dict:
    """Every page's computed state ({path: State}), built once per session by ``create_app``
    (the callbacks' first argument when they are called directly)."""
    from app import create_app

    return create_app(resources).states_


@pytest.fixture(scope="session")
def iris_state(page_states):
    return page_states["/iris"]


@pytest.fixture(scope="session")
def svm_state(page_states):
    return page_states["/svm"]


@pytest.fixture(scope="session")
def mnist_state(page_states):
    return page_states["/mnist"]


@pytest.fixture(scope="session")
def neurons_state(page_states):
    return page_states["/neurons"]
