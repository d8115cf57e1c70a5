"""The layers of the package, read from its source: no arrow from the library up into the
example app, and no import cycle inside ``srlkit.data``.

Imports are read with ``ast`` from every module, function-level ones included (they are how a
cycle is usually dodged), and so are ``"srlkit.x.y"`` / ``"srlkit.x:f"`` strings, which is how an
import hides from the graph (``importlib.import_module``).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
_MODULE_STRING = re.compile(r"srlkit(?:\.\w+)+(?::\w+)?")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, name: str) -> set[str]:
    """Every srlkit module ``path`` imports (or names in a string), with the packages on the way."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                base = f"{base}.{node.module}" if node.module else base
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)  # may be submodules
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and _MODULE_STRING.fullmatch(node.value)
        ):
            found.add(node.value.partition(":")[0])
    return {m for m in found if m == "srlkit" or m.startswith("srlkit.")}


def import_graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in SRC.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = set()
        for target in _imports(path, name):
            parts = target.split(".")
            for i in range(2, len(parts) + 1):  # importing a.b.c runs a.b's __init__ first
                prefix = ".".join(parts[:i])
                # a module's own packages are initialised already when it runs
                if prefix in modules and prefix != name and not name.startswith(prefix + "."):
                    targets.add(prefix)
        graph[name] = targets
    return graph


def _cycles(graph: dict[str, set[str]], within: str) -> list[list[str]]:
    nodes = {n for n in graph if n == within or n.startswith(within + ".")}
    cycles, state, stack = [], {}, []

    def visit(node: str) -> None:
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph[node] & nodes):
            if state.get(nxt) == "open":
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = "done"

    for node in sorted(nodes):
        if node not in state:
            visit(node)
    return cycles


def test_the_graph_sees_hidden_and_function_level_imports():
    graph = import_graph()
    assert "srlkit.data.hub" in graph["srlkit.data.reader"]
    assert "srlkit.training.grpo" in graph["srlkit.training.trainers"]  # inside a function
    assert "srlkit.demo.benchmarks" in graph["srlkit.cli.eval"]


def test_cycle_finder_finds_a_cycle():
    graph = {"p.a": {"p.b"}, "p.b": {"p.c"}, "p.c": {"p.a"}, "p.d": set()}
    assert _cycles(graph, "p") == [["p.a", "p.b", "p.c", "p.a"]]


@pytest.mark.parametrize("layer", ["srlkit.evaluation", "srlkit.report"])
def test_no_arrow_from_the_library_into_the_demo(layer):
    graph = import_graph()
    arrows = [
        f"{source} -> {target}"
        for source, targets in graph.items()
        if source == layer or source.startswith(layer + ".")
        for target in targets
        if target.startswith("srlkit.demo")
    ]
    assert arrows == []


def test_no_import_cycle_inside_data():
    assert _cycles(import_graph(), "srlkit.data") == []
