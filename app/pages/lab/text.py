"""The words of /lab: the introduction, what a spec may be, and what became of a job."""

from __future__ import annotations

from fooling.lab import LIMITS

__all__ = ["EPOCH", "IDLE", "INTRO", "QUEUED", "allowed", "fmt", "refusal"]

INTRO = ("Build a network whose last hidden layer has two units, train it on the embedded digits, and "
         "see what it answers everywhere in that plane: far from the data it is often more certain, not "
         "less. The settings are this page's address: share it, and opening it trains (or loads) exactly "
         "this network.")
EPOCH = ("An epoch is one pass over every training digit in shuffled mini-batches of 200 (scikit-learn's "
         "partial_fit); training always runs the chosen number of epochs, with no early stop.")
IDLE = "Choose a network and press Train."
QUEUED = "queued: waiting for a worker"
POINT_IDLE = "Click anywhere on either map (far from the dots too) or press a far preset."


def fmt(p) -> str:
    """A hidden point, short."""
    return f"({p[0]:.4g}, {p[1]:.4g})"


def allowed() -> str:
    """Everything a spec may be, in one sentence."""
    return "Allowed: " + "; ".join(f"{k}: {v}" for k, v in LIMITS.items()) + "."


def refusal(reason: str, other: dict | None, max_jobs: int) -> str:
    """Why a training was not started (:class:`app.registry.Admission`'s reason)."""
    progress = f" (epoch {other.get('epoch', 0)} of {other.get('epochs', '?')})" if other else ""
    if reason == "session":
        return f"You already have a training running{progress}: wait for it to finish, or press Cancel."
    if reason == "same":
        return (f"This exact network is being trained right now for someone else{progress}. Press Train "
                "again when it is done: it then loads at once.")
    plural = "s" if max_jobs != 1 else ""
    return (f"The server is busy: {max_jobs} training{plural} running, the most it runs at once. "
            "Nothing was started; try again in a minute.")
