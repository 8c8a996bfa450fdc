"""A partner's copy of its conflicts' chains: enough to recompute every link, nothing more.

Public events carry their full hashed content; internal events carry only their place, their
links and their content hash, so a partner can check that nothing is missing or reordered
without reading internal text (no kind, body, data, actor or salt of an internal event
leaves). That hash covers a random salt kept in the row, so it is a commitment: hashing a
guessed text cannot confirm it.
`scripts/verify_chain.py` checks a download with the standard library alone.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from tracker.domain import audit_chain as chain
from tracker.domain.text import N_
from tracker.extensions import db
from tracker.models import Conflict, ConflictEvent, User
from tracker.models.conflict import PUBLIC
from tracker.services import audit_chain
from tracker.services.errors import NotFound

PAGE = 100


@dataclass(frozen=True)
class ConflictChain:
    """One conflict's chain as a partner may see it; `id` is the conflict's (the cursor)."""

    id: int
    ref: str | None
    length: int
    head: str
    entries: list[dict[str, Any]]

    def as_json(self) -> dict[str, Any]:
        return {
            "chain": chain.conflict_chain(self.id),
            "conflict_id": self.id,
            "ref": self.ref,
            "length": self.length,
            "head": self.head,
            "entries": self.entries,
        }


def _entry(event: ConflictEvent) -> dict[str, Any]:
    link = {"seq": event.chain_seq, "prev_hash": event.prev_hash, "hash": event.hash}
    if event.visibility != PUBLIC:
        return {**link, "visibility": event.visibility, "content_hash": _content_hash(event)}
    content = chain.conflict_event_content(
        conflict_id=event.conflict_id, seq=event.chain_seq, created_at=event.created_at,
        actor_id=event.actor_id, kind=event.kind, visibility=event.visibility,
        body=event.body, data=event.data,
    )  # fmt: skip
    return {**link, "visibility": event.visibility, "content": content}


def _content_hash(event: ConflictEvent) -> str:
    return audit_chain.conflict_event_hash(event)


def _scope(user: User, partner_id: int | None) -> int | None:
    """The partner whose chains `user` reads: a partner's own; staff any (or all: None)."""
    if user.is_partner:
        if partner_id not in (None, user.partner_id):
            raise NotFound(N_("No such partner."))
        return user.partner_id
    if not user.is_staff:
        raise NotFound(N_("No such partner."))
    return partner_id


def page(
    user: User, *, after_id: int | None, limit: int, partner_id: int | None = None
) -> list[ConflictChain]:
    """Up to `limit + 1` chains after conflict `after_id`, oldest conflict first."""
    scope = _scope(user, partner_id)
    query = select(Conflict.id, Conflict.ref, Conflict.chain_seq, Conflict.chain_hash)
    if scope is not None:
        query = query.where(Conflict.partner_id == scope)
    if after_id is not None:
        query = query.where(Conflict.id > after_id)
    heads = db.session.execute(query.order_by(Conflict.id).limit(limit + 1)).all()
    if not heads:
        return []
    events = db.session.scalars(
        select(ConflictEvent)
        .where(ConflictEvent.conflict_id.in_([h.id for h in heads]))
        .order_by(ConflictEvent.conflict_id, ConflictEvent.chain_seq)
    )
    by_conflict: dict[int, list[dict[str, Any]]] = {h.id: [] for h in heads}
    for event in events:
        by_conflict[event.conflict_id].append(_entry(event))
    return [
        ConflictChain(
            id=h.id,
            ref=h.ref,
            length=h.chain_seq,
            head=h.chain_hash or chain.GENESIS,
            entries=by_conflict[h.id],
        )
        for h in heads
    ]


def header(user: User, now: datetime) -> dict[str, Any]:
    """What the document says of itself: its format, when and for whom it was made."""
    return {
        "format": chain.FORMAT,
        "generated_at": chain.rfc3339(now),
        "partner_id": user.partner_id if user.is_partner else None,
    }


def download(user: User, now: datetime) -> Iterator[str]:
    """The whole export as JSON text, in pieces: the chains are read a page at a time."""
    start = json.dumps(header(user, now), ensure_ascii=False)[:-1] + ',"chains":['
    yield start
    after, first = None, True
    while True:
        chains = page(user, after_id=after, limit=PAGE)
        for item in chains[:PAGE]:
            yield ("" if first else ",") + json.dumps(item.as_json(), ensure_ascii=False)
            first = False
        if len(chains) <= PAGE:
            break
        after = chains[PAGE - 1].id
    yield "]}"
