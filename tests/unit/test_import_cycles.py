"""No import cycles between tracker modules, counting imports inside functions too.

An import inside a function hides a cycle from Python but not from the reader: the two
modules still need each other. This test reads every module with `ast` and fails listing
each cycle, so the shared part moves into a third module instead.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Edge:
    """One import of `target` by `source`, at `path:line`."""

    source: str
    target: str
    path: str
    line: int


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(test: ast.expr) -> bool:
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def _imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement, at any depth, except those under `if TYPE_CHECKING:`."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                yield from _imports(ast.Module(body=[child], type_ignores=[]))
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        yield from _imports(node)


def _absolute(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    if not is_package:
        base.pop()
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


class ImportGraph:
    """Module-to-module imports within one top-level package."""

    def __init__(self, root: Path, package: str) -> None:
        self.root = root
        self.package = package
        self.paths = {
            _module_name(path, root): path for path in sorted((root / package).rglob("*.py"))
        }
        self.trees = {
            name: ast.parse(path.read_text(), str(path)) for name, path in self.paths.items()
        }
        self.edges = [edge for name in self.paths for edge in self._edges_of(name)]

    def _is_package(self, name: str) -> bool:
        return self.paths[name].name == "__init__.py"

    def _ours(self, name: str) -> bool:
        return name == self.package or name.startswith(self.package + ".")

    def _defining_module(self, module: str, name: str, seen: frozenset[str] = frozenset()) -> str:
        """The module that really defines `name` when imported from package `module`.

        A package's `__init__` counts as a node only for names it defines itself; a name it
        re-exports (`from tracker.models.user import User`) leads to where it is defined.
        """
        if module not in self.paths or not self._is_package(module) or module in seen:
            return module
        for node in self.trees[module].body:
            if isinstance(node, ast.ImportFrom):
                source = _absolute(module, True, node)
                for alias in node.names:
                    if (alias.asname or alias.name) == name and self._ours(source):
                        submodule = f"{source}.{alias.name}"
                        if submodule in self.paths:
                            return submodule
                        return self._defining_module(source, alias.name, seen | {module})
        return module

    def _targets(self, name: str, node: ast.Import | ast.ImportFrom) -> Iterator[str]:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if self._ours(alias.name):
                    yield self._existing(alias.name)
            return
        source = _absolute(name, self._is_package(name), node)
        if not self._ours(source):
            return
        for alias in node.names:
            submodule = f"{source}.{alias.name}"
            if submodule in self.paths:
                yield submodule
            else:
                yield self._defining_module(self._existing(source), alias.name)

    def _existing(self, dotted: str) -> str:
        """The longest prefix of `dotted` that is one of our modules."""
        parts = dotted.split(".")
        while parts and ".".join(parts) not in self.paths:
            parts.pop()
        return ".".join(parts)

    def _edges_of(self, name: str) -> Iterator[Edge]:
        path = str(self.paths[name].relative_to(self.root))
        for node in _imports(self.trees[name]):
            for target in self._targets(name, node):
                if target and target != name:
                    yield Edge(name, target, path, node.lineno)

    def strongly_connected(self) -> list[list[str]]:
        """Tarjan's SCCs with more than one module: each one holds at least one cycle."""
        graph: dict[str, set[str]] = {name: set() for name in self.paths}
        for edge in self.edges:
            graph[edge.source].add(edge.target)
        index: dict[str, int] = {}
        low: dict[str, int] = {}
        stack: list[str] = []
        on_stack: set[str] = set()
        found: list[list[str]] = []

        def visit(node: str) -> None:
            index[node] = low[node] = len(index)
            stack.append(node)
            on_stack.add(node)
            for target in sorted(graph[node]):
                if target not in index:
                    visit(target)
                    low[node] = min(low[node], low[target])
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))

        for name in sorted(graph):
            if name not in index:
                visit(name)
        return sorted(found)

    def cycles(self, component: list[str], limit: int = 20) -> list[list[str]]:
        """Simple cycles inside one component, each starting at its smallest module."""
        members = set(component)
        graph: dict[str, set[str]] = {name: set() for name in component}
        for edge in self.edges:
            if edge.source in members and edge.target in members:
                graph[edge.source].add(edge.target)
        found: list[list[str]] = []

        def walk(start: str, path: list[str]) -> None:
            for target in sorted(graph[path[-1]]):
                if len(found) >= limit:
                    return
                if target == start:
                    found.append([*path, start])
                elif target > start and target not in path:
                    walk(start, [*path, target])

        for start in sorted(component):
            walk(start, [start])
        return found

    def report(self) -> str:
        """Every cycle, with the import lines that make it, for the failure message."""
        lines = []
        for component in self.strongly_connected():
            lines.append(f"Import cycle among {', '.join(component)}:")
            lines.extend(f"  {' -> '.join(cycle)}" for cycle in self.cycles(component))
            members = set(component)
            lines.append("  made by:")
            lines.extend(
                f"    {edge.path}:{edge.line}  {edge.source} -> {edge.target}"
                for edge in self.edges
                if edge.source in members and edge.target in members
            )
        return "\n".join(lines)


def test_tracker_has_no_import_cycles() -> None:
    graph = ImportGraph(ROOT, "tracker")
    report = graph.report()
    assert not report, (
        "Modules that import each other (directly or through others, including imports "
        "inside functions). Move the shared part into a third module named after its "
        "concept:\n" + report
    )


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_cycle_through_an_import_inside_a_function_is_reported(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/services/__init__.py": "",
            "pkg/services/a.py": "from pkg.services import b\n",
            "pkg/services/b.py": "def f():\n    from pkg.services.a import thing\n",
        },
    )
    graph = ImportGraph(tmp_path, "pkg")
    assert graph.strongly_connected() == [["pkg.services.a", "pkg.services.b"]]
    assert "pkg/services/b.py:2  pkg.services.b -> pkg.services.a" in graph.report()


def test_type_checking_imports_and_reexports_are_not_cycles(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "pkg/__init__.py": "def create_app():\n    from pkg.models import User\n",
            "pkg/models/__init__.py": "from pkg.models.user import User\nfrom .team import Team\n",
            "pkg/models/user.py": (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n    from pkg.models.team import Team\n"
            ),
            "pkg/models/team.py": "from pkg.models import User\nfrom pkg import create_app\n",
        },
    )
    graph = ImportGraph(tmp_path, "pkg")
    edges = {(edge.source, edge.target) for edge in graph.edges}
    assert ("pkg.models.team", "pkg.models.user") in edges  # not to the package __init__
    assert ("pkg.models.team", "pkg") in edges  # create_app is defined in pkg itself
    assert ("pkg.models.user", "pkg.models.team") not in edges
    assert graph.strongly_connected() == []
