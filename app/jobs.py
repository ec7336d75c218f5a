"""Background jobs: the /lab page's trainings, on Dash background callbacks.

Two managers, chosen by the environment (:class:`app.settings.Settings`):

* no ``REDIS_URL`` — :class:`LabDiskcache`, Dash's ``DiskcacheManager``: each job is a
  process started by the web worker, results and progress in a ``diskcache`` database in
  the cache folder (JSON, never pickles: :class:`app.backends.JsonDisk`). Nothing to set up.
* ``REDIS_URL`` — :class:`LabCelery`, Dash's ``CeleryManager``: jobs are Celery tasks, Redis
  is broker and result store, and trained networks reach the web workers through Redis
  (npz bytes with a time to live), so web and workers share no disk. Start workers with::

      celery --app app.jobs:celery_app worker

  ``celery_app`` is built on first access: a bare Dash app with the lab's one job
  registered (:func:`app.pages.lab.work.register_training`), no pages, no models.

Both managers record which queue job runs which ticket, and answer "not running" for a job
whose process stopped beating or that ran past its time limit (it is stopped), so the page
hears of a killed worker instead of polling forever (:mod:`app.registry`).
:class:`Jobs` bundles what a web worker and a job share: settings, the job registry and the
artifact store.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from dash import CeleryManager, DiskcacheManager

from fooling import store

from .backends import Artifacts, BackendError, DiskBackend, RedisBackend, open_cache
from .registry import HARD_GRACE, JobRegistry, ticket_nonce
from .settings import Settings

__all__ = ["Jobs", "LabCelery", "LabDiskcache", "make_celery", "worker_celery"]  # and celery_app, on access

log = logging.getLogger(__name__)

SOFT_GRACE = 15
"""Celery's soft time limit is the job's own limit plus this (its hard limit: plus HARD_GRACE)."""
RESULT_SECONDS = 3600
"""How long Celery keeps a job's result and progress."""


def _nonce(args: Any) -> str | None:
    """The nonce of the ticket a background callback was called with (its first argument)."""
    return ticket_nonce(args[0] if isinstance(args, (list, tuple)) and args else args)


class _Watched:
    """Mixin over a Dash manager: ties queue jobs to registry entries, and ends lost ones."""

    registry: JobRegistry

    def call_job_fn(self, key, job_fn, args, context):
        job = super().call_job_fn(key, job_fn, args, context)
        try:
            self.registry.attach(_nonce(args), str(job))
        except BackendError:
            log.warning("lab job %s started but not recorded", job)
        return job

    def job_running(self, job):
        if not super().job_running(job):
            return False
        try:
            entry = self.registry.by_job(str(job))
        except BackendError:
            return True  # cannot tell: keep polling
        if entry is not None and entry["state"] in ("failed", "timeout", "cancelled", "expired"):
            self.terminate_job(job)
            return False
        return True


class LabDiskcache(_Watched, DiskcacheManager):
    """Dash's ``DiskcacheManager`` on a JSON ``diskcache`` in ``directory``, watched by ``registry``."""

    def __init__(self, directory: Path, registry: JobRegistry):
        self.registry = registry
        super().__init__(open_cache(directory))


class LabCelery(_Watched, CeleryManager):
    """Dash's ``CeleryManager`` on ``celery``, watched by ``registry``."""

    def __init__(self, celery, registry: JobRegistry):
        self.registry = registry
        super().__init__(celery)


def make_celery(settings: Settings):
    """A Celery app on ``settings.redis_url`` (broker and result store), JSON only, with time limits.

    A worker takes one task at a time per process (no prefetching of a queue of trainings),
    acknowledges it when it starts (a killed worker's job fails instead of running twice),
    and kills a task ``HARD_GRACE`` seconds past the job's own time limit.
    """
    from celery import Celery

    if not settings.redis_url:
        raise RuntimeError("REDIS_URL is not set: Celery needs Redis (e.g. REDIS_URL=redis://localhost:6379/0)")
    celery = Celery("fooling", broker=settings.redis_url, backend=settings.redis_url)
    celery.conf.update(
        task_serializer="json", result_serializer="json", accept_content=["json"],
        task_soft_time_limit=settings.job_seconds + SOFT_GRACE,
        task_time_limit=settings.job_seconds + HARD_GRACE + SOFT_GRACE,
        worker_prefetch_multiplier=1, task_acks_late=False, result_expires=RESULT_SECONDS,
        broker_connection_retry_on_startup=True, worker_hijack_root_logger=False,
        broker_transport_options={"visibility_timeout": 2 * (settings.job_seconds + 120)},
    )
    return celery


class Jobs:
    """What web workers and jobs share: settings, the job registry, artifacts and the manager.

    Parameters
    ----------
    settings : Settings, optional
        Default :meth:`Settings.from_env` (jobs and workers read the same environment).
    cache_dir : path-like, optional
        Default :func:`fooling.store.cache_dir`.
    """

    def __init__(self, settings: Settings | None = None, cache_dir=None):
        self.settings = settings or Settings.from_env()
        self.cache_dir = Path(store.cache_dir() if cache_dir is None else cache_dir)
        s = self.settings
        self.backend = RedisBackend(s.redis_url) if s.redis_url else DiskBackend(self.cache_dir / "jobs")
        self.registry = JobRegistry(self.backend, max_jobs=s.max_jobs, seconds=s.job_seconds)
        self.artifacts = Artifacts(self.cache_dir / "lab", self.backend)
        self._manager = None
        self._lock = threading.Lock()

    @property
    def kind(self) -> str:
        """``'celery'`` or ``'diskcache'``."""
        return "celery" if self.settings.redis_url else "diskcache"

    @property
    def manager(self):
        """The Dash background-callback manager (built once)."""
        with self._lock:
            if self._manager is None:
                if self.settings.redis_url:
                    self._manager = LabCelery(make_celery(self.settings), self.registry)
                else:
                    # its own database: Dash holds a write lock while it kills a finished job
                    self._manager = LabDiskcache(self.cache_dir / "dash-jobs", self.registry)
            return self._manager


_worker: dict[str, Any] = {}
_worker_lock = threading.Lock()


def worker_celery():
    """The Celery app a worker runs: the lab's job registered on a bare Dash app (built once)."""
    with _worker_lock:
        if "celery" not in _worker:
            import dash

            from .pages.lab.work import register_training

            jobs = Jobs()
            bare = dash.Dash(__name__, serve_locally=True)  # no layout, no pages, no models
            register_training(bare, jobs.manager)
            _worker.update(celery=jobs.manager.handle, jobs=jobs, dash=bare)
        return _worker["celery"]


def __getattr__(name: str):
    """``app.jobs.celery_app``: what ``celery --app app.jobs:celery_app worker`` runs."""
    if name == "celery_app":
        return worker_celery()
    raise AttributeError(f"module 'app.jobs' has no attribute {name!r}")
