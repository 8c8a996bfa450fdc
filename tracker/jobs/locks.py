"""One process at a time per job, across hosts: a locked row in job_locks.

PostgreSQL: `SELECT ... FOR UPDATE SKIP LOCKED` on the job's row; a second process sees
no row and skips this round. SQLite: the first statement of the transaction writes the
row, taking the database's single write lock; a second process waits (busy timeout) and
then finds the work done. Either way the lock lasts exactly as long as the transaction.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from tracker.extensions import db
from tracker.models import JobLock


def holder_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _ensure_row(name: str) -> None:
    if db.session.get(JobLock, name) is not None:
        db.session.rollback()
        return
    db.session.add(JobLock(name=name))
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()


def acquire(name: str, now: datetime) -> bool:
    """Take the job's lock inside a new transaction; False when another process holds it."""
    _ensure_row(name)
    holder = holder_name()
    if db.engine.dialect.name == "postgresql":
        row = db.session.scalar(
            select(JobLock).where(JobLock.name == name).with_for_update(skip_locked=True)
        )
        if row is None:
            db.session.rollback()
            return False
        row.holder, row.acquired_at = holder, now
        db.session.flush()
        return True
    try:
        db.session.execute(
            update(JobLock).where(JobLock.name == name).values(holder=holder, acquired_at=now)
        )
    except OperationalError:  # still locked after the busy timeout
        db.session.rollback()
        return False
    return True
