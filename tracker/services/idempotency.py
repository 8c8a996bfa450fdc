"""Idempotency keys: a retried POST gets the first response instead of doing it twice."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from tracker.extensions import db
from tracker.models import IdempotencyRecord, User
from tracker.services.errors import InvalidInput

MAX_KEY = 200


@dataclass(frozen=True)
class Replay:
    status: int
    body: Any


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


def previous(user: User, key: str, request_hash: str) -> Replay | None:
    """The remembered response for this key, None if new; another request's key is an error."""
    record = db.session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.user_id == user.id, IdempotencyRecord.key == key
        )
    )
    if record is None:
        return None
    if record.request_hash != request_hash:
        message = "This Idempotency-Key was already used for a different request."
        raise InvalidInput(message, field_errors={"Idempotency-Key": message})
    return Replay(record.response_status, record.response_body)


def remember(
    user: User,
    key: str,
    *,
    method: str,
    path: str,
    request_hash: str,
    status: int,
    body: Any,
    now: datetime,
) -> None:
    """Keep a successful response; a concurrent twin that stored first wins, quietly."""
    db.session.add(
        IdempotencyRecord(
            user_id=user.id,
            key=key,
            method=method.upper(),
            path=path[:300],
            request_hash=request_hash,
            response_status=status,
            response_body=body,
            created_at=now,
        )
    )
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
