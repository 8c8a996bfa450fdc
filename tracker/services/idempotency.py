"""Idempotency keys: a retried POST gets the first response instead of doing it twice.

A request with a key *claims* it by inserting the key's row, and the row is committed in
the same transaction as the work and its response (`database.one_transaction`): a worker
killed half-way leaves neither the work nor the key behind, and a retry simply runs. A twin
that arrives meanwhile waits on the key's unique index (PostgreSQL) or the write lock
(SQLite) until the first has committed, then gets the stored response. A key used for a
different request is a 422. Rows older than RETENTION are purged.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from tracker.database import lock_for_write
from tracker.extensions import db
from tracker.models import IdempotencyRecord, User
from tracker.services.errors import InvalidInput, StateConflict

MAX_KEY = 200
# response_status of a claim until its response is stored in the same transaction: never
# committed so (revision 0008 deleted the rows a killed worker had left that way).
IN_PROGRESS = 0
RETENTION = timedelta(hours=24)
PURGE_EVERY = timedelta(hours=1)
STILL_PROCESSING = "A request with this Idempotency-Key is still being processed; retry shortly."
OTHER_REQUEST = "This Idempotency-Key was already used for a different request."

# When this process last purged expired records (opportunistic, from the claim path).
_last_purge: datetime | None = None


@dataclass(frozen=True)
class Replay:
    status: int
    body: Any


@dataclass(frozen=True)
class Claim:
    """This request owns the key: `record_id` is its in-progress row."""

    record_id: int


def fingerprint(method: str, path: str, body: bytes) -> str:
    """What makes two requests "the same": method, path and the exact body."""
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def check_key(key: str) -> str:
    key = key.strip()
    if not key or len(key) > MAX_KEY or not key.isprintable():
        message = f"An Idempotency-Key is 1 to {MAX_KEY} printable characters."
        raise InvalidInput(message, field_errors={"Idempotency-Key": message})
    return key


def purge_expired(now: datetime) -> int:
    """Delete records created more than RETENTION before `now` (one DELETE on the index)."""
    result = db.session.execute(
        delete(IdempotencyRecord).where(IdempotencyRecord.created_at < now - RETENTION)
    )
    db.session.commit()
    return result.rowcount or 0


def _maybe_purge(now: datetime) -> None:
    global _last_purge
    if _last_purge is not None and abs(now - _last_purge) < PURGE_EVERY:
        return
    _last_purge = now
    purge_expired(now)


def _existing(user: User, key: str, request_hash: str) -> Replay | None:
    """The key's stored response, or None; InvalidInput if it was for another request."""
    record = db.session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.user_id == user.id, IdempotencyRecord.key == key
        )
    )
    if record is None:
        return None
    if record.request_hash != request_hash:
        raise InvalidInput(OTHER_REQUEST, field_errors={"Idempotency-Key": OTHER_REQUEST})
    return Replay(record.response_status, record.response_body)


def claim(
    user: User, key: str, *, method: str, path: str, request_hash: str, now: datetime
) -> Claim | Replay:
    """Claim `key` for this request inside an open transaction, or the response to replay.

    The claim is flushed, not committed: run the work and `complete()` in the same
    transaction (`database.one_transaction`). Raises InvalidInput (422) when the key was used
    for a different request.
    """
    _maybe_purge(now)
    user_id = user.id
    for _ in range(3):  # a twin's transaction may roll back between our insert and read
        lock_for_write(db.session)  # SQLite: a twin's claim and work finish before we look
        replay = _existing(user, key, request_hash)
        if replay is not None:
            db.session.rollback()
            return replay
        record = IdempotencyRecord(
            user_id=user_id,
            key=key,
            method=method.upper(),
            path=path[:300],
            request_hash=request_hash,
            response_status=IN_PROGRESS,
            response_body={},
            created_at=now,
        )
        db.session.add(record)
        try:
            db.session.flush()  # PostgreSQL: waits here while a twin's claim is uncommitted
        except IntegrityError:
            db.session.rollback()
            continue
        return Claim(record.id)
    raise StateConflict(STILL_PROCESSING)


def complete(claimed: Claim, *, status: int, body: Any) -> None:
    """Store the response in the claim's transaction; it commits with the work."""
    db.session.execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.id == claimed.record_id)
        .values(response_status=status, response_body=body)
    )


def forget(claimed: Claim) -> None:
    """Drop the claim of a request answered other than 2xx (in its transaction), so that
    the client may retry with the key."""
    db.session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id == claimed.record_id))
