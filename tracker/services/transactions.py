"""The request's unit of work as the web and API edges end it: discarded, or held as one."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from tracker.database import one_transaction
from tracker.extensions import db


def discard() -> None:
    """Roll back whatever a failed use case left unfinished in the session."""
    db.session.rollback()


def discard_after_outage() -> None:
    """Roll back after the database went away; a session whose connection is gone is reset."""
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - the connection is gone; reset the session
        db.session.close()


@contextmanager
def held_together() -> Iterator[None]:
    """Use cases run inside commit together with the caller's own work, or not at all."""
    with one_transaction(db.session):
        yield
