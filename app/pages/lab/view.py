"""/lab: showing a network, inverting its points, and what became of a job that ended early."""

from __future__ import annotations

from typing import Any

from dash import html, no_update

from ...backends import BackendError
from ...components import BadInput, check_bool, message, parse_click
from .compute import State
from .layout import PRESET_CLASS, PRESET_HIDDEN
from .results import accuracy_block, key_line, point_result, rates_table
from .text import POINT_IDLE

__all__ = ["update_lab_cancel", "update_lab_point", "update_lab_results", "update_lab_stopped"]

_RESULTS = 13


def _done_line(outcome: dict, view) -> str:
    loss = float(view.trained.loss_curve[-1])
    if outcome.get("trained"):
        return (f"trained: {view.spec.epochs} epochs in {float(outcome.get('seconds', 0)):.1f} s, "
                f"final loss {loss:.4f}")
    return f"loaded from the store (trained earlier; no job started): {view.spec.epochs} epochs, final loss {loss:.4f}"


def update_lab_results(state: State, outcome: Any) -> tuple:
    """Maps, loss curve, accuracy, fooling rates, preset buttons (``{digit: class name}``
    for 0-9) and key of the outcome's network (and
    a fresh image, result and pinned point), then progress text, bar value and label; or, for
    a job that did not finish, its message in the progress line."""
    nothing = (no_update,) * _RESULTS
    if not isinstance(outcome, dict):
        return nothing
    status = outcome.get("status")
    if status != "done":
        text = outcome.get("message") if isinstance(outcome.get("message"), str) else "The training did not finish."
        return (no_update,) * 10 + (message(text[:400], "warning"), 0, "")
    try:
        view = state.view(outcome.get("key"))
    except (BackendError, ValueError) as exc:
        return (no_update,) * 10 + (message(f"The trained network cannot be read ({exc}).", "danger"), 0, "")
    if view is None:
        return (no_update,) * 10 + (message("That network is not in the store (any more): press Train.", "warning"),
                                    0, "")
    digits = {int(p["label"]) for p in view.presets}
    presets = {d: PRESET_CLASS if d in digits else PRESET_HIDDEN for d in range(10)}
    how = ("Trained just now by a background job." if outcome.get("trained")
           else "Answered from the artifact store: this exact network was trained before.")
    return (view.base_map, view.rbf_map, view.loss_figure, accuracy_block(view, how), rates_table(view), presets,
            key_line(view), state.blank_digit, html.P(POINT_IDLE, className="text-muted"), None,
            _done_line(outcome, view), 100, "done")


def update_lab_point(state: State, trigger: str, *, outcome: Any, click: Any = None, preset: Any = None,
                     valid: Any = False, point: Any = None) -> tuple:
    """(image (:func:`~app.images.digit_data`), result, pinned point) for a click, a far preset or the valid-pixels box."""
    view = state.view(outcome.get("key")) if isinstance(outcome, dict) and outcome.get("status") == "done" else None
    try:
        if view is None:
            raise BadInput("Train a network first: its maps are what you click.")
        pixels_valid = check_bool(valid, "keep pixels in [0, 1]")
        if trigger == "click":
            xy = parse_click(click)
        elif trigger == "preset":
            entry = next((p for p in view.presets if p["label"] == preset and not isinstance(preset, bool)), None)
            if entry is None:
                raise BadInput(f"This network's far presets are for the digits {', '.join(view.labels)}.")
            xy = tuple(float(v) for v in entry["hidden"])
        elif trigger == "valid":
            pinned = point.get("point") if isinstance(point, dict) and point.get("key") == view.key else None
            if not isinstance(pinned, list) or len(pinned) != 2:
                return no_update, no_update, no_update  # nothing pinned yet: the box applies to the next click
            xy = parse_click({"points": [{"x": pinned[0], "y": pinned[1]}]})
        else:
            return no_update, no_update, no_update
    except BadInput as exc:
        return no_update, message(str(exc)), no_update
    image, children, near = point_result(view, xy, pixels_valid)
    pinned = {"key": view.key, "point": [xy[0], xy[1]], "nearest": list(near) if near is not None else None}
    return image, children, pinned


def _entry(state: State, ticket: Any) -> dict | None:
    nonce = ticket.get("nonce") if isinstance(ticket, dict) else None
    try:
        return state.jobs.registry.status(nonce)
    except BackendError:
        return None


def update_lab_cancel(state: State, n_clicks: Any, ticket: Any, session: Any) -> tuple:
    """Cancel this session's training: (progress text, bar value)."""
    if not n_clicks:
        return no_update, no_update
    nonce = ticket.get("nonce") if isinstance(ticket, dict) else None
    try:
        entry = state.jobs.registry.cancel(session, nonce)
    except BackendError:
        return message("The job queue cannot be reached; the training may still be running.", "danger"), no_update
    if entry is None:
        return no_update, no_update
    return message(f"Cancelled after epoch {entry['epoch']} of {entry['epochs']}. Nothing was saved.", "secondary"), 0


def update_lab_stopped(state: State, running: Any, ticket: Any) -> tuple:
    """The job's poll ended (``running`` false): say so when it ended without an outcome."""
    if running is not False:
        return no_update, no_update
    entry = _entry(state, ticket)
    if entry is None or entry["state"] == "done":
        return no_update, no_update
    if entry["state"] == "reserved":
        return message("The training did not start: press Train again.", "warning"), 0
    if entry["state"] in ("submitted", "running"):  # its process died with nothing said (e.g. a hard time limit)
        text = (f"The training job stopped without an answer after epoch {entry['epoch']} (its worker was "
                "stopped, killed or timed out). Nothing was saved: press Train to try again.")
        try:
            state.jobs.registry.finish(ticket.get("nonce"), "failed", text)
        except BackendError:
            pass
        return message(text, "warning"), 0
    color = "secondary" if entry["state"] == "cancelled" else "warning"
    return message(entry.get("message") or f"The training {entry['state']}.", color), 0
