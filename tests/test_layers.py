"""Dependencies go one way (DESIGN.md, Layers): exchanges <- trades <- positions <- api <- tracker_project
<- trade_tracker (a bot's own process).

Every import of the project's modules is read with `ast`, at module level and inside functions alike,
so that an import moved into a function cannot hide a cycle or a look upwards.
"""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Lowest first. The operator pages live in positions/ and look only down from there.
LAYERS = ("exchanges", "trades", "positions", "api", "tracker_project", "trade_tracker")
RANK = {package: rank for rank, package in enumerate(LAYERS)}


def _module_files() -> dict[str, Path]:
    modules = {}
    for package in LAYERS:
        for path in (ROOT / package).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


MODULES = _module_files()


def _imported(module: str, path: Path, node: ast.Import | ast.ImportFrom) -> list[str]:
    """The project modules an import statement names (a submodule where `from package import x`
    names one, else the package)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level:
        base = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        prefix = ".".join(base + ([node.module] if node.module else []))
    else:
        prefix = node.module or ""
    return [f"{prefix}.{a.name}" if f"{prefix}.{a.name}" in MODULES else prefix for a in node.names]


def _imports() -> dict[str, set[tuple[str, int]]]:
    """module -> {(imported project module, line)}."""
    found: dict[str, set[tuple[str, int]]] = {}
    for module, path in MODULES.items():
        edges = found.setdefault(module, set())
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for target in _imported(module, path, node):
                    if target.split(".")[0] in RANK and target != module:
                        edges.add((target, node.lineno))
    return found


IMPORTS = _imports()


def test_the_scan_sees_the_project():
    assert "trades.ingest" in MODULES and "positions.fold" in MODULES
    assert any(target == "exchanges.models" for target, _ in IMPORTS["trades.models"])


@pytest.mark.parametrize("package", LAYERS)
def test_no_module_imports_a_higher_layer(package):
    upward = [
        f"{module}:{line} imports {target}"
        for module, edges in sorted(IMPORTS.items())
        if module.split(".")[0] == package
        for target, line in sorted(edges)
        if RANK[target.split(".")[0]] > RANK[package]
    ]
    assert upward == []


def test_no_import_cycle():
    graph = {module: {target for target, _ in edges if target in MODULES} for module, edges in IMPORTS.items()}
    try:
        tuple(TopologicalSorter(graph).static_order())
    except CycleError as error:
        pytest.fail(f"import cycle: {' -> '.join(error.args[1])}")
