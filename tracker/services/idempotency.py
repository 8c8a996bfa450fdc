"""Idempotency keys: a retried POST gets the first response instead of doing it twice.

A request with a key first *claims* it: it inserts the key's row, marked in progress, and
commits, before doing anything. The (user_id, key) unique constraint lets one request win;
a twin that arrives meanwhile reads the row and is told to retry (409), or gets the stored
response once the winner has finished. A request that fails gives its claim back, so the
client may retry with the same key. Rows older than RETENTION are purged.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from tracker.extensions import db
from tracker.models import IdempotencyRecord, User
from tracker.services.errors import InvalidInput, StateConflict

MAX_KEY = 200
# response_status of a claimed key whose request is still running (the column is NOT NULL).
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
    """The key's finished response; StateConflict while it runs; InvalidInput if not ours."""
    record = db.session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.user_id == user.id, IdempotencyRecord.key == key
        )
    )
    if record is None:
        return None
    if record.request_hash != request_hash:
        raise InvalidInput(OTHER_REQUEST, field_errors={"Idempotency-Key": OTHER_REQUEST})
    if record.response_status == IN_PROGRESS:
        raise StateConflict(STILL_PROCESSING)
    return Replay(record.response_status, record.response_body)


def claim(
    user: User, key: str, *, method: str, path: str, request_hash: str, now: datetime
) -> Claim | Replay:
    """Claim `key` for this request (committed), or the finished response to replay.

    Raises StateConflict (409) while another request holds the key, and InvalidInput (422)
    when the key was used for a different request.
    """
    _maybe_purge(now)
    user_id = user.id
    for _ in range(3):  # the holder may give its claim back between our insert and read
        replay = _existing(user, key, request_hash)
        if replay is not None:
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
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            continue
        return Claim(record.id)
    raise StateConflict(STILL_PROCESSING)


def complete(claimed: Claim, *, status: int, body: Any) -> None:
    """Store the response of the request that holds `claimed`."""
    db.session.execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.id == claimed.record_id)
        .values(response_status=status, response_body=body)
    )
    db.session.commit()


def release(claimed: Claim) -> None:
    """Give the key back after a failure, so that the client may retry with it."""
    db.session.rollback()
    db.session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id == claimed.record_id))
    db.session.commit()
