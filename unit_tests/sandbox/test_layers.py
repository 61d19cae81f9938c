"""The sandbox's layers read top-down: data -> store -> API -> server -> control.

Every import counts, wherever it stands (module level, inside a function, under ``TYPE_CHECKING``): a module
never imports one of a higher layer, and no module reaches itself through its imports. A new module must be
placed in ``LAYERS`` below, or this test fails.
"""

from __future__ import annotations

import ast
from pathlib import Path

import calendly_sandbox

PACKAGE = "calendly_sandbox"
ROOT = Path(calendly_sandbox.__file__).parent

# Lowest first. A module may import its own layer or a lower one.
LAYERS: dict[str, tuple[str, ...]] = {
    "data": ("vocab", "timeutil", "tokens", "behaviour", "records", "coredata", "orgdata", "dataset"),
    "store": ("rows", "orgstore", "contactbook", "notetaker", "store", "compliance", "truth"),
    "api": (
        "errors",
        "listing",
        "pagination",
        "oauth",
        "endpoint_base",
        "api_org",
        "api_contactbook",
        "api_notetaker",
        "api",
    ),
    "server": ("requestlog", "ratelimit", "faults", "server"),
    "control": ("contactbook_mutations", "control", "sandbox", "__main__", "__init__"),
}


def _modules() -> dict[str, Path]:
    return {path.stem: path for path in sorted(ROOT.glob("*.py"))}


def _target(name: str, modules: dict[str, Path]) -> str:
    """The package module ``name`` (dotted, relative to the package) stands for; the package itself is ``__init__``."""
    first = name.split(".", 1)[0]
    return first if first in modules else "__init__"


def imports_of(path: Path, modules: dict[str, Path]) -> set[str]:
    """The package modules ``path`` imports, from anywhere in its tree."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == PACKAGE or alias.name.startswith(PACKAGE + "."):
                    found.add(_target(alias.name[len(PACKAGE) + 1 :], modules))
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                if node.module is None or not (node.module == PACKAGE or node.module.startswith(PACKAGE + ".")):
                    continue
                base = node.module[len(PACKAGE) + 1 :]
            elif node.level == 1:
                base = node.module or ""
            else:
                continue  # beyond the package: not ours
            if base:
                found.add(_target(base, modules))
            else:  # `from . import x`: the module x, or a name from the package's __init__
                found.update(alias.name if alias.name in modules else "__init__" for alias in node.names)
    found.discard(path.stem)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: imports_of(path, modules) for name, path in modules.items()}


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Import cycles as [a, b, ..., a]: every one a depth-first walk from each module meets, each set of
    modules named once."""
    cycles: dict[frozenset[str], list[str]] = {}

    def visit(node: str, path: list[str], done: set[str]) -> None:
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt in path:
                cycle = [*path[path.index(nxt) :], nxt]
                cycles.setdefault(frozenset(cycle), cycle)
            elif nxt not in done:
                visit(nxt, path, done)
        path.pop()
        done.add(node)

    for start in sorted(graph):
        visit(start, [], set())
    return list(cycles.values())


def _layer_of() -> dict[str, int]:
    return {module: rank for rank, members in enumerate(LAYERS.values()) for module in members}


def test_every_module_is_placed_in_a_layer() -> None:
    layer_of = _layer_of()
    unplaced = sorted(set(_modules()) - set(layer_of))
    assert not unplaced, f"calendly_sandbox modules without a layer (add them to LAYERS): {unplaced}"
    gone = sorted(set(layer_of) - set(_modules()))
    assert not gone, f"LAYERS names modules that do not exist: {gone}"


def test_no_import_cycle() -> None:
    cycles = find_cycles(import_graph())
    assert not cycles, "import cycles in calendly_sandbox:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_no_module_imports_a_higher_layer() -> None:
    layer_of = _layer_of()
    names = list(LAYERS)
    upward = [
        f"{module} ({names[layer_of[module]]}) imports {target} ({names[layer_of[target]]})"
        for module, targets in sorted(import_graph().items())
        for target in sorted(targets)
        if module in layer_of and target in layer_of and layer_of[target] > layer_of[module]
    ]
    assert not upward, "upward imports in calendly_sandbox:\n" + "\n".join(upward)


def test_the_checker_sees_every_kind_of_import(tmp_path: Path) -> None:
    """Function-level, TYPE_CHECKING, absolute and ``from . import`` imports all count; a cycle is named."""
    source = (
        "from typing import TYPE_CHECKING\n"
        "from . import b\n"
        "import calendly_sandbox.c\n"
        "if TYPE_CHECKING:\n"
        "    from .d import X\n"
        "def f():\n"
        "    from calendly_sandbox.e import Y\n"
        "    from . import Z\n"
    )
    (tmp_path / "a.py").write_text(source)
    modules = {name: tmp_path / f"{name}.py" for name in ("a", "b", "c", "d", "e")}
    assert imports_of(tmp_path / "a.py", modules) == {"b", "c", "d", "e", "__init__"}
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == [["a", "b", "c", "a"]]
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": {"b"}, "d": {"d"}}) == [["b", "c", "b"], ["d", "d"]]
    assert find_cycles({"a": {"b", "c"}, "b": {"c"}, "c": set()}) == []
