"""The tamper-evident chain: one definition of an entry's hash, and of a broken link.

Every conflict event, trust ledger entry and admin-audit entry belongs to a chain (per
conflict, per partner, global). Its hash covers its own canonical content and its
predecessor's hash, so editing, deleting or reordering an entry breaks every link after it:

    content_hash = SHA-256 hex of canonical(content)
    hash         = SHA-256 hex of the ASCII text  prev_hash + content_hash
    salt         = an internal event's content also holds 32 random hex digits, stored
                   in its row and never exported: its content_hash is then a commitment
                   a partner can check the links with but cannot test a guessed text on
    canonical    = JSON, keys sorted, no whitespace, UTF-8 (not \\u-escaped), times as
                   RFC 3339 UTC with microseconds ("2026-11-16T09:00:00.000000Z")
    prev_hash    = the previous entry's hash; GENESIS (64 zeros) for the first entry

The content names its chain and its sequence number (1, 2, ...), so an entry cannot be moved
to another chain or place. Two levels let a partner check the links through internal events
it may not read: the export gives their content_hash only, salted so that hashing candidate
texts ("escalated to level 2") finds nothing. `scripts/verify_chain.py` is the
same algorithm for partners, standard library only; the README states it. Changing anything
here invalidates every stored hash: this is a format, not an implementation detail.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tracker.domain.text import N_

GENESIS = "0" * 64
FORMAT = "trustomer-audit-chain/2"  # /2: internal events salted (migration 0016)
PUBLIC_VISIBILITY = "public"
SALT_BYTES = 16


def rfc3339(moment: datetime) -> str:
    """An aware datetime as RFC 3339 UTC with microseconds, the one spelling that is hashed."""
    if moment.tzinfo is None:
        raise ValueError(N_("naive datetime in chained content; pass an aware datetime"))
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


_AS_IS = frozenset({str, int, float, bool, type(None)})


def plain(value: Any) -> Any:
    """A value as JSON holds it: times as RFC 3339 UTC, tuples as lists, keys as text."""
    kind = type(value)
    if kind in _AS_IS:  # most values: checked by type first, the ABC checks below are slow
        return value
    if kind is dict:
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, datetime):
        return rfc3339(value)
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def canonical(content: Mapping[str, Any]) -> bytes:
    """The bytes that are hashed: sorted keys, no whitespace, UTF-8."""
    return json.dumps(
        plain(content), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def content_hash(content: Mapping[str, Any]) -> str:
    """SHA-256 hex of the canonical content."""
    return hashlib.sha256(canonical(content)).hexdigest()


def link_hash(prev_hash: str, digest: str) -> str:
    """The entry's hash: its predecessor's hash and its own content hash, chained."""
    return hashlib.sha256((prev_hash + digest).encode("ascii")).hexdigest()


@dataclass(frozen=True)
class Link:
    """What an entry stores of the chain: its place, its predecessor and its hash."""

    seq: int
    prev_hash: str
    hash: str


def append(head: Link | None, content: Mapping[str, Any]) -> Link:
    """The link of the entry that follows `head` (None: the chain's first entry).

    `content` must carry `seq` equal to the new place (see the *_content builders)."""
    seq = 1 if head is None else head.seq + 1
    if content.get("seq") != seq:
        raise ValueError(f"content names place {content.get('seq')}, the chain is at {seq}")
    prev = GENESIS if head is None else head.hash
    return Link(seq=seq, prev_hash=prev, hash=link_hash(prev, content_hash(content)))


# --- what each kind of entry hashes -------------------------------------------------------


def is_salted(visibility: str) -> bool:
    """Whether an event of this visibility carries a salt: every one a partner may not read."""
    return visibility != PUBLIC_VISIBILITY


def salt_for(visibility: str) -> str | None:
    """A fresh random salt for an event a partner may not read; None for a public one.

    Random per event and kept in its row (not an HMAC under a server key): the database
    alone verifies, there is no key to rotate or lose, and one salt found tells nothing of
    another event. A public event needs none: its content is exported in full."""
    return secrets.token_hex(SALT_BYTES) if is_salted(visibility) else None


def conflict_chain(conflict_id: int) -> str:
    return f"conflict:{conflict_id}"


def trust_chain(partner_id: int) -> str:
    return f"trust:{partner_id}"


ADMIN_CHAIN = "admin"


def conflict_event_content(
    *,
    conflict_id: int,
    seq: int,
    created_at: datetime,
    actor_id: int | None,
    kind: str,
    visibility: str,
    body: str | None,
    data: Mapping[str, Any] | None,
    salt: str | None = None,
) -> dict[str, Any]:
    """Every column of a conflict event but its id (unknown until it is inserted).

    `salt` (an internal event's, see salt_for) is hashed with the rest; without one the
    content has no "salt" key at all, so a public event hashes as it always did."""
    content = {
        "chain": conflict_chain(conflict_id),
        "seq": seq,
        "created_at": rfc3339(created_at),
        "actor_id": actor_id,
        "kind": kind,
        "visibility": visibility,
        "body": body,
        "data": plain(data) if data else None,
    }
    if salt is not None:
        content["salt"] = salt
    return content


TRUST_FACTS = (
    "conflict_id",
    "side",
    "kind",
    "severity",
    "triage_business_seconds",
    "resolution_business_seconds",
    "resolution_wall_seconds",
    "target_seconds",
    "sla_met",
    "overrun_seconds",
    "accountable_side",
    "weight",
    "rule",
    "explanation",
)


def trust_event_content(
    *, partner_id: int, seq: int, at: datetime, facts: Mapping[str, Any]
) -> dict[str, Any]:
    """A ledger entry: its time and every fact in TRUST_FACTS (missing ones are null)."""
    content = {name: facts.get(name) for name in TRUST_FACTS}
    if content["weight"] is not None:
        content["weight"] = float(content["weight"])
    content.update({"chain": trust_chain(partner_id), "seq": seq, "at": rfc3339(at)})
    return content


def admin_entry_content(
    *,
    seq: int,
    at: datetime,
    actor_id: int | None,
    actor_label: str,
    kind: str,
    subject: str,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """An admin-audit entry: who, when, what, and the values before and after."""
    return {
        "chain": ADMIN_CHAIN,
        "seq": seq,
        "at": rfc3339(at),
        "actor_id": actor_id,
        "actor": actor_label,
        "kind": kind,
        "subject": subject,
        "before": plain(before) if before is not None else None,
        "after": plain(after) if after is not None else None,
    }


# --- verifying ------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredEntry:
    """An entry as read back: its row id, stored link, and the hash of its content now."""

    entry_id: int | str
    seq: int | None
    prev_hash: str | None
    hash: str | None
    content_hash: str


@dataclass(frozen=True)
class Break:
    """The first broken link of a chain, said so a person can find it."""

    chain: str
    entry_id: int | str | None
    seq: int | None
    problem: str
    expected: str
    found: str

    def describe(self) -> str:
        where = f"entry {self.entry_id}" if self.entry_id is not None else "its head"
        place = f" (place {self.seq})" if self.seq is not None else ""
        return (
            f"{self.chain}: {where}{place}: {self.problem}: "
            f"expected {self.expected}, found {self.found}"
        )


def verify(chain: str, entries: Iterable[StoredEntry], head: Link | None) -> Break | None:
    """Walk one chain in stored order; None when every link holds and the head matches.

    `head`: what the chain's owner row says its last entry is (None: it has none), so a
    deleted last entry is caught too.
    """
    prev, expected_seq, last = GENESIS, 1, None
    for entry in entries:
        if entry.seq != expected_seq:
            return Break(
                chain, entry.entry_id, entry.seq, "sequence gap or reorder",
                str(expected_seq), str(entry.seq),
            )  # fmt: skip
        if entry.prev_hash != prev:
            return Break(chain, entry.entry_id, entry.seq, "prev_hash", prev, str(entry.prev_hash))
        recomputed = link_hash(prev, entry.content_hash)
        if entry.hash != recomputed:
            return Break(
                chain, entry.entry_id, entry.seq, "content changed (hash)",
                recomputed, str(entry.hash),
            )  # fmt: skip
        prev, expected_seq, last = recomputed, expected_seq + 1, entry
    stored = (last.seq, last.hash) if last is not None else (0, GENESIS)
    claimed = (head.seq, head.hash) if head is not None else (0, GENESIS)
    if stored != claimed:
        return Break(
            chain, None, None, "head (last entry missing?)",
            f"{claimed[0]}:{claimed[1]}", f"{stored[0]}:{stored[1]}",
        )  # fmt: skip
    return None
