"""The database layer's rules: engine settings, write locks, upserts and held commits."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from typing import Any, TypeVar

from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import Insert, Table, event, exc, select, text
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

T = TypeVar("T")


def configure_engine_events(engine: Engine) -> None:
    """SQLite: WAL for concurrent readers, a busy timeout instead of instant lock errors, FKs on."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def set_sqlite_pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


def lock_for_write(session: Session) -> None:
    """Take the database's write lock before reading what a write will depend on.

    PostgreSQL locks rows (`SELECT … FOR UPDATE`) and needs nothing here. SQLite ignores
    `FOR UPDATE`, and pysqlite only opens a transaction at the first INSERT/UPDATE/DELETE,
    so a status read before that write may be stale by the time it is written: two requests
    would both pass the same check. `BEGIN IMMEDIATE` takes the single write lock first (a
    second writer waits out the busy timeout), so whatever is read next is the latest state
    and stays so until commit. Inside a transaction that has already written, the lock is
    held already.
    """
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return
    dbapi_connection = connection.connection.dbapi_connection
    if dbapi_connection is not None and not dbapi_connection.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def insert_if_absent(session: Session, model: type, values: dict, keys: list[str]) -> None:
    """`INSERT … ON CONFLICT DO NOTHING` on the unique `keys`: the first row wins, a twin
    writes nothing and raises nothing (select-then-insert would race into a UniqueViolation).
    """
    table = model.__table__
    statement = _insert_if_absent(session.connection().dialect.name, table, tuple(keys))
    session.execute(statement, values)


def insert_returning_id_if_absent(
    session: Session, model: type, values: dict, keys: list[str]
) -> int | None:
    """`insert_if_absent` that says who won: the new row's id, or None if a twin was there
    first (RETURNING, not rowcount: psycopg reports -1 for `ON CONFLICT DO NOTHING`)."""
    table = model.__table__
    statement = _insert_if_absent(session.connection().dialect.name, table, tuple(keys))
    return session.execute(statement.values(values).returning(table.c.id)).scalar()


@cache
def _insert_if_absent(dialect: str, table: Table, keys: tuple[str, ...]) -> Insert:
    # Built once per table (its cache key too): a call binds only its values, instead of
    # building and keying a statement with literal values each time.
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    return insert(table).on_conflict_do_nothing(index_elements=list(keys) or None)


def add_to_counts(
    session: Session, model: type, keys: dict, increments: dict[str, int | float]
) -> None:
    """`INSERT … ON CONFLICT (keys) DO UPDATE SET n = n + excluded.n`: a running total kept
    by one atomic statement, however many writers add to the same row at once."""
    add_to_counts_many(session, model, list(keys), list(increments), [{**keys, **increments}])


def add_to_counts_many(
    session: Session,
    model: type,
    keys: Sequence[str],
    increments: Sequence[str],
    rows: list[dict[str, Any]],
) -> None:
    """`add_to_counts` for many rows in one executemany; the rows' keys must differ (one
    statement may not update a row twice on PostgreSQL)."""
    if not rows:
        return
    dialect = session.connection().dialect.name
    session.execute(_add_to_counts(dialect, model.__table__, tuple(keys), tuple(increments)), rows)


@cache
def _add_to_counts(
    dialect: str, table: Table, keys: tuple[str, ...], increments: tuple[str, ...]
) -> Insert:
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(table)
    return statement.on_conflict_do_update(
        index_elements=list(keys),
        set_={name: table.c[name] + statement.excluded[name] for name in increments},
    )


_DEFERRED = "tracker.deferred_inserts"


def defer_insert(session: Session, model: type, values: dict) -> None:
    """Queue a row for `flush_deferred()`: the rows of one table go out together, as one
    `INSERT … ON CONFLICT DO NOTHING`, instead of a SELECT and an INSERT each (a fan-out to
    many people is one statement per table). The table's unique keys make a repeat harmless.
    """
    session.info.setdefault(_DEFERRED, {}).setdefault(model, []).append(values)


