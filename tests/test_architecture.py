"""The house's rules, checked: short functions, modest modules, no import circles, public API."""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

import clustersim

SRC = Path(clustersim.__file__).resolve().parent
MAX_FUNCTION_LINES = 80
MAX_MODULE_LINES = 600
MODULES = sorted(SRC.rglob("*.py"))


def _functions(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.relative_to(SRC).as_posix())
def test_no_function_is_longer_than_80_lines(path):
    long = [
        f"{f.name} ({f.end_lineno - f.lineno + 1} lines, line {f.lineno})"
        for f in _functions(path)
        if f.end_lineno - f.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert not long, f"split these functions: {', '.join(long)}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.relative_to(SRC).as_posix())
def test_no_module_is_longer_than_600_lines(path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_MODULE_LINES, f"{lines} lines: split the module by what its parts do"


def test_the_length_checks_can_fail(tmp_path):
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES))
    path = tmp_path / "long.py"
    path.write_text(f"def long():\n{body}\n")
    assert [f.name for f in _functions(path)] == ["long"]
    f = next(_functions(path))
    assert f.end_lineno - f.lineno + 1 > MAX_FUNCTION_LINES


def _import_graph() -> nx.DiGraph:
    """Module-level imports between clustersim modules (runtime imports inside functions too)."""
    graph = nx.DiGraph()
    for path in MODULES:
        rel = path.relative_to(SRC.parent).with_suffix("")
        parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
        name = ".".join(parts)
        graph.add_node(name)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            for target in targets:
                if target.startswith("clustersim") and target != name:
                    graph.add_edge(name, target)
    known = set(graph.nodes) & {
        n
        for n in graph.nodes
        if (SRC.parent / n.replace(".", "/")).exists()
        or (SRC.parent / (n.replace(".", "/") + ".py")).exists()
    }
    return graph.subgraph(known).copy()


def test_there_is_no_import_circle_between_modules():
    graph = _import_graph()
    # a package's __init__ re-exporting its own modules is not a circle
    for node in list(graph.nodes):
        for succ in list(graph.successors(node)):
            if node.startswith(succ + "."):
                graph.remove_edge(node, succ)
    cycles = list(nx.simple_cycles(graph))
    assert not cycles, "import circles: " + "; ".join(" -> ".join(c) for c in cycles[:5])


def test_the_public_api_is_stable():
    for name in ("simulate", "CreativeClusterModel", "Policy", "SimulationResult", "load_config"):
        assert name in clustersim.__all__ and hasattr(clustersim, name)
    assert sorted(clustersim.__all__) == sorted(set(clustersim.__all__))
