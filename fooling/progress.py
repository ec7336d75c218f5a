"""A minimal console progress bar on stderr (no dependencies)."""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["Progress"]


class Progress:
    """Report ``done/total`` steps with a bar and the elapsed time.

    Parameters
    ----------
    total : int
    label : str
    stream : text stream, default ``sys.stderr``
    enabled : bool, default=True
        False makes every call a no-op (quiet mode, tests).
    """

    def __init__(self, total: int, label: str = "", stream: TextIO | None = None,
                 enabled: bool = True):
        self.total = max(int(total), 1)
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        self.done = 0
        self.start = time.perf_counter()

    def step(self, what: str = "") -> None:
        """Mark one more step finished; ``what`` says which."""
        self.done = min(self.done + 1, self.total)
        if not self.enabled:
            return
        width = 24
        filled = round(width * self.done / self.total)
        bar = "#" * filled + "-" * (width - filled)
        elapsed = time.perf_counter() - self.start
        end = "\n" if self.done == self.total or not self.stream.isatty() else ""
        self.stream.write(f"\r{self.label} [{bar}] {self.done}/{self.total} {elapsed:5.1f}s {what}"
                          f"\033[K{end}" if self.stream.isatty() else
                          f"{self.label} [{bar}] {self.done}/{self.total} {elapsed:5.1f}s {what}{end}")
        self.stream.flush()
