"""The import layering of docs/design.md, checked on the source: allowed edges, faces, no cycles.

Every `import` in src/slotforce and tasks/ counts, also those inside functions (an import hidden in a
function to dodge a cycle is still a cycle); only imports under `if TYPE_CHECKING:` are left out,
since they never run.
"""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"

# Which parts of slotforce each part may import (besides itself and the leaves). The engine's
# packages first, then the top: commands and test kits that tie parts together.
LEAVES = {"yamlfile", "cci", "project"}  # slotforce.yml, --config, YAML errors; cci's environment; the project root
ALLOWED: dict[str, set[str]] = {
    "service": {"sources", "sync", "store"},
    "sources": {"sync", "store"},
    "sync": set(),
    "store": set(),
    "package": set(),
    "localorg": set(),
    "yamlfile": set(),
    "cci": set(),
    "project": set(),
    "cli": set(),  # its command table names modules as strings, imported when a command runs
    "demo": {"localorg", "package", "sources", "store"},
    "testing": {"localorg", "package"},
    "tasks": {"package"},
}


def _module_name(path: Path, base: Path) -> str:
    parts = list(path.relative_to(base).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _sources() -> dict[str, Path]:
    found = {_module_name(p, SRC): p for p in (SRC / "slotforce").rglob("*.py")}
    found.update({"tasks." + _module_name(p, ROOT / "tasks"): p for p in (ROOT / "tasks").glob("*.py")
                  if p.name != "__init__.py"})
    return found


MODULES = _sources()


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _bound(module: str) -> set[str]:
    """The names a module binds at its top level (what `from module import name` finds there)."""
    path = MODULES.get(module)
    if path is None:
        return set()
    names: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {t.id for t in targets if isinstance(t, ast.Name)}
    return names


def _imports(tree: ast.AST):
    """(line, imported module names) for every import that can run."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            yield from (x for child in node.orelse for x in _imports(ast.Module(body=[child], type_ignores=[])))
            continue
        if isinstance(node, ast.Import):
            yield node.lineno, [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            # `from pkg import sub` imports the submodule when `sub` is one (and pkg's face binds no such name)
            subs = [f"{node.module}.{a.name}" for a in node.names
                    if f"{node.module}.{a.name}" in MODULES and a.name not in _bound(node.module)]
            yield node.lineno, subs if len(subs) == len(node.names) else [node.module, *subs]
        else:
            yield from _imports(node)


def _edges() -> list[tuple[str, int, str]]:
    """(importing module, line, imported slotforce module) over every module."""
    out = []
    for name, path in MODULES.items():
        for line, targets in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            out += [(name, line, t) for t in targets if t == "slotforce" or t.startswith("slotforce.")]
    return out


EDGES = _edges()


def part(module: str) -> str:
    """'slotforce.sync.engine' -> 'sync'; 'tasks.package' -> 'tasks'."""
    pieces = module.split(".")
    return "tasks" if pieces[0] == "tasks" else (pieces[1] if len(pieces) > 1 else "slotforce")


def face(module: str) -> str:
    """The face a module is used through: its package's __init__ (a top-level module is its own face)."""
    pieces = module.split(".")
    return ".".join(pieces[:2])


def test_every_part_is_known():
    assert {part(m) for m in MODULES} - {"slotforce"} == set(ALLOWED)


def test_parts_import_only_what_the_layering_allows():
    wrong = [f"{MODULES[src].relative_to(ROOT)}:{line}: {part(src)} -> {part(dst)} ({dst})"
             for src, line, dst in EDGES
             if part(dst) != part(src) and part(dst) not in ALLOWED[part(src)] | (LEAVES - {part(src)})]
    assert wrong == [], "imports the layering in docs/design.md does not allow:\n" + "\n".join(wrong)


def test_other_parts_are_used_through_their_face():
    deep = [f"{MODULES[src].relative_to(ROOT)}:{line}: {dst} (use {face(dst)})"
            for src, line, dst in EDGES if part(dst) != part(src) and dst != face(dst)]
    assert deep == [], "imports that reach past a package's __init__:\n" + "\n".join(deep)


def test_no_import_cycles():
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for src, _, dst in EDGES:
        if dst in graph and dst != src:
            graph[src].add(dst)
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as err:
        pytest.fail("import cycle: " + " -> ".join(err.args[1]))


def test_the_walk_sees_imports_in_functions_but_not_under_type_checking():
    tree = ast.parse(
        "from typing import TYPE_CHECKING\n"
        "import slotforce.store\n"
        "if TYPE_CHECKING:\n    from slotforce.sync.engine import SyncEngine\n"
        "def f():\n    from slotforce.sync import booking\n")
    assert [names for _, names in _imports(tree)] == [["typing"], ["slotforce.store"], ["slotforce.sync.booking"]]
    assert part("slotforce.sync.booking") == "sync" and face("slotforce.sync.booking") == "slotforce.sync"
