"""Which database errors are "try again later" (503) and which are bugs to see (500)."""

from __future__ import annotations

import sqlite3

import psycopg
import pytest
from sqlalchemy import exc

from tracker.database import is_unavailable


def _wrapped(original: BaseException, kind=exc.OperationalError):  # type: ignore[no-untyped-def]
    return kind("SELECT 1", {}, original)


@pytest.mark.parametrize(
    ("original", "unavailable"),
    [
        (sqlite3.OperationalError("database is locked"), True),
        (sqlite3.OperationalError("unable to open database file"), True),
        (sqlite3.OperationalError("no such column: conflicts.nope"), False),
        (sqlite3.OperationalError("no such table: conflicts"), False),
        (psycopg.OperationalError("connection failed: Connection refused"), True),
        (psycopg.errors.AdminShutdown("terminating connection"), True),
        (psycopg.errors.TooManyConnections("too many clients"), True),
        (psycopg.errors.DeadlockDetected("deadlock detected"), False),
        (psycopg.errors.SerializationFailure("could not serialize access"), False),
    ],
)
def test_only_an_unreachable_database_is_a_503(original, unavailable: bool) -> None:
    assert is_unavailable(_wrapped(original)) is unavailable


def test_other_errors_are_not_unavailability() -> None:
    assert not is_unavailable(ValueError("nope"))
    assert not is_unavailable(_wrapped(sqlite3.IntegrityError("UNIQUE"), exc.IntegrityError))
