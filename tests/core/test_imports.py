"""The core library's import graph: no cycles (lazy imports included), no web packages,
and a warm start reads its models without scikit-learn."""
from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[2] / "fooling"


def _imports(path: Path) -> set[str]:
    """Every ``fooling`` module a module imports, at any depth of its code."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1:
                base = node.module.split(".")[0] if node.module else None
                if base:
                    out.add(base)
                else:
                    out.update(a.name for a in node.names)
            elif node.module and node.module.startswith("fooling."):
                out.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            out.update(a.name.split(".")[1] for a in node.names if a.name.startswith("fooling."))
    return out


def graph() -> dict[str, set[str]]:
    mods = {p.stem for p in PKG.glob("*.py")}
    return {p.stem: _imports(p) & mods - {p.stem} for p in PKG.glob("*.py")}


def find_cycle(g: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(n):
        state[n] = 1
        stack.append(n)
        for m in sorted(g.get(n, ())):
            if state.get(m) == 1:
                return stack[stack.index(m):] + [m]
            if m not in state and (c := visit(m)):
                return c
        state[n] = 2
        stack.pop()
        return None

    for n in sorted(g):
        if n not in state and (c := visit(n)):
            return c
    return None


def test_the_cycle_finder_finds_cycles():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_two_core_modules_import_each_other():
    g = graph()
    assert len(g) > 10 and "analysis" in g["report"]
    assert find_cycle(g) is None


def test_core_imports_no_web_package():
    for path in PKG.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else [])
            for name in names:
                assert name.split(".")[0] not in {"dash", "plotly", "flask", "werkzeug"}, (path, name)


@pytest.mark.slow
def test_a_warm_start_does_not_import_scikit_learn(workspace, session_cache):
    """Models, splits and analyses come from the cache as arrays: no scikit-learn needed."""
    from fooling.analysis import WorkspaceAnalysis

    WorkspaceAnalysis(workspace).plane("identity").warm()
    code = ("import sys\n"
            "from fooling.workspace import load_workspace\n"
            "from fooling.analysis import WorkspaceAnalysis\n"
            "ws = load_workspace('bundled')\n"
            "a = WorkspaceAnalysis(ws).plane('identity').warm()\n"
            "p = ws.iris.models['svm_rbf'].predict_proba(ws.iris.X)\n"
            "print(a.head.predict_proba(a.centroid[None]).shape, 'sklearn' in sys.modules)\n")
    env = {**os.environ, "FOOLING_CACHE_DIR": str(session_cache)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         cwd=PKG.parent, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["(1,", "4)", "False"]
