"""The lab's one background job: train a ticket's network epoch by epoch and store its bundle.

:func:`train_lab` is the background callback (Dash runs it in a job process or a Celery
worker); :func:`register_training` declares it, the same way in the web app and in the
bare app a Celery worker builds (:func:`app.jobs.worker_celery`), so both know it under
one task name. It reads nothing from the web process: the ticket's nonce leads to the
job's registry entry (spec, key, data fingerprint, map resolution, time limit).

While it runs, the job reports every epoch (``set_progress``) and a heartbeat thread tells
the registry it is alive once a second and learns of a cancel. It stops itself at its
time limit; a Celery worker kills it a little later if it does not. It never raises:
every ending is an outcome ``{"nonce", "key", "status", "message", ...}`` for the page.

:func:`gate` is the request gate's check of a job-start request: it claims the ticket's
reservation, so a ticket starts one job, and a request with any other ticket starts none.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable

from dash import Input, Output
from flask import Response

from fooling import datasets
from fooling.lab import from_query
from fooling.training import TrainingStopped, build_bundle, to_bytes, train_epochs
from fooling.workspace import split_for

from ... import ids
from ...backends import BackendError
from ...registry import HEARTBEAT_SECONDS, ticket_nonce

__all__ = ["INTERVAL", "gate", "register_training", "run_ticket", "train_lab"]

log = logging.getLogger(__name__)

INTERVAL = 200
"""Milliseconds between the browser's polls of a running job."""
REPORT_SECONDS = 0.1
"""Progress is written at most this often (and after the last epoch)."""


class Heartbeat(threading.Thread):
    """Tells the registry every second that job ``nonce`` runs (and at which epoch); sets
    ``stopped`` when the registry says it should not (cancelled, or marked lost)."""

    def __init__(self, registry, nonce: str):
        super().__init__(name=f"lab-heartbeat-{nonce[:6]}", daemon=True)
        self.registry, self.nonce = registry, nonce
        self.epoch, self.loss = 0, None
        self.stopped, self._done = threading.Event(), threading.Event()

    def run(self) -> None:
        while not self._done.wait(HEARTBEAT_SECONDS):
            try:
                state = self.registry.beat(self.nonce, self.epoch, self.loss)
            except BackendError:
                continue
            if state != "running":
                self.stopped.set()

    def finish(self) -> None:
        self._done.set()


def _outcome(ticket_nonce, key, status: str, message: str, **extra) -> dict:
    return {"nonce": ticket_nonce, "key": key, "status": status, "message": message, **extra}


