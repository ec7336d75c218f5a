"""How /ood writes its numbers (one place, so the tables, the prose and the tests agree)."""

from __future__ import annotations

from typing import Iterable

from ...components import percent

__all__ = ["num", "pct", "pixel_span", "told"]


def num(v: float | None) -> str:
    """A metric (AUROC, FPR@95, AUPR) as :func:`told` writes it (two decimals, more where two
    would round it to 0 or 1 it is not); 'n/a' for None."""
    return "n/a" if v is None else told(v)


def told(v: float) -> str:
    """A number in [0, 1] for the prose: two decimals, more where two would round it to 0 or 1."""
    for digits in (2, 3):
        s = f"{v:.{digits}f}"
        if not ((s == f"{1:.{digits}f}" and v < 1) or (s == f"{0:.{digits}f}" and v > 0)):
            return s
    return ">0.999" if v > 0.5 else "<0.001"


def pct(v: float | None, digits: int = 1) -> str:
    """A share or probability as a percentage, never rounded up to 100% or down to 0% (">99.9%",
    "<0.1%"); 'n/a' for None."""
    if v is None:
        return "n/a"
    if float(f"{100 * v:.{digits}f}") == 0 and v > 0:
        return f"<{10 ** -digits:.{digits}f}%"
    return percent(v, digits)  # the top end as every page writes it


def _g(v: float) -> str:
    return f"{v:.3g}".replace("-", "−")


def pixel_span(ranges: Iterable[tuple[float, float]]) -> str:
    """'pixels lo to hi' over tiles' drawn ranges (their union)."""
    ranges = list(ranges)
    if not ranges:
        return ""
    lo, hi = min(r[0] for r in ranges), max(r[1] for r in ranges)
    return f"pixels {_g(lo)} to {_g(hi)}"
