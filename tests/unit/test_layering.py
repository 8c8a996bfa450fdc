"""Web and API read and write through services: they import no models and no database session.

A name wanted only for type annotations may be imported under `if TYPE_CHECKING:`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TRACKER = Path(__file__).resolve().parents[2] / "tracker"
EDGES = ("web", "api")
FORBIDDEN_MODULES = ("tracker.models",)
FORBIDDEN_NAMES = {"tracker.extensions": {"db"}, "tracker": {"models"}}


def _edge_modules() -> list[Path]:
    return sorted(path for edge in EDGES for path in (TRACKER / edge).rglob("*.py"))


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_nodes(tree: ast.AST):  # type: ignore[no-untyped-def]
    """Every node that runs, at module level or inside functions: `if TYPE_CHECKING:` bodies
    (but not their `else:`) are skipped."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))


def _absolute(module: str | None, level: int, path: Path) -> str:
    if not level:
        return module or ""
    package = path.relative_to(TRACKER.parent).with_suffix("").parts[:-level]
    return ".".join([*package, *([module] if module else [])])


def violations(source: str, path: Path) -> list[str]:
    """`path:line what` for each forbidden import or use of `db` in `source`, the text of the
    module at `path` (which resolves relative imports)."""
    tree = ast.parse(source, filename=str(path))
    where = path.relative_to(TRACKER.parent)
    found = []
    for node in _runtime_nodes(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in FORBIDDEN_MODULES or alias.name.startswith(
                    tuple(m + "." for m in FORBIDDEN_MODULES)
                ):
                    found.append(f"{where}:{node.lineno} imports {alias.name}")
        elif isinstance(node, ast.ImportFrom):
            module = _absolute(node.module, node.level, path)
            names = {alias.name for alias in node.names}
            if module in FORBIDDEN_MODULES or module.startswith(
                tuple(m + "." for m in FORBIDDEN_MODULES)
            ):
                found.append(f"{where}:{node.lineno} imports {module}")
            elif bad := names & FORBIDDEN_NAMES.get(module, set()):
                found.append(
                    f"{where}:{node.lineno} imports {', '.join(sorted(bad))} from {module}"
                )
        elif isinstance(node, ast.Attribute) and node.attr in ("db", "session"):
            owner = node.value
            owner_name = owner.id if isinstance(owner, ast.Name) else getattr(owner, "attr", "")
            if (node.attr, owner_name) in (("session", "db"), ("db", "extensions")):
                found.append(f"{where}:{node.lineno} uses {owner_name}.{node.attr}")
    return sorted(found, key=lambda problem: int(problem.split(" ")[0].rsplit(":", 1)[1]))


@pytest.mark.parametrize("path", _edge_modules(), ids=lambda p: str(p.relative_to(TRACKER)))
def test_web_and_api_modules_go_through_services(path: Path) -> None:
    problems = violations(path.read_text(), path)
    assert not problems, "Read and write through a service instead:\n" + "\n".join(problems)


def test_the_check_sees_imports_inside_functions_and_skips_type_checking_blocks() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from tracker.models import User\n"
        "else:\n"
        "    from tracker import models\n"
        "def view():\n"
        "    from tracker.extensions import db, limiter\n"
        "    from ...models.user import User\n"
        "    import tracker.models.conflict\n"
        "    return db.session.get(User, 1)\n"
    )
    found = violations(source, TRACKER / "web" / "probe" / "routes.py")
    lines = [int(problem.split(" ", 1)[0].rsplit(":", 1)[1]) for problem in found]
    assert sorted(lines) == [5, 7, 8, 9, 10], found
    assert any(problem.endswith("imports tracker.models.user") for problem in found)


def test_there_are_edge_modules_to_check() -> None:
    assert len(_edge_modules()) >= 20
