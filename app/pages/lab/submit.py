"""/lab: a spec from the form or the URL becomes a stored network or an admitted training."""

from __future__ import annotations

import logging
from typing import Any

from dash import no_update

from fooling.lab import DEFAULT, SpecError, from_params, parse_spec

from ...backends import BackendError
from ...components import message
from ...registry import SESSION, new_session
from .compute import State
from .layout import FORM, form_values
from .text import IDLE, QUEUED, allowed, refusal

__all__ = ["OUTPUTS", "update_lab_submit"]

OUTPUTS = ("message", "ticket", "outcome", "write", "progress", "bar", "session") + FORM
"""What :func:`update_lab_submit` answers, in order (then the form's values)."""
_KEEP = (no_update,) * len(FORM)
log = logging.getLogger(__name__)


def _go(state: State, spec, session: str, *, write: bool) -> tuple:
    """(message, ticket, outcome, write, progress, bar) for showing or training ``spec``."""
    search = {"search": "?" + spec.query()} if write else no_update
    try:
        key = state.key(spec)
        if state.jobs.artifacts.has(key):
            outcome = {"key": key, "status": "done", "trained": False}
            return None, no_update, outcome, search, "loading the stored network", 100
        admission = state.jobs.registry.admit(session, key, spec.query(), epochs=spec.epochs,
                                              fingerprint=state.fingerprint, resolution=state.grid)
    except BackendError as exc:
        log.warning("lab: %s", exc)
        return (message("The job queue cannot be reached right now: nothing was started. Try again in a minute.",
                        "danger"), no_update, no_update, no_update, no_update, no_update)
    if admission.nonce is None:
        color = "warning" if admission.reason == "busy" else "info"
        return (message(refusal(admission.reason, admission.other, state.jobs.registry.max_jobs), color),
                no_update, no_update, no_update, no_update, no_update)
    ticket = {"nonce": admission.nonce, "key": key, "epochs": spec.epochs}
    return None, ticket, no_update, search, f"{QUEUED} ({spec.epochs} epochs)", 0


def update_lab_submit(state: State, trigger: str, *, query: Any = None, form: Any = None,
                      session: Any = None) -> tuple:
    """Everything the page answers to Train or to a URL, in the order of :data:`OUTPUTS`; never raises.

    Parameters
    ----------
    state : app.pages.lab.compute.State
    trigger : {'query', 'train'}
        ``query``: the page opened (or back/forward) with the shell's parsed query
        ``query`` (``{key: [values]}``, or ``{"__error__": text}`` for a link the browser
        refused): the form shows its spec and, when every setting was usable, it is trained
        or loaded; a bare ``/lab`` shows the default network only if it is stored.
        ``train``: the form's values ``form`` (a dict of :class:`fooling.lab.LabSpec`'s fields).
    session : any
        This tab's session token (one training in flight per session); a missing or malformed
        one is replaced by a fresh token, sent back to the tab.

    Returns
    -------
    tuple
        Message, ticket (starts the job), outcome (a stored network to show), URL write,
        progress text, progress bar value, session token, then the eight form values;
        ``no_update`` where nothing changes.
    """
    fresh = not isinstance(session, str) or not SESSION.match(session)
    token = new_session() if fresh else session
    sent = token if fresh else no_update
    if trigger == "query":
        if isinstance(query, dict) and "__error__" in query:
            err = query["__error__"]
            spec, problems = DEFAULT, [err if isinstance(err, str) and len(err) < 200 else "That link could not be read."]
        else:
            spec, problems = from_params(query)
        shown = form_values(spec)
        if problems:
            text = ("Not trained: some of this link's settings were not usable. " + " ".join(problems)
                    + " Press Train to train what the form shows.")
            return (message(text), no_update, no_update, no_update, IDLE, 0, sent, *shown)
        if not query:
            try:
                key = state.key(spec)
                stored = state.jobs.artifacts.has(key)
            except BackendError:
                stored = False
            outcome = {"key": key, "status": "done", "trained": False} if stored else no_update
            return (None, no_update, outcome, no_update, IDLE if not stored else "loading the stored network",
                    0, sent, *shown)
        return (*_go(state, spec, token, write=False), sent, *shown)
    if trigger == "train":
        try:
            spec = parse_spec(form if isinstance(form, dict) else {})
        except SpecError as exc:
            return (message(f"Not started: {exc} {allowed()}"), no_update, no_update, no_update, no_update,
                    no_update, sent, *_KEEP)
        return (*_go(state, spec, token, write=True), sent, *_KEEP)
    return (no_update,) * 7 + _KEEP