def same_columns(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows for one executemany, which wants one set of columns: a key some rows lack is
    None in them."""
    columns = sorted({name for row in rows for name in row})
    return [{name: row.get(name) for name in columns} for row in rows]


def flush_deferred(session: Session) -> None:
    """Write every queued row (see `defer_insert`), in the session's transaction."""
    pending = session.info.pop(_DEFERRED, None)
    if not pending:
        return
    dialect = session.connection().dialect.name
    for model, rows in pending.items():
        values = same_columns(rows)
        # No conflict target: a row that hits any of the table's unique keys is skipped, so
        # rows deduplicated on different keys go out together; one statement, compiled once
        # and cached, executed for all rows (executemany).
        session.execute(_insert_if_absent(dialect, model.__table__, ()), values)


@event.listens_for(Session, "before_commit")
def _deferred_rows_commit_too(session: Session) -> None:
    flush_deferred(session)


@event.listens_for(Session, "after_soft_rollback")
def _deferred_rows_roll_back_too(session: Session, previous_transaction: object) -> None:
    # Any rollback, a savepoint's too (a conflict the sweep failed on): its queued rows go.
    session.info.pop(_DEFERRED, None)


_MEMO = "tracker.transaction_memo"


def transaction_memo(session: Session, key: tuple, load: Callable[[], T]) -> T:
    """`load()` once per transaction for `key`: a fan-out over a sweep's batch reads the same
    people, preferences and hooks once, not once per conflict. Forgotten at commit and
    rollback, so nothing outlives the transaction that read it."""
    memo = session.info.setdefault(_MEMO, {})
    if key not in memo:
        memo[key] = load()
    return memo[key]


@event.listens_for(Session, "after_transaction_end")
def _forget_memo(session: Session, transaction: object) -> None:
    if getattr(transaction, "parent", None) is None:  # the outermost, not a savepoint
        session.info.pop(_MEMO, None)


class TrackerSession(FlaskSession):
    """Flask-SQLAlchemy's session, whose commit() can be held by `one_transaction()`."""

    def commit(self) -> None:
        if self.info.get(_HELD):
            self.flush()  # the use case's work stays in the caller's transaction
            return
        super().commit()

    def commit_keeping_values(self) -> None:
        """Commit without expiring the loaded objects: a use case whose caller answers with
        the rows it has just written (a create) spares that answer a re-read of each."""
        expire, self.expire_on_commit = self.expire_on_commit, False
        try:
            self.commit()
        finally:
            self.expire_on_commit = expire

    def rollback(self) -> None:
        if self.info.get(_HELD):
            self.info[_ROLLED_BACK] = True
        self.info.pop(_DEFERRED, None)  # even with no transaction begun yet
        super().rollback()


_HELD = "tracker.commit_held"
_ROLLED_BACK = "tracker.rolled_back_while_held"


@contextmanager
def one_transaction(session: Session) -> Iterator[None]:
    """Run use cases, which commit as they finish, as one transaction with the caller's work.

    Inside, a use case's commit() only flushes; leaving the block commits everything at once,
    and an error rolls everything back. An idempotency key is stored this way in the same
    transaction as the work it stands for: a worker killed half-way leaves neither behind.
    """
    session.info[_HELD] = True
    session.info.pop(_ROLLED_BACK, None)
    try:
        yield
    except BaseException:
        session.info.pop(_HELD, None)
        session.rollback()
        raise
    session.info.pop(_HELD, None)
    if session.info.pop(_ROLLED_BACK, False):
        session.rollback()
        raise RuntimeError("a use case rolled back inside one_transaction(); nothing was kept")
    session.commit()


# PostgreSQL SQLSTATEs that mean "not now" rather than "wrong": connection exceptions
# (class 08), the server shutting down or starting (57P01-57P03), too many connections.
_UNAVAILABLE_SQLSTATES = ("08", "57P01", "57P02", "57P03", "53300")
# SQLite's equivalents, by message: a lock held past the busy timeout, a file it cannot open.
_UNAVAILABLE_SQLITE = ("database is locked", "unable to open database", "disk i/o error")


def is_unavailable(error: BaseException) -> bool:
    """Whether `error` means the database cannot be reached now (down, restarting, pool full).

    The web answers these with 503 and Retry-After, not 500: nothing is wrong with the request.
    A deadlock, a serialization failure or a schema error is a bug to see: those stay 500s,
    logged with their traceback.
    """
    if isinstance(error, exc.DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, (exc.DisconnectionError, exc.TimeoutError)):
        return True
    if not isinstance(error, (exc.OperationalError, exc.InterfaceError)):
        return False
    original = error.orig
    if type(original).__module__.startswith("sqlite3"):
        return any(text in str(original).lower() for text in _UNAVAILABLE_SQLITE)
    sqlstate = getattr(original, "sqlstate", None)
    if sqlstate is None:  # psycopg: no server answered (refused, unreachable, timed out)
        return True
    return sqlstate.startswith(_UNAVAILABLE_SQLSTATES)


def grouped_once(
    session: Session, key: str, group_column: Any, ids: Iterable[int], *where: Any
) -> dict[int, list[Any]]:
    """The rows whose `group_column` is one of `ids` (and that meet `where`), grouped by it
    and read at most once per transaction for each id: the ids not yet read, in one
    statement (a sweep's batch asks for the same partners again and again)."""
    known: dict[int, list[Any]] = transaction_memo(session, (key,), dict)
    wanted = list(dict.fromkeys(ids))
    missing = [i for i in wanted if i not in known]
    if missing:
        for group in missing:
            known[group] = []
        model = group_column.class_
        query = select(model).where(group_column.in_(missing), *where).order_by(model.id)
        for row in session.scalars(query):
            known[getattr(row, group_column.key)].append(row)
    return {i: known[i] for i in wanted}


def refresh_statistics(session: Session) -> None:
    """Gather the planner's statistics, so that it reads lists from their indexes (the queue's
    order, the sweep's due selection) instead of sorting. SQLite keeps none until ANALYZE
    (sampled here, so a large database is not read whole); PostgreSQL's autovacuum keeps
    them, and a bulk load wants them at once. Commits."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("PRAGMA analysis_limit=1000"))
    session.execute(text("ANALYZE"))
    session.commit()
