"""Every chain verifies, and a tampered, deleted or reordered row is named by `audit verify`."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, text

from tests.factories import (
    RESOLUTION,
    WHEN,
    make_admin,
    make_conflict,
    make_manager,
    make_partner_user,
    triage,
)
from tracker.domain import audit_chain as chain
from tracker.extensions import db
from tracker.jobs.scheduler import run_audit_chain_verify
from tracker.jobs.sweep import sweep
from tracker.models import (
    AdminAuditEntry,
    ChainHead,
    Conflict,
    ConflictEvent,
    Notification,
    OutboxMessage,
    TrustEvent,
)
from tracker.models.conflict import PUBLIC
from tracker.services import audit_chain, conflicts


def _story():  # type: ignore[no-untyped-def]
    """A conflict with comments, an internal note, escalations and a closed loop."""
    manager, user = make_manager(), make_partner_user()
    conflict = make_conflict(user, severity="critical", now=WHEN)
    sweep(WHEN + timedelta(hours=3))  # escalations: one bulk INSERT of several entries
    triage(conflict, manager, now=WHEN + timedelta(hours=3))
    conflicts.comment(manager, conflict.id, "We are on it.", now=WHEN + timedelta(hours=4))
    conflicts.comment(
        manager, conflict.id, "Call the bank", now=WHEN + timedelta(hours=4), internal=True
    )
    conflicts.act(manager, conflict.id, "resolve", RESOLUTION, now=WHEN + timedelta(hours=5))
    conflicts.act(user, conflict.id, "accept", {}, now=WHEN + timedelta(hours=6))
    make_conflict(user, now=WHEN + timedelta(hours=7))
    return conflict


def _events(conflict_id: int) -> list[ConflictEvent]:
    return list(
        db.session.scalars(
            select(ConflictEvent)
            .where(ConflictEvent.conflict_id == conflict_id)
            .order_by(ConflictEvent.chain_seq)
        )
    )


def _raw(sql: str, **params: object) -> None:
    db.session.execute(text(sql), params)
    db.session.commit()
    db.session.expire_all()


def test_every_append_links_to_its_predecessor_and_the_heads_follow(app) -> None:
    conflict = _story()
    events = _events(conflict.id)
    assert [e.chain_seq for e in events] == list(range(1, len(events) + 1))
    assert events[0].prev_hash == chain.GENESIS
    for earlier, later in zip(events, events[1:], strict=False):
        assert later.prev_hash == earlier.hash
    for event in events:
        assert event.hash == chain.link_hash(
            event.prev_hash, audit_chain.conflict_event_hash(event)
        )
    stored = db.session.get(Conflict, conflict.id)
    assert (stored.chain_seq, stored.chain_hash) == (events[-1].chain_seq, events[-1].hash)
    ledger = db.session.scalars(select(TrustEvent).order_by(TrustEvent.chain_seq)).all()
    assert len(ledger) >= 2 and ledger[0].prev_hash == chain.GENESIS
    head = db.session.get(ChainHead, chain.trust_chain(conflict.partner_id))
    assert (head.seq, head.hash) == (ledger[-1].chain_seq, ledger[-1].hash)
    admin = db.session.scalars(select(AdminAuditEntry).order_by(AdminAuditEntry.chain_seq)).all()
    assert [e.kind for e in admin] == ["user.created", "partner.created", "user.created"]
    report = audit_chain.verify_all()
    assert report.intact and report.chains == 4  # two conflicts, a trust ledger, the admin log
    assert report.entries == len(events) + 1 + len(ledger) + len(admin)


def test_every_internal_event_has_its_own_salt_and_no_public_one_has_any(app) -> None:
    assert chain.PUBLIC_VISIBILITY == PUBLIC  # the domain's spelling is the rows'
    conflict = _story()
    events = _events(conflict.id)
    internal = [e for e in events if e.visibility != PUBLIC]
    assert len(internal) >= 2  # the sweep's internal escalation entries and the note
    salts = [e.chain_salt for e in internal]
    assert all(len(s) == 32 and int(s, 16) >= 0 for s in salts) and len(set(salts)) == len(salts)
    assert all(e.chain_salt is None for e in events if e.visibility == PUBLIC)
    for event in internal:  # the salt is hashed: without it the link does not hold
        unsalted = chain.content_hash(
            chain.conflict_event_content(
                conflict_id=event.conflict_id, seq=event.chain_seq, created_at=event.created_at,
                actor_id=event.actor_id, kind=event.kind, visibility=event.visibility,
                body=event.body, data=event.data,
            )
        )  # fmt: skip
        assert chain.link_hash(event.prev_hash, unsalted) != event.hash


def test_a_changed_or_dropped_salt_is_detected(runner) -> None:
    conflict = _story()
    note = next(e for e in _events(conflict.id) if e.kind == "internal_note")
    _raw("UPDATE conflict_events SET chain_salt = :s WHERE id = :id", s="0" * 32, id=note.id)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"entry {note.id} (place {note.chain_seq}): content changed" in result.output
    _raw("UPDATE conflict_events SET chain_salt = NULL WHERE id = :id", id=note.id)
    assert runner.invoke(args=["audit", "verify"]).exit_code == 1


def test_an_internal_event_linked_without_a_salt_is_a_break(app) -> None:
    """A writer that forgot the salt links correctly, but its commitment could be guessed."""
    conflict = _story()
    note = next(e for e in _events(conflict.id) if e.kind == "internal_note")
    later = [e for e in _events(conflict.id) if e.chain_seq >= note.chain_seq]
    prev = note.prev_hash
    for event in later:  # relink from the note on, as such a writer would have linked it
        salt = None if event.id == note.id else event.chain_salt
        digest = chain.content_hash(
            chain.conflict_event_content(
                conflict_id=event.conflict_id, seq=event.chain_seq, created_at=event.created_at,
                actor_id=event.actor_id, kind=event.kind, visibility=event.visibility,
                body=event.body, data=event.data, salt=salt,
            )
        )  # fmt: skip
        new = chain.link_hash(prev, digest)
        _raw(
            "UPDATE conflict_events SET chain_salt = :s, prev_hash = :p, hash = :h WHERE id = :id",
            s=salt, p=prev, h=new, id=event.id,
        )  # fmt: skip
        prev = new
    _raw("UPDATE conflicts SET chain_hash = :h WHERE id = :id", h=prev, id=conflict.id)
    report = audit_chain.verify_all()
    assert [(b.chain, b.entry_id, b.problem) for b in report.breaks] == [
        (chain.conflict_chain(conflict.id), note.id, "internal event without its salt")
    ]


def test_verify_command_reports_an_intact_record(runner) -> None:
    _story()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "intact" in result.output


def test_a_raw_update_of_an_event_is_named_with_its_chain_and_entry(runner) -> None:
    conflict = _story()
    target = _events(conflict.id)[3]
    _raw("UPDATE conflict_events SET body = 'nothing happened' WHERE id = :id", id=target.id)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"conflict:{conflict.id}: entry {target.id} (place 4): content changed" in result.output
    assert f"found {target.hash}" in result.output


def test_a_deleted_event_is_detected(runner) -> None:
    conflict = _story()
    target = _events(conflict.id)[2]
    _raw("DELETE FROM notifications WHERE event_id = :id", id=target.id)
    _raw("DELETE FROM conflict_events WHERE id = :id", id=target.id)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"conflict:{conflict.id}: entry" in result.output
    assert "sequence gap or reorder: expected 3, found 4" in result.output


def test_a_deleted_last_event_is_detected_by_the_head(runner) -> None:
    conflict = _story()
    last = _events(conflict.id)[-1]
    _raw("DELETE FROM notifications WHERE event_id = :id", id=last.id)
    _raw("DELETE FROM conflict_events WHERE id = :id", id=last.id)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"conflict:{conflict.id}: its head: head (last entry missing?)" in result.output


def test_reordered_events_are_detected(runner) -> None:
    conflict = _story()
    first, second = _events(conflict.id)[1:3]
    # Swap their places (through a free number, the unique key forbids a direct swap).
    _raw("UPDATE conflict_events SET chain_seq = -1 WHERE id = :id", id=first.id)
    _raw("UPDATE conflict_events SET chain_seq = 2 WHERE id = :id", id=second.id)
    _raw("UPDATE conflict_events SET chain_seq = 3 WHERE id = :id", id=first.id)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"conflict:{conflict.id}: entry {second.id} (place 2)" in result.output


def test_a_rewritten_trust_ledger_entry_is_detected(runner) -> None:
    conflict = _story()
    _raw("UPDATE trust_events SET weight = 5.0 WHERE kind = 'accepted'")
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"trust:{conflict.partner_id}: entry" in result.output


def test_daily_job_alerts_every_admin_once_a_day_in_app_and_by_mail(app) -> None:
    admins = [make_admin(email="ada@trustomer.example"), make_admin(email="bo@trustomer.example")]
    conflict = _story()
    run_audit_chain_verify(app)
    alerts = select(func.count(Notification.id)).where(Notification.kind == "audit_chain")
    assert db.session.scalar(alerts) == 0
    _raw("UPDATE conflict_events SET kind = 'comment' WHERE conflict_id = :id", id=conflict.id)
    run_audit_chain_verify(app)
    run_audit_chain_verify(app)
    alerts = db.session.scalars(select(Notification).where(Notification.kind == "audit_chain"))
    assert sorted(a.user_id for a in alerts) == sorted(a.id for a in admins)
    mails = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.dedupe_key.like("audit_chain:%"))
    ).all()
    assert sorted(m.address for m in mails) == ["ada@trustomer.example", "bo@trustomer.example"]
    assert f"conflict:{conflict.id}" in mails[0].body_text


def test_a_rewritten_admin_audit_entry_is_detected(runner) -> None:
    _story()  # the factories' accounts and partner are on the admin log
    _raw("UPDATE admin_audit SET actor_label = 'someone else' WHERE chain_seq = 2")
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert "admin: entry" in result.output and "(place 2): content changed" in result.output
