"""Throw-away databases for the benchmarks: the real app and migrations, history in bulk.

People, partners and the few conflicts a benchmark acts on go through the services. The
history (tens of thousands of conflicts, their event trail, SLA pauses, ratings and the
trust ledger with its tallies) is inserted in bulk, with the column values the services
would have written: clocks, deadlines and states come from tracker.domain.clock, trust
weights from tracker.domain.trust, tallies from replaying those weights in order.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import Flask  # noqa: E402
from sqlalchemy import create_engine, event, text  # noqa: E402
from sqlalchemy.engine import Engine, make_url  # noqa: E402

from config import TestConfig  # noqa: E402
from tracker import create_app  # noqa: E402
from tracker.extensions import db  # noqa: E402
from tracker.services.demo_history import (  # noqa: E402, F401  (the benchmarks' names)
    HISTORY_DAYS,
    PASSWORD,
    Cast,
    HistoryCounts,
    PartnerInfo,
    create_cast,
)
from tracker.services.demo_history import insert_history as _insert_history  # noqa: E402

DATABASE_URL_ENV = "TRACKER_BENCH_DATABASE_URL"


def log(message: str) -> None:
    """Progress goes to stderr, so the table on stdout stays clean."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- the database and the app ------------------------------------------------------------


def requested_database_url(cli_value: str | None) -> str | None:
    """--database-url, else TRACKER_BENCH_DATABASE_URL, else None (a temp SQLite file)."""
    return cli_value or os.environ.get(DATABASE_URL_ENV) or None


def _normalise(url: str) -> str:
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@contextmanager
def throwaway_database(server_url: str | None, template: str | None = None) -> Iterator[str]:
    """A private, empty database: a temp SQLite file, or a new database on that server
    (a copy of `template` when given)."""
    if not server_url:
        with tempfile.TemporaryDirectory(prefix="trustomer-bench-") as tmp:
            yield f"sqlite:///{Path(tmp) / 'bench.db'}"
        return
    server = make_url(_normalise(server_url))
    if server.get_backend_name() != "postgresql":
        raise SystemExit(f"--database-url must be a PostgreSQL URL, got {server.drivername}")
    name = f"trustomer_bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        copy = f' TEMPLATE "{template}"' if template else ""
        conn.execute(text(f'CREATE DATABASE "{name}"{copy}'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def bench_config(database_url: str, upload_dir: str) -> TestConfig:
    config = TestConfig()
    config.SQLALCHEMY_DATABASE_URI = database_url
    config.UPLOAD_DIR = upload_dir
    config.WTF_CSRF_ENABLED = False  # the page benchmark posts the sign-in form directly
    config.LOG_LEVEL = "WARNING"  # no log line per request
    config.WEBHOOK_URL = ""
    config.ESCALATION_EMAIL = "alliance-escalations@bench.example"
    # As in production: notices wait out their window and are composed when delivered.
    config.MAIL_COALESCE_SECONDS = 120
    return config


@contextmanager
def bench_app(server_url: str | None) -> Iterator[Flask]:
    """The app on a freshly migrated throw-away database, removed again on exit."""
    from flask_migrate import upgrade

    with (
        throwaway_database(server_url) as database_url,
        tempfile.TemporaryDirectory(prefix="trustomer-bench-uploads-") as uploads,
    ):
        app = create_app(bench_config(database_url, uploads))
        with app.app_context():
            logging.disable(logging.INFO)  # alembic's per-migration lines
            try:
                upgrade()
            finally:
                logging.disable(logging.NOTSET)
        try:
            yield app
        finally:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


def dialect() -> str:
    return db.engine.dialect.name


def analyze_if_postgresql() -> None:
    """PostgreSQL's autovacuum would have analysed a table this size; SQLite never does."""
    if dialect() == "postgresql":
        db.session.execute(text("ANALYZE"))
        db.session.commit()


# --- SQL capture and query plans ---------------------------------------------------------


@dataclass
class Statement:
    sql: str
    parameters: Any
    seconds: float = 0.0


@contextmanager
def captured_statements(engine: Engine) -> Iterator[list[Statement]]:
    """Every statement `engine` runs inside the block, with its parameters and duration."""
    seen: list[Statement] = []

    def before(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        conn.info.setdefault("bench_started", []).append(time.perf_counter())

    def after(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        started = conn.info["bench_started"].pop()
        if not executemany:
            seen.append(Statement(statement, parameters, time.perf_counter() - started))

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)


def query_plan(statement: Statement, *, analyze: bool = False) -> list[str]:
    """EXPLAIN QUERY PLAN (SQLite) or EXPLAIN (PostgreSQL; `analyze`: EXPLAIN ANALYZE, the
    rows each node really read) of a captured statement."""
    pg_prefix = "EXPLAIN (ANALYZE, BUFFERS) " if analyze else "EXPLAIN "
    prefix = "EXPLAIN QUERY PLAN " if dialect() == "sqlite" else pg_prefix
    connection = db.session.connection()
    rows = connection.exec_driver_sql(prefix + statement.sql, statement.parameters).all()
    db.session.rollback()
    if dialect() == "sqlite":
        return [row[-1] for row in rows]
    return [row[0] for row in rows]


def insert_history(cast: Cast, **options: Any) -> HistoryCounts:
    """The service's bulk history, with its progress on stderr."""
    return _insert_history(
        cast, progress=lambda done, total: log(f"  inserted {done:,} of {total:,} conflicts"),
        **options,
    )  # fmt: skip


def timed(work: Callable[[], object]) -> tuple[float, object]:
    started = time.perf_counter()
    result = work()
    return time.perf_counter() - started, result
