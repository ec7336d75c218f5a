"""Shared fixtures for the core tests: an isolated cache and one trained workspace."""
from __future__ import annotations

import atexit
import os
import shutil
import tempfile

import numpy as np
import pytest
from hypothesis.configuration import set_hypothesis_home_dir
from threadpoolctl import threadpool_limits

from fooling.network import Network

# Hypothesis writes a constants cache at collection time, by default into ./.hypothesis:
# keep it (and any failure patches) in a temporary folder instead of the work tree.
if not os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
    _HYPOTHESIS_HOME = tempfile.mkdtemp(prefix="fooling-tests-hypothesis-")
    set_hypothesis_home_dir(_HYPOTHESIS_HOME)
    atexit.register(shutil.rmtree, _HYPOTHESIS_HOME, ignore_errors=True)

# The models here are small: one BLAS thread is faster than two fighting over a busy
# 2-core machine (several times over, measured), and it is what the CLI uses.
os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture(scope="session", autouse=True)
def _one_blas_thread():
    with threadpool_limits(limits=1):
        yield


@pytest.fixture(autouse=True)
def _isolated_cache(monkeypatch, tmp_path_factory):
    """Every test gets its own empty FOOLING_CACHE_DIR; nothing reaches the home cache."""
    monkeypatch.setenv("FOOLING_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.delenv("FOOLING_MNIST", raising=False)


@pytest.fixture(scope="session")
def report(workspace):
    from fooling.report import reproduce

    return reproduce(workspace)


def _random_net(sizes, activation, seed=0, *, scale=1.0, bias=0.3, classes=None):
    rng = np.random.default_rng(seed)
    coefs = [rng.normal(scale=scale, size=(a, b)) for a, b in zip(sizes[:-1], sizes[1:])]
    intercepts = [rng.normal(scale=bias, size=b) for b in sizes[1:]]
    classes = list(range(sizes[-1])) if classes is None else classes
    return Network.from_arrays(coefs, intercepts, activation, classes)


@pytest.fixture
def random_net():
    """``random_net(sizes, activation, seed=0, *, scale=1.0, bias=0.3, classes=None)``:
    a network with normal random weights; ``sizes`` lists units from input to output."""
    return _random_net
