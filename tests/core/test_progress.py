"""The console progress bar: what it draws on a terminal and in a log."""
from __future__ import annotations

import io
import re

from fooling.progress import Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_in_a_log_each_step_is_one_line_with_bar_count_time_and_label():
    out = io.StringIO()
    bar = Progress(4, "build", stream=out)
    for what in ("iris", "mnist", "nets", "done"):
        bar.step(what)
    lines = out.getvalue().splitlines()
    assert len(lines) == 4
    pattern = re.compile(r"^build \[([#-]{24})\] (\d)/4 +\d+\.\ds (\w+)$")
    filled = []
    for i, (line, what) in enumerate(zip(lines, ("iris", "mnist", "nets", "done")), start=1):
        m = pattern.match(line)
        assert m, line
        assert m.group(2) == str(i) and m.group(3) == what and "\r" not in line and "\033" not in line
        filled.append(m.group(1).count("#"))
    assert filled == [6, 12, 18, 24]


def test_on_a_terminal_it_redraws_one_line_and_ends_it_once():
    out = Terminal()
    bar = Progress(3, "train", stream=out)
    for what in ("a", "b", "c"):
        bar.step(what)
    text = out.getvalue()
    assert text.count("\r") == 3 and text.count("\033[K") == 3
    assert text.endswith("\033[K\n") and text.count("\n") == 1  # a newline only after the last step
    assert "[########################] 3/3" in text and "[########----------------] 1/3" in text


def test_disabled_and_overfull_bars():
    out = io.StringIO()
    bar = Progress(2, "quiet", stream=out, enabled=False)
    bar.step("x")
    assert out.getvalue() == "" and bar.done == 1
    loud = Progress(1, "over", stream=out)
    loud.step("a")
    loud.step("b")  # more steps than announced: the bar stays full
    assert loud.done == 1 and out.getvalue().splitlines()[-1].startswith("over [########################] 1/1")
    assert Progress(0, "empty").total == 1
