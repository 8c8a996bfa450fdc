"""The SQL statements a block of work sends, for tests that count or read them.

One listener for every such test, so that each counts the same thing: what reaches the
DB-API cursor (`before_cursor_execute`), one entry per execute or executemany."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

from sqlalchemy import event

from tracker.extensions import db


class Sent(NamedTuple):
    """One statement as the driver received it."""

    statement: str
    parameters: Any


@contextmanager
def _listening(keep: Callable[[str, Any], None]) -> Iterator[None]:
    def seen(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        keep(statement, parameters)

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        yield
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)


@contextmanager
def counting_statements() -> Iterator[list[str]]:
    """Every SQL statement sent to the database inside the block."""
    statements: list[str] = []
    with _listening(lambda statement, parameters: statements.append(statement)):
        yield statements


@contextmanager
def sent_statements() -> Iterator[list[Sent]]:
    """Every SQL statement sent inside the block, with its parameters."""
    sent: list[Sent] = []
    with _listening(lambda statement, parameters: sent.append(Sent(statement, parameters))):
        yield sent
