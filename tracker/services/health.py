"""Readiness: can this process serve requests against the database it is given?"""

from __future__ import annotations

from pathlib import Path

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import text

from tracker.extensions import db

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


def migration_heads() -> set[str]:
    return set(ScriptDirectory(str(MIGRATIONS_DIR)).get_heads())


def current_revisions() -> set[str]:
    with db.engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())


def readiness(app: Flask) -> dict:
    """A JSON-able report; status is "ok" only when every check passes."""
    try:
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
    except Exception as exc:  # any driver error means not ready
        app.logger.warning("readiness: database unreachable: %s", exc)
        return {"status": "unavailable", "database": "unreachable"}
    heads, current = migration_heads(), current_revisions()
    if current != heads:
        return {
            "status": "unavailable",
            "database": "ok",
            "migrations": "behind",
            "current": sorted(current),
            "head": sorted(heads),
        }
    return {"status": "ok", "database": "ok", "migrations": "at head", "head": sorted(heads)}
