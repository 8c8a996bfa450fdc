"""Two writers appending to one chain at the same instant never fork it, on both engines.

Each test widens the window between reading a chain's head and writing the next entry (a
short sleep after the link is computed): without the conflict's row lock, the chain head's
row lock (PostgreSQL) or the write lock taken first (SQLite), both writers would link to the
same predecessor; the unique (chain, place) keys would then refuse one of them.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.factories import (
    RESOLUTION,
    WHEN,
    make_admin,
    make_conflict,
    make_manager,
    make_partner,
    make_partner_user,
    triage,
)
from tests.races.test_conflicting_actions import _at_once, _slow
from tracker.extensions import db
from tracker.models import AdminAuditEntry, ConflictEvent, TrustEvent, User
from tracker.services import audit_chain, conflicts, partners

ROUNDS = 3


def _user(user_id: int) -> User:
    """The user in the calling thread's own session (ORM rows are not shared across threads)."""
    return db.session.get(User, user_id)


def _linked(rows: list) -> bool:  # type: ignore[type-arg]
    return all(b.prev_hash == a.hash for a, b in zip(rows, rows[1:], strict=False)) and [
        r.chain_seq for r in rows
    ] == list(range(rows[0].chain_seq, rows[0].chain_seq + len(rows)))


def test_two_comments_on_one_conflict_at_once_extend_its_chain_in_turn(app, monkeypatch) -> None:
    _slow(monkeypatch, audit_chain, "link_conflict_event")
    manager, user = make_manager(), make_partner_user()
    conflict = make_conflict(user, now=WHEN)
    ids = (manager.id, user.id, conflict.id)
    for round_ in range(ROUNDS):
        at = WHEN + timedelta(minutes=round_ + 1)
        results = _at_once(
            app,
            lambda at=at: conflicts.comment(_user(ids[0]), ids[2], "From us", now=at),
            lambda at=at: conflicts.comment(_user(ids[1]), ids[2], "From the partner", now=at),
        )
        assert not [r for r in results if isinstance(r, Exception)], results
    events = list(
        db.session.scalars(
            select(ConflictEvent)
            .where(ConflictEvent.conflict_id == conflict.id)
            .order_by(ConflictEvent.chain_seq)
        )
    )
    assert len(events) == 1 + 2 * ROUNDS and _linked(events)
    assert audit_chain.verify_all().intact


def test_two_conflicts_of_one_partner_closing_at_once_extend_its_ledger_in_turn(
    app, monkeypatch
) -> None:
    _slow(monkeypatch, audit_chain, "link_trust_event")
    manager = make_manager()
    partner = make_partner(name="Northwind")
    user = make_partner_user(partner=partner)
    pairs = []
    for _ in range(ROUNDS):
        pair = [make_conflict(user, now=WHEN) for _ in range(2)]
        for conflict in pair:
            triage(conflict, manager, now=WHEN + timedelta(minutes=5))
        pairs.append((pair[0].id, pair[1].id))
    at, manager_id = WHEN + timedelta(hours=2), manager.id
    for first, second in pairs:
        results = _at_once(
            app,
            lambda c=first: conflicts.act(_user(manager_id), c, "resolve", RESOLUTION, now=at),
            lambda c=second: conflicts.act(_user(manager_id), c, "resolve", RESOLUTION, now=at),
        )
        assert not [r for r in results if isinstance(r, Exception)], results
    ledger = list(
        db.session.scalars(
            select(TrustEvent)
            .where(TrustEvent.partner_id == partner.id)
            .order_by(TrustEvent.chain_seq)
        )
    )
    assert len(ledger) == 2 * ROUNDS and ledger[0].chain_seq == 1 and _linked(ledger)
    assert audit_chain.verify_all().intact


def test_two_admin_changes_at_once_extend_the_admin_log_in_turn(app, monkeypatch) -> None:
    _slow(monkeypatch, audit_chain, "link_admin_entry")
    admin_id = make_admin().id
    for round_ in range(ROUNDS):
        results = _at_once(
            app,
            lambda r=round_: partners.create_partner(
                name=f"Alpha {r}", tier="standard", timezone="UTC", now=WHEN, actor=_user(admin_id)
            ),
            lambda r=round_: partners.create_partner(
                name=f"Beta {r}", tier="standard", timezone="UTC", now=WHEN, actor=_user(admin_id)
            ),
        )
        assert not [r for r in results if isinstance(r, Exception)], results
    log = list(db.session.scalars(select(AdminAuditEntry).order_by(AdminAuditEntry.chain_seq)))
    assert sum(e.kind == "partner.created" for e in log) == 2 * ROUNDS
    assert log[0].chain_seq == 1 and _linked(log)
    assert audit_chain.verify_all().intact
