"""Readiness: can this process serve requests against the database it is given?"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

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


PROCESS_LOCAL_LIMITS = (
    "rate limits and sign-in lockouts use per-process memory:// storage: each worker counts "
    "on its own, so the limits are several times looser than configured; set "
    "TRACKER_RATELIMIT_STORAGE_URL=redis://host:6379"
)


def configuration_warnings(config: Mapping[str, Any]) -> list[str]:
    """Settings that work but weaken production; shown at start-up and by /readyz."""
    warnings = []
    storage = str(config.get("RATELIMIT_STORAGE_URI") or "memory://")
    if config.get("ENV_NAME") == "production" and storage.startswith("memory://"):
        warnings.append(PROCESS_LOCAL_LIMITS)
    return warnings


def readiness(app: Flask) -> dict:
    """A JSON-able report; status is "ok" only when every check passes. Configuration
    warnings are reported without failing readiness: the process can serve."""
    report = _checks(app)
    warnings = configuration_warnings(app.config)
    if warnings:
        report["warnings"] = warnings
    return report


def _checks(app: Flask) -> dict:
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
