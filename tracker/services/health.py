"""Readiness: can this process serve requests against the database it is given?"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import inspect, text

from tracker.extensions import db

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


_REVISION = re.compile(r"^revision(?:: *\w+)? *= *['\"]([^'\"]+)['\"]", re.MULTILINE)
_DOWN_REVISION = re.compile(r"^down_revision(?:: *[^=]+)? *= *(.+)$", re.MULTILINE)
_QUOTED = re.compile(r"['\"]([^'\"]+)['\"]")


@lru_cache(maxsize=1)
def migration_heads() -> frozenset[str]:
    """The revisions no other revision builds on, read from the migration files' headers.
    Alembic itself (about 11 MiB with Mako and Pygments) stays out of web workers: /readyz
    asks this of every worker, while only `flask db` needs Alembic."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        revision = _REVISION.search(source)
        if revision is None:
            continue
        revisions.add(revision.group(1))
        down = _DOWN_REVISION.search(source)
        if down is not None:
            parents.update(_QUOTED.findall(down.group(1)))
    return frozenset(revisions - parents)


def current_revisions() -> set[str]:
    """What `alembic_version` records (Alembic's own table, read without Alembic)."""
    with db.engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return set()
        rows = connection.execute(text("SELECT version_num FROM alembic_version"))
        return {row[0] for row in rows}


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
