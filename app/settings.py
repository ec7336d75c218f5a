"""Configuration in one place: environment variables with defaults.

=====================  =========================================  ===============
variable               meaning                                    default
=====================  =========================================  ===============
``HOST``               interface ``python -m app`` binds          ``127.0.0.1``
``PORT``               port                                       ``8050``
``FOOLING_MNIST``      MNIST source: bundled, openml, a path      ``bundled``
``FOOLING_CACHE_DIR``  trained artifacts and parsed data          ``~/.cache/fooling``
``FOOLING_GRID``       grid points per axis of the region maps    ``200``
``FOOLING_MAX_BODY``   largest request body accepted, bytes       ``65536``
``FOOLING_MAX_UPLOAD`` largest image file accepted, bytes         ``4000000``
=====================  =========================================  ===============

An upload travels base64-encoded inside its callback's request, so the request that
carries one may be a third larger than the file (:attr:`Settings.max_upload_body`);
every other request stays under ``FOOLING_MAX_BODY``.

/lab's training jobs (:mod:`app.jobs`): ``FOOLING_MAX_JOBS`` trainings run at once (default
2), each for at most ``FOOLING_JOB_SECONDS`` (default 120). ``REDIS_URL`` unset: jobs run as
local processes and artifacts stay in the cache folder; set: jobs go to Celery workers, with
Redis as broker, result store and artifact store.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping

__all__ = ["Settings"]


def _int(env: Mapping[str, str], name: str, default: int, lo: int, hi: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from None
    if not lo <= value <= hi:
        raise ValueError(f"{name} must be between {lo} and {hi}, got {value}")
    return value


@dataclass(frozen=True)
class Settings:
    """Everything the app reads from its environment."""

    host: str = "127.0.0.1"
    port: int = 8050
    mnist: str | None = None
    grid: int = 200
    max_body: int = 65536
    max_upload: int = 4_000_000
    max_jobs: int = 2
    job_seconds: int = 120
    redis_url: str | None = None

    @property
    def max_upload_body(self) -> int:
        """Largest body of a request carrying an upload (base64 of ``max_upload``, and the rest)."""
        return 4 * -(-self.max_upload // 3) + self.max_body

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Settings":
        """Read the variables in the table above (``os.environ`` by default)."""
        env = os.environ if env is None else env
        return cls(
            host=env.get("HOST", "").strip() or cls.host,
            port=_int(env, "PORT", cls.port, 1, 65535),
            mnist=env.get("FOOLING_MNIST", "").strip() or None,
            grid=_int(env, "FOOLING_GRID", cls.grid, 20, 1000),
            max_body=_int(env, "FOOLING_MAX_BODY", cls.max_body, 1024, 16 * 2**20),
            max_upload=_int(env, "FOOLING_MAX_UPLOAD", cls.max_upload, 1024, 64 * 2**20),
            max_jobs=_int(env, "FOOLING_MAX_JOBS", cls.max_jobs, 1, 64),
            job_seconds=_int(env, "FOOLING_JOB_SECONDS", cls.job_seconds, 5, 24 * 3600),
            redis_url=env.get("REDIS_URL", "").strip() or None,
        )
