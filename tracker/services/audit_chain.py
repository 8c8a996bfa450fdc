"""The chains' writers and their verifier: every append and every check goes through here.

Scope: a chain per conflict for its events (appends already serialise on the conflict's
row lock, and a partner's export is its conflicts' chains); a chain per partner for the
trust ledger (its evidence is weighed per partner, and the tally's lock is per partner); one
global chain for the admin audit (few entries, and one order of all admin changes). The
conflict's head is on its row; the others' heads are rows of chain_heads, locked on the
first append of a transaction and then held (a sweep batch reads each head once).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import render_template
from sqlalchemy import event, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from tracker.database import insert_if_absent, lock_for_write
from tracker.domain import audit_chain as chain
from tracker.domain.accounts import ADMIN
from tracker.extensions import db
from tracker.models import (
    AdminAuditEntry,
    ChainHead,
    Conflict,
    ConflictEvent,
    Notification,
    TrustEvent,
    User,
)
from tracker.services import outbox

_HEADS = "tracker.chain_heads"


# --- appending -----------------------------------------------------------------------------


def link_conflict_event(
    conflict: Conflict,
    *,
    created_at: datetime,
    actor_id: int | None,
    kind: str,
    visibility: str,
    body: str | None,
    data: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """The chain columns of the conflict's next event (an internal one's salt among them);
    moves the head on the conflict row.

    The caller holds the conflict's row lock (every timeline writer does); a unique
    (conflict_id, chain_seq) refuses a fork even if one did not."""
    seq = conflict.chain_seq or 0
    head = chain.Link(seq, chain.GENESIS, conflict.chain_hash or chain.GENESIS)
    salt = chain.salt_for(visibility)
    content = chain.conflict_event_content(
        conflict_id=conflict.id, seq=seq + 1, created_at=created_at, actor_id=actor_id,
        kind=kind, visibility=visibility, body=body, data=data, salt=salt,
    )  # fmt: skip
    link = chain.append(head, content)
    conflict.chain_seq, conflict.chain_hash = link.seq, link.hash
    return {
        "chain_seq": link.seq,
        "prev_hash": link.prev_hash,
        "hash": link.hash,
        "chain_salt": salt,
    }


def _head(name: str) -> ChainHead:
    """The chain's head row, locked until commit: read once per transaction.

    Forgotten at any rollback (a savepoint's too, whose lock PostgreSQL releases) and at the
    end of the transaction, so a head is never trusted beyond the lock that guards it."""
    heads = db.session.info.setdefault(_HEADS, {})
    row = heads.get(name)
    if row is None:
        lock_for_write(db.session)
        insert_if_absent(
            db.session, ChainHead, {"chain": name, "seq": 0, "hash": chain.GENESIS}, ["chain"]
        )
        row = db.session.scalar(
            select(ChainHead)
            .where(ChainHead.chain == name)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        heads[name] = row
    return row


def lock_trust_heads(partner_ids: Iterable[int]) -> None:
    """Lock the ledger chain heads of many partners at once (a sweep's batch breaches
    conflicts of dozens of partners): one INSERT of the missing heads and one locking read,
    instead of two statements per partner."""
    heads = db.session.info.setdefault(_HEADS, {})
    names = [n for n in dict.fromkeys(map(chain.trust_chain, partner_ids)) if n not in heads]
    if not names:
        return
    lock_for_write(db.session)
    dialect = db.session.connection().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    db.session.execute(
        insert(ChainHead).on_conflict_do_nothing(index_elements=["chain"]),
        [{"chain": name, "seq": 0, "hash": chain.GENESIS} for name in names],
    )
    rows = db.session.scalars(
        select(ChainHead)
        .where(ChainHead.chain.in_(names))
        .order_by(ChainHead.chain)  # one order for every locker: no deadlock between two
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    for row in rows:
        heads[row.chain] = row


@event.listens_for(Session, "after_soft_rollback")
def _heads_roll_back_too(session: Session, previous_transaction: object) -> None:
    session.info.pop(_HEADS, None)


@event.listens_for(Session, "after_transaction_end")
def _heads_end_with_the_transaction(session: Session, transaction: object) -> None:
    if getattr(transaction, "parent", None) is None:
        session.info.pop(_HEADS, None)


def _append(name: str, content_for: Any) -> dict[str, Any]:
    row = _head(name)
    link = chain.append(chain.Link(row.seq, chain.GENESIS, row.hash), content_for(row.seq + 1))
    row.seq, row.hash = link.seq, link.hash
    return {"chain_seq": link.seq, "prev_hash": link.prev_hash, "hash": link.hash}


def link_trust_event(partner_id: int, at: datetime, facts: Mapping[str, Any]) -> dict[str, Any]:
    """The chain columns of the partner's next ledger entry (the partner's head is locked)."""
    return _append(
        chain.trust_chain(partner_id),
        lambda seq: chain.trust_event_content(partner_id=partner_id, seq=seq, at=at, facts=facts),
    )


def link_admin_entry(**values: Any) -> dict[str, Any]:
    """The chain columns of the next admin-audit entry (the global head is locked)."""
    return _append(chain.ADMIN_CHAIN, lambda seq: chain.admin_entry_content(seq=seq, **values))


# --- what a stored row hashes to now ----------------------------------------------------------


def conflict_event_hash(event: ConflictEvent) -> str:
    return chain.content_hash(
        chain.conflict_event_content(
            conflict_id=event.conflict_id, seq=event.chain_seq, created_at=event.created_at,
            actor_id=event.actor_id, kind=event.kind, visibility=event.visibility,
            body=event.body, data=event.data, salt=event.chain_salt,
        )
    )  # fmt: skip


def trust_event_hash(event: TrustEvent) -> str:
    facts = {name: getattr(event, name) for name in chain.TRUST_FACTS}
    return chain.content_hash(
        chain.trust_event_content(
            partner_id=event.partner_id, seq=event.chain_seq, at=event.at, facts=facts
        )
    )


def admin_entry_hash(entry: AdminAuditEntry) -> str:
    return chain.content_hash(
        chain.admin_entry_content(
            seq=entry.chain_seq, at=entry.at, actor_id=entry.actor_id,
            actor_label=entry.actor_label, kind=entry.kind, subject=entry.subject,
            before=entry.before, after=entry.after,
        )
    )  # fmt: skip


# --- verifying -------------------------------------------------------------------------------


@dataclass
class VerifyReport:
    """Every chain walked; the first broken link of each chain that has one."""

    chains: int = 0
    entries: int = 0
    breaks: list[chain.Break] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.breaks


def _stored(entry_id: int, seq: int, prev: str, digest: str, content: str) -> chain.StoredEntry:
    return chain.StoredEntry(
        entry_id=entry_id, seq=seq, prev_hash=prev, hash=digest, content_hash=content
    )


def _grouped(rows: Iterator[Any], key: str) -> Iterator[tuple[int, list[Any]]]:
    current, batch = None, []
    for row in rows:
        value = getattr(row, key)
        if value != current and batch:
            yield current, batch
            batch = []
        current = value
        batch.append(row)
    if batch:
        yield current, batch


def _walk(
    report: VerifyReport,
    name: str,
    rows: list[Any],
    head: chain.Link | None,
    hashed: Any,
) -> None:
    report.chains += 1
    report.entries += len(rows)
    entries = (_stored(r.id, r.chain_seq, r.prev_hash, r.hash, hashed(r)) for r in rows)
    broken = chain.verify(name, entries, head)
    if broken is not None:
        report.breaks.append(broken)


def verify_all() -> VerifyReport:
    """Walk every chain (conflicts, trust ledgers, admin audit), streaming the rows."""
    report = VerifyReport()
    heads = {
        c.id: chain.Link(c.chain_seq, chain.GENESIS, c.chain_hash or chain.GENESIS)
        for c in db.session.execute(select(Conflict.id, Conflict.chain_seq, Conflict.chain_hash))
    }
    events = db.session.scalars(
        select(ConflictEvent)
        .order_by(ConflictEvent.conflict_id, ConflictEvent.chain_seq, ConflictEvent.id)
        .execution_options(yield_per=1000)
    )
    for conflict_id, rows in _grouped(iter(events), "conflict_id"):
        head = heads.pop(conflict_id, None)
        _walk(report, chain.conflict_chain(conflict_id), rows, head, conflict_event_hash)
        unsalted = _unsalted(chain.conflict_chain(conflict_id), rows)
        if unsalted is not None and not any(b.chain == unsalted.chain for b in report.breaks):
            report.breaks.append(unsalted)
    for conflict_id, head in heads.items():  # conflicts whose head names events that are gone
        _walk(report, chain.conflict_chain(conflict_id), [], head, conflict_event_hash)

    named = {row.chain: chain.Link(row.seq, chain.GENESIS, row.hash) for row in _heads()}
    trust_rows = db.session.scalars(
        select(TrustEvent)
        .order_by(TrustEvent.partner_id, TrustEvent.chain_seq, TrustEvent.id)
        .execution_options(yield_per=1000)
    )
    for partner_id, rows in _grouped(iter(trust_rows), "partner_id"):
        name = chain.trust_chain(partner_id)
        _walk(report, name, rows, named.pop(name, None), trust_event_hash)
    admin_rows = list(
        db.session.scalars(select(AdminAuditEntry).order_by(AdminAuditEntry.chain_seq))
    )
    if admin_rows or chain.ADMIN_CHAIN in named:
        head = named.pop(chain.ADMIN_CHAIN, None)
        _walk(report, chain.ADMIN_CHAIN, admin_rows, head, admin_entry_hash)
    for name, head in named.items():  # a head whose entries are all gone
        _walk(report, name, [], head, trust_event_hash)
    return report


def _unsalted(name: str, rows: list[ConflictEvent]) -> chain.Break | None:
    """An internal event written without a salt links, but its commitment can be guessed
    at: a writer that forgot it is a break too."""
    for row in rows:
        if chain.is_salted(row.visibility) and not row.chain_salt:
            return chain.Break(
                name, row.id, row.chain_seq, "internal event without its salt",
                f"{chain.SALT_BYTES * 2} hex digits", "none",
            )  # fmt: skip
    return None


def _heads() -> list[ChainHead]:
    return list(db.session.scalars(select(ChainHead).order_by(ChainHead.chain)))


# --- the daily check -------------------------------------------------------------------------


def check_and_alert(now: datetime) -> VerifyReport:
    """Verify every chain; on a break, tell every active admin (in-app and e-mail), once a day."""
    report = verify_all()
    if report.intact:
        return report
    day = now.date().isoformat()
    title = f"Audit chain broken: {len(report.breaks)} chain(s) fail verification"
    lines = [b.describe() for b in report.breaks[:20]]
    admins = db.session.scalars(select(User).where(User.role == ADMIN).order_by(User.id))
    for admin in [a for a in admins if a.is_active]:
        key = f"audit_chain:{day}:{admin.id}"
        insert_if_absent(
            db.session,
            Notification,
            {
                "user_id": admin.id,
                "kind": "audit_chain",
                "title": title[:300],
                "dedupe_key": f"{key}:in_app",
                "created_at": now,
            },
            ["dedupe_key"],
        )
        outbox.enqueue_email(
            dedupe_key=f"{key}:email",
            address=admin.email,
            subject=f"[Trustomer] {title}"[:300],
            text=render_template("email/audit_chain.txt", title=title, lines=lines, day=day),
            html=None,
            recipient_id=admin.id,
            now=now,
        )
    db.session.commit()
    return report
