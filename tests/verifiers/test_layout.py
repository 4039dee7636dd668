"""The verifiers package's layout: one subpackage per concern, no import cycles between modules.

Imports are read with `ast`, at module level and inside functions alike (a function-level
import only defers a cycle to the first call). Imports under `if TYPE_CHECKING:` never run and
do not count. `from package import Name` counts as an import of the submodule that defines
`Name` when the package resolves its names lazily (its `_EXPORTS` table).
"""

from __future__ import annotations

import ast
from pathlib import Path

import halo_forge.verifiers

PACKAGE = "halo_forge.verifiers"
ROOT = Path(halo_forge.verifiers.__file__).parent


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join((PACKAGE, *parts))


def package_modules() -> dict[str, ast.Module]:
    return {module_name(path): ast.parse(path.read_text()) for path in ROOT.rglob("*.py")}


def lazy_exports(tree: ast.Module) -> dict[str, str]:
    """A package's `_EXPORTS` table: public name -> the submodule that defines it."""
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "_EXPORTS" for target in node.targets
        ):
            return ast.literal_eval(node.value)
    return {}


def runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node that can run: all of them but the bodies of `if TYPE_CHECKING:` blocks."""
    found = []
    pending = [tree]
    while pending:
        node = pending.pop()
        found.append(node)
        for child in ast.iter_child_nodes(node):
            test = child.test if isinstance(child, ast.If) else None
            if isinstance(test, ast.Name) and test.id == "TYPE_CHECKING":
                pending.extend(child.orelse)
            else:
                pending.append(child)
    return found


def imported_modules(name: str, tree: ast.Module, modules: dict[str, ast.Module]) -> set[str]:
    """The package's modules that `name` imports when it runs."""
    found = set()
    for node in runtime_nodes(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module is not None:
            found.add(node.module)
            exports = lazy_exports(modules[node.module]) if node.module in modules else {}
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                if submodule in modules:
                    found.add(submodule)
                elif alias.name in exports:
                    found.add(f"{node.module}.{exports[alias.name]}")
    return {module for module in found if module in modules and module != name}


def import_graph() -> dict[str, set[str]]:
    modules = package_modules()
    return {name: imported_modules(name, tree, modules) for name, tree in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    lowest: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = lowest[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in graph[module]:
            if target not in index:
                visit(target)
                lowest[module] = min(lowest[module], lowest[target])
            elif target in on_stack:
                lowest[module] = min(lowest[module], index[target])
        if lowest[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1 or module in graph[module]:
                groups.append(sorted(group))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return groups


def test_verifier_modules_import_each_other_without_cycles() -> None:
    assert cycles(import_graph()) == []


def test_cycle_finder_reports_a_cycle_through_a_function_level_import() -> None:
    source = "import os\n\ndef late():\n    from halo_forge.verifiers.a import x\n"
    modules = {
        f"{PACKAGE}.a": ast.parse(f"from {PACKAGE}.b import y\n"),
        f"{PACKAGE}.b": ast.parse(source),
    }
    graph = {name: imported_modules(name, tree, modules) for name, tree in modules.items()}
    assert cycles(graph) == [[f"{PACKAGE}.a", f"{PACKAGE}.b"]]


def test_imports_under_type_checking_do_not_count() -> None:
    source = f"from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from {PACKAGE}.a import x\n"
    modules = {
        f"{PACKAGE}.a": ast.parse(f"import {PACKAGE}.b\n"),
        f"{PACKAGE}.b": ast.parse(source),
    }
    assert imported_modules(f"{PACKAGE}.b", modules[f"{PACKAGE}.b"], modules) == set()


def test_each_concern_is_a_subpackage_and_the_top_level_keeps_the_contract() -> None:
    subpackages = {path.name for path in ROOT.iterdir() if (path / "__init__.py").is_file()}
    assert subpackages == {
        "build",
        "cpp",
        "executors",
        "integrations",
        "languages",
        "python",
        "remote",
        "sandbox",
    }
    top_level = {path.stem for path in ROOT.glob("*.py")}
    assert top_level == {
        "__init__",
        "auto",
        "base",
        "batch",
        "cache",
        "custom",
        "extract",
        "language_names",
        "records",
        "registry",
        "requirements",
        "result",
    }