def run_ticket(ticket: Any, report: Callable[[list], None], jobs=None) -> dict:
    """Train the network of ``ticket`` and store its bundle; the outcome (never raises).

    Parameters
    ----------
    ticket : dict
        ``{"nonce": ...}`` from the page; its registry entry must be ``submitted``.
    report : callable
        Called with ``[percent, bar label, text]`` (Dash's ``set_progress``).
    jobs : app.jobs.Jobs, optional
        Default: built from the environment, with this process's own connections.
    """
    from ...jobs import Jobs

    nonce = ticket_nonce(ticket)
    try:
        jobs = jobs or Jobs()
        entry = jobs.registry.start(nonce)
    except BackendError as exc:
        log.warning("lab job %s: %s", nonce, exc)
        return _outcome(nonce, None, "failed", "The job queue cannot be reached; try again later.")
    if entry is None:
        return _outcome(nonce, None, "refused", "This job was not started: it is unknown, cancelled or ran already.")
    key = entry["key"]
    spec, problems = from_query(entry["spec"])
    beat = Heartbeat(jobs.registry, nonce)
    beat.start()
    last = [0.0]

    def on_epoch(epoch: int, loss: float) -> None:
        beat.epoch, beat.loss = epoch, loss
        if beat.stopped.is_set():
            raise TrainingStopped("cancelled", epoch)
        if time.monotonic() > deadline:
            raise TrainingStopped("timeout", epoch)
        now = time.monotonic()
        if now - last[0] >= REPORT_SECONDS or epoch == spec.epochs:
            last[0] = now
            report([round(90 * epoch / spec.epochs), f"{epoch}/{spec.epochs}",
                    f"epoch {epoch}/{spec.epochs} · loss {loss:.4f}"])

    start = time.monotonic()
    deadline = start + float(entry["seconds"])
    try:
        if problems:
            raise ValueError(f"the stored spec is not valid ({problems[0]})")
        report([0, "", f"starting: loading the digits for {spec.epochs} epochs"])
        digits = datasets.load_mnist(jobs.settings.mnist, cache_dir=jobs.cache_dir)
        if digits.fingerprint() != entry["fingerprint"]:
            raise ValueError("this worker's MNIST data differ from the web server's (check FOOLING_MNIST)")
        split = split_for(digits, spec.digits, jobs.cache_dir)
        trained = train_epochs(spec, split, on_epoch=on_epoch)
        arrays, meta = build_bundle(spec, trained, split, key, resolution=entry["resolution"],
                                    cache_dir=jobs.artifacts.folder,
                                    on_stage=lambda what: report([95, "analysis", what]))
        jobs.artifacts.put(key, to_bytes(arrays, meta))
        seconds = time.monotonic() - start
        jobs.registry.finish(nonce, "done", f"{spec.epochs} epochs in {trained.seconds:.1f} s")
        return _outcome(nonce, key, "done", "", trained=True, seconds=round(seconds, 2),
                        epochs=spec.epochs, loss=float(trained.loss_curve[-1]))
    except TrainingStopped as exc:
        text = {"cancelled": f"Cancelled after epoch {exc.epoch} of {spec.epochs}. Nothing was saved.",
                "timeout": f"Stopped at the time limit ({entry['seconds']:g} s) after epoch {exc.epoch} of "
                           f"{spec.epochs}. Nothing was saved: try fewer epochs or smaller layers.",
                "diverged": f"Training diverged ({exc}): the loss or the weights stopped being finite. "
                            "Try a smaller learning rate.",
                "collapsed": f"Trained, but {exc} (dead units). Nothing was saved: try another seed, more "
                             "epochs or another learning rate."}.get(exc.reason, str(exc))
        state = exc.reason if exc.reason in ("cancelled", "timeout") else "failed"
        return _finish(jobs, nonce, key, state, text)
    except Exception as exc:  # noqa: BLE001 -- every ending is an outcome for the page
        if type(exc).__name__ == "SoftTimeLimitExceeded":  # Celery's soft limit, past our own
            return _finish(jobs, nonce, key, "timeout", f"Stopped at the time limit ({entry['seconds']:g} s). "
                                                        "Nothing was saved.")
        log.exception("lab job %s failed", nonce)
        return _finish(jobs, nonce, key, "failed", f"Training failed: {type(exc).__name__}: {str(exc)[:200]}")
    finally:
        beat.finish()


def _finish(jobs, nonce, key, state: str, text: str) -> dict:
    try:
        jobs.registry.finish(nonce, state, text)
    except BackendError:
        pass
    return _outcome(nonce, key, state, text)


def train_lab(set_progress, ticket):
    """The lab's background callback: ticket in, outcome out (see :func:`run_ticket`)."""
    return run_ticket(ticket, set_progress)


def register_training(app, manager) -> None:
    """Declare :func:`train_lab` on ``app`` as a background callback run by ``manager``.

    The ticket store starts it; the progress bar, its label and the progress line follow
    each epoch; while it runs, Train is disabled, Cancel enabled, and ``LAB_RUNNING`` true.
    """
    app.callback(
        Output(ids.LAB_OUTCOME, "data"), Input(ids.LAB_TICKET, "data"),
        background=True, manager=manager, prevent_initial_call=True, interval=INTERVAL,
        progress=[Output(ids.LAB_PROGRESS_BAR, "value"), Output(ids.LAB_PROGRESS_BAR, "label"),
                  Output(ids.LAB_PROGRESS, "children")],
        running=[(Output(ids.LAB_TRAIN, "disabled"), True, False), (Output(ids.LAB_CANCEL, "disabled"), False, True),
                 (Output(ids.LAB_RUNNING, "data"), True, False)],
        cancel=[Input(ids.LAB_CANCEL, "n_clicks")],
    )(train_lab)


def gate(jobs) -> Callable[[dict, Any], Response | None]:
    """The request gate's check of the training callback: a job starts only for a ticket
    whose reservation it claims now; any other start request is answered 204 (no update)."""
    def check(body: dict, args) -> Response | None:
        if args.get("cacheKey"):
            return None  # a poll of a running job: Dash checks its own signed handles
        inputs = body.get("inputs")
        item = inputs[0] if isinstance(inputs, list) and inputs else None
        ticket = item.get("value") if isinstance(item, dict) else None
        try:
            claimed = jobs.registry.claim(ticket_nonce(ticket))
        except BackendError as exc:
            log.warning("lab job start refused: %s", exc)
            claimed = False
        return None if claimed else Response(status=204)

    return check
