"""The domain core stays pure: it must run without Flask or a database."""

import ast
from pathlib import Path

import pytest

DOMAIN = Path(__file__).resolve().parents[2] / "tracker" / "domain"
FORBIDDEN = (
    "flask",
    "flask_sqlalchemy",
    "flask_login",
    "sqlalchemy",
    "wtforms",
    "tracker.models",
    "tracker.services",
    "tracker.web",
    "tracker.extensions",
)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", sorted(DOMAIN.glob("*.py")), ids=lambda p: p.name)
def test_domain_module_imports_neither_flask_nor_sqlalchemy(path: Path) -> None:
    bad = {
        name
        for name in _imports(path)
        if name.split(".")[0] in FORBIDDEN
        or name in FORBIDDEN
        or any(name.startswith(f + ".") for f in FORBIDDEN)
    }
    assert not bad, f"{path.name} imports {sorted(bad)}"


def test_there_are_domain_modules_to_check() -> None:
    assert len(list(DOMAIN.glob("*.py"))) >= 2
