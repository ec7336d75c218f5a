"""Admission and liveness of /lab's training jobs, shared by every process that serves or runs them.

One record (a JSON object in a :mod:`app.backends` backend, changed atomically) holds
every job's entry, keyed by an unguessable nonce. A job's life:

``reserved`` (:meth:`JobRegistry.admit`, when the page asks to train) -> ``submitted``
(:meth:`claim`, when the browser's background-callback request starts it: the request
gate claims the nonce, so one ticket starts one job) -> ``running`` (:meth:`start`, in the
worker; :meth:`beat` every second) -> ``done``, ``failed``, ``cancelled`` or ``timeout``.

Admission refuses, with the reason, when the session already has a job in flight, when the
same network is being trained for someone else, or when ``max_jobs`` jobs are in flight.
Leases keep a lost job from holding its slot: a reservation nobody claims within
:data:`CLAIM_SECONDS`, a submitted job no worker starts within ``seconds + QUEUE_GRACE``,
a running job whose heartbeat stops for :data:`HEARTBEAT_TIMEOUT` (its process was killed)
or that runs past ``seconds + HARD_GRACE`` ends ``failed`` or ``timeout`` at the next look.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass
from typing import Any, Callable

__all__ = ["ACTIVE", "Admission", "CLAIM_SECONDS", "HARD_GRACE", "HEARTBEAT_SECONDS", "HEARTBEAT_TIMEOUT",
           "JobRegistry", "QUEUE_GRACE", "SESSION", "new_session", "ticket_nonce"]

ACTIVE = ("reserved", "submitted", "running")
CLAIM_SECONDS = 20.0
"""A reservation the browser does not start within this time is dropped."""
QUEUE_GRACE = 60.0
"""A submitted job may wait this long past its time limit for a worker."""
HEARTBEAT_SECONDS = 1.0
HEARTBEAT_TIMEOUT = 20.0
"""A running job silent this long has lost its process."""
HARD_GRACE = 30.0
"""A running job this long past its time limit is stopped."""
KEEP_SECONDS = 3600.0
"""Finished entries are kept this long (for the page's status questions), at most :data:`KEEP_ENTRIES`."""
KEEP_ENTRIES = 500
RECORD = "lab-jobs"
SESSION = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
NONCE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def new_session() -> str:
    """A fresh browser-session token."""
    return secrets.token_urlsafe(12)


def ticket_nonce(ticket: Any) -> str | None:
    """The nonce of a job ticket (``{"nonce": ...}``), or None when it has none."""
    nonce = ticket.get("nonce") if isinstance(ticket, dict) else None
    return nonce if isinstance(nonce, str) else None


@dataclass(frozen=True)
class Admission:
    """What :meth:`JobRegistry.admit` decided.

    Attributes
    ----------
    nonce : str or None
        The reserved job's nonce; None when refused.
    reason : str
        ``'admitted'``, ``'session'`` (this session has a job in flight), ``'same'`` (this
        network is being trained already) or ``'busy'`` (``max_jobs`` in flight).
    other : dict or None
        The entry in the way (for ``session`` and ``same``).
    active : int
        Jobs in flight, this one included when admitted.
    """

    nonce: str | None
    reason: str
    other: dict | None
    active: int


class JobRegistry:
    """Every lab job's state, in one atomically updated record.

    Parameters
    ----------
    backend : app.backends.DiskBackend or app.backends.RedisBackend
    max_jobs : int
        Jobs in flight (reserved, submitted or running) at once, over every process.
    seconds : float
        Each job's time limit.
    clock : callable, default time.time
    """

    def __init__(self, backend, *, max_jobs: int = 2, seconds: float = 120.0,
                 clock: Callable[[], float] = time.time):
        self.backend = backend
        self.max_jobs = int(max_jobs)
        self.seconds = float(seconds)
        self.clock = clock

    # ---- the record ------------------------------------------------------------------------

    def _update(self, fn: Callable[[dict, float], Any]) -> Any:
        def apply(record: dict):
            now = self.clock()
            record.setdefault("jobs", {})
            record.setdefault("stats", {})
            self._expire(record, now)
            return fn(record, now)

        return self.backend.update(RECORD, apply)

    def _read(self, fn: Callable[[dict, float], Any]) -> Any:
        """``fn`` of a snapshot of the record, lost jobs marked in it (nothing is written: the
        next change writes the same verdicts)."""
        record = self.backend.read(RECORD)
        record.setdefault("jobs", {})
        record.setdefault("stats", {})
        now = self.clock()
        self._expire(record, now)
        return fn(record, now)

    def _expire(self, record: dict, now: float) -> None:
        jobs, stats = record["jobs"], record["stats"]
        for entry in jobs.values():
            state, t = entry["state"], entry["t"]
            verdict = None
            if state == "reserved" and now - t["admitted"] > CLAIM_SECONDS:
                verdict = ("expired", "The job was never started (the page went away).")
            elif state == "submitted" and now - t["claimed"] > entry["seconds"] + QUEUE_GRACE:
                verdict = ("failed", "No worker started this job in time (is a worker running?).")
            elif state == "running" and now - entry["beat"] > HEARTBEAT_TIMEOUT:
                verdict = ("failed", f"The training process stopped answering after epoch {entry['epoch']} "
                                     "(its worker was stopped or killed). Nothing was saved.")
            elif state == "running" and now - t["started"] > entry["seconds"] + HARD_GRACE:
                verdict = ("timeout", f"Stopped at the time limit ({entry['seconds']:g} s) after epoch "
                                      f"{entry['epoch']}. Nothing was saved.")
            if verdict:
                entry["state"], entry["message"] = verdict
                t["ended"] = now
                stats[verdict[0]] = stats.get(verdict[0], 0) + 1
        old = [n for n, e in jobs.items() if e["state"] not in ACTIVE and now - e["t"].get("ended", now) > KEEP_SECONDS]
        done = sorted((e["t"].get("ended", 0.0), n) for n, e in jobs.items() if e["state"] not in ACTIVE)
        old += [n for _, n in done[:max(0, len(jobs) - KEEP_ENTRIES)]]
        for n in set(old):
            jobs.pop(n, None)

    @staticmethod
    def _count(stats: dict, what: str) -> None:
        stats[what] = stats.get(what, 0) + 1

    # ---- the transitions ---------------------------------------------------------------------

    def admit(self, session: str, key: str, spec: str, *, epochs: int, fingerprint: str,
              resolution: int) -> Admission:
        """Reserve a slot for training ``spec`` (its key ``key``) for ``session``, or say why not."""
        def fn(record, now):
            jobs, stats = record["jobs"], record["stats"]
            active = [e for e in jobs.values() if e["state"] in ACTIVE]
            mine = next((e for e in active if e["session"] == session), None)
            same = next((e for e in active if e["key"] == key), None)
            if mine or same or len(active) >= self.max_jobs:
                reason = "session" if mine else "same" if same else "busy"
                self._count(stats, f"refused_{reason}")
                return Admission(None, reason, dict(mine or same or {}) or None, len(active))
            nonce = secrets.token_urlsafe(18)
            jobs[nonce] = {"session": session, "key": key, "spec": spec, "epochs": int(epochs),
                           "fingerprint": fingerprint, "resolution": int(resolution), "seconds": self.seconds,
                           "state": "reserved", "t": {"admitted": now}, "beat": now, "epoch": 0,
                           "loss": None, "job": None, "message": ""}
            self._count(stats, "admitted")
            return Admission(nonce, "admitted", None, len(active) + 1)

        return self._update(fn)

    def _transition(self, nonce: Any, source: tuple[str, ...], target: str, stamp: str | None,
                    change: Callable[[dict, float], None] | None = None) -> dict | None:
        if not isinstance(nonce, str) or not NONCE.match(nonce):
            return None

        def fn(record, now):
            entry = record["jobs"].get(nonce)
            if entry is None or entry["state"] not in source:
                return None
            entry["state"] = target
            if stamp:
                entry["t"][stamp] = now
            if change:
                change(entry, now)
            self._count(record["stats"], target)
            return dict(entry)

        return self._update(fn)

    def claim(self, nonce: Any) -> bool:
        """Mark a reservation submitted (once: a second claim of the same nonce is False)."""
        return self._transition(nonce, ("reserved",), "submitted", "claimed") is not None

    def start(self, nonce: Any) -> dict | None:
        """Mark a submitted job running; its entry, or None when it may not run (unknown, cancelled)."""
        return self._transition(nonce, ("submitted",), "running", "started",
                                lambda e, now: e.update(beat=now))

    def finish(self, nonce: Any, state: str, message: str = "") -> dict | None:
        """End a running (or submitted) job as ``state`` (done, failed, cancelled, timeout)."""
        return self._transition(nonce, ("running", "submitted"), state, "ended",
                                lambda e, now: e.update(message=message))

    def cancel(self, session: Any, nonce: Any) -> dict | None:
        """Cancel the session's job ``nonce`` in flight; its entry, or None."""
        entry = self.status(nonce)
        if entry is None or entry["session"] != session:
            return None
        return self._transition(nonce, ACTIVE, "cancelled", "ended",
                                lambda e, now: e.update(message=f"Cancelled after epoch {e['epoch']}."))

    def beat(self, nonce: str, epoch: int, loss: float | None) -> str | None:
        """A running job's heartbeat with its progress; the job's state now (None: unknown)."""
        def fn(record, now):
            entry = record["jobs"].get(nonce)
            if entry is None:
                return None
            if entry["state"] == "running":
                entry.update(beat=now, epoch=int(epoch), loss=loss)
            return entry["state"]

        return self._update(fn)

    def attach(self, nonce: Any, job: str) -> None:
        """Record the queue's id of the job that runs ``nonce`` (a pid or a Celery task id)."""
        if isinstance(nonce, str) and NONCE.match(nonce):
            self._update(lambda record, now: record["jobs"].get(nonce, {}).update(job=str(job)))

    # ---- questions -----------------------------------------------------------------------------

    def status(self, nonce: Any) -> dict | None:
        """The entry of ``nonce`` (with lost jobs already marked), or None."""
        if not isinstance(nonce, str) or not NONCE.match(nonce):
            return None
        return self._read(lambda record, now: dict(record["jobs"][nonce]) if nonce in record["jobs"] else None)

    def by_job(self, job: str) -> dict | None:
        """The entry of the job the queue knows as ``job``, or None."""
        def fn(record, now):
            return next((dict(e) for e in record["jobs"].values() if e.get("job") == str(job)), None)

        return self._read(fn)

    def snapshot(self) -> dict:
        """``{"jobs": {...}, "stats": {...}}`` as it stands (tests, benchmarks)."""
        return self._read(lambda record, now: {"jobs": {n: dict(e) for n, e in record["jobs"].items()},
                                                "stats": dict(record["stats"])})

    def active(self) -> int:
        """Jobs in flight now."""
        return self._read(lambda record, now: sum(e["state"] in ACTIVE for e in record["jobs"].values()))
