"""Migrations 0011 and 0018 link existing history exactly as the application links new
entries; 0018 salts internal events, relinks in batches and never launders an edit."""

from __future__ import annotations

from datetime import timedelta

from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text

from tests.conftest import make_config, temporary_database
from tests.factories import RESOLUTION, WHEN, make_conflict, make_manager, make_partner_user, triage
from tracker import create_app
from tracker.clock import utcnow
from tracker.domain import audit_chain as chain
from tracker.domain.accounts import MANAGER
from tracker.domain.workflow import CLOSED
from tracker.extensions import db
from tracker.jobs.sweep import sweep
from tracker.models import ChainHead, Conflict, ConflictEvent, TrustEvent, User
from tracker.models.conflict import PUBLIC
from tracker.services import audit_chain, conflicts


def _links() -> dict[str, list[tuple]]:
    return {
        "events": db.session.execute(
            select(ConflictEvent.id, ConflictEvent.chain_seq, ConflictEvent.prev_hash)
            .add_columns(ConflictEvent.hash, ConflictEvent.chain_salt)
            .order_by(ConflictEvent.id)
        ).all(),
        "trust": db.session.execute(
            select(TrustEvent.id, TrustEvent.chain_seq, TrustEvent.prev_hash, TrustEvent.hash)
            .order_by(TrustEvent.id)
        ).all(),
        "conflicts": db.session.execute(
            select(Conflict.id, Conflict.chain_seq, Conflict.chain_hash).order_by(Conflict.id)
        ).all(),
        "heads": db.session.execute(
            select(ChainHead.chain, ChainHead.seq, ChainHead.hash)
            .where(ChainHead.chain.like("trust:%"))
            .order_by(ChainHead.chain)
        ).all(),
    }  # fmt: skip


def _history() -> Conflict:
    manager, user = make_manager(), make_partner_user()
    conflict = make_conflict(user, severity="critical", now=WHEN)
    sweep(WHEN + timedelta(hours=3))  # internal escalation entries, in one INSERT
    triage(conflict, manager, now=WHEN + timedelta(hours=3))
    conflicts.comment(manager, conflict.id, "Grüße", now=WHEN + timedelta(hours=4))
    conflicts.comment(manager, conflict.id, "note", now=WHEN + timedelta(hours=4), internal=True)
    conflicts.act(manager, conflict.id, "resolve", RESOLUTION, now=WHEN + timedelta(hours=5))
    conflicts.act(user, conflict.id, "accept", {}, now=WHEN + timedelta(hours=6))
    make_conflict(user, now=WHEN + timedelta(hours=7))
    return conflict


def _salts_in_migration_order() -> list[str]:
    return list(
        db.session.scalars(
            select(ConflictEvent.chain_salt)
            .where(ConflictEvent.visibility != PUBLIC)
            .order_by(ConflictEvent.conflict_id, ConflictEvent.chain_seq)
        )
    )


def test_the_backfill_computes_the_same_links_as_the_application(tmp_path, monkeypatch) -> None:
    with temporary_database(tmp_path) as url:
        app = create_app(make_config(url, tmp_path))
        with app.app_context():
            upgrade()
            _history()
            written = _links()
            salts = _salts_in_migration_order()
            assert len(written["events"]) > 5 and len(written["trust"]) >= 2
            assert len(salts) >= 2 and all(salts)
            db.session.remove()

            downgrade(revision="0010_mail_notices")  # history without any chain
            # The same salts the application drew, so the links can be compared exactly.
            replay = iter(salts)
            monkeypatch.setattr(
                chain, "salt_for", lambda visibility: None if visibility == PUBLIC else next(replay)
            )
            upgrade()  # 0011 links it, 0018 salts the internal events and relinks

            assert _links() == written
            assert next(replay, None) is None
            assert audit_chain.verify_all().intact
            db.session.remove()
            db.engine.dispose()


def _events_raw() -> dict[int, tuple]:
    rows = db.session.execute(
        text("SELECT id, conflict_id, visibility, prev_hash, hash FROM conflict_events")
    )
    return {row.id: tuple(row) for row in rows}


def test_the_salt_migration_relinks_every_chain_across_batches(tmp_path) -> None:
    """More conflicts than one batch holds (500); chains of public events keep their hashes."""
    with temporary_database(tmp_path) as url:
        app = create_app(make_config(url, tmp_path))
        with app.app_context():
            upgrade()
            result = app.test_cli_runner().invoke(
                args=["demo", "generate", "--partners", "3", "--conflicts", "1100"]
            )
            assert result.exit_code == 0, result.output
            manager = db.session.scalar(select(User).where(User.role == MANAGER).limit(1))
            open_ids = db.session.scalars(
                select(Conflict.id).where(Conflict.status != CLOSED).order_by(Conflict.id)
            ).all()
            for conflict_id in (next(i for i in open_ids if 500 < i <= 1000), open_ids[-1]):
                conflicts.comment(manager, conflict_id, "note", now=utcnow(), internal=True)
            db.session.remove()
            downgrade(revision="0017_timezone_choice")  # relinked without salts
            unsalted = _events_raw()
            db.session.remove()
            upgrade()

            salted = _events_raw()
            assert salted.keys() == unsalted.keys()
            internal_chains = {c for _, c, v, *_ in salted.values() if v != PUBLIC}
            assert min(internal_chains) <= 500 < 1000 < max(internal_chains)  # three batches
            for event_id, (_, conflict_id, *_) in salted.items():
                if conflict_id not in internal_chains:
                    assert salted[event_id] == unsalted[event_id]
            changed = {c for i, (_, c, *_) in salted.items() if salted[i] != unsalted[i]}
            assert changed == internal_chains
            salts = _salts_in_migration_order()
            assert len(set(salts)) == len(salts)
            assert all(len(s) == 32 and int(s, 16) >= 0 for s in salts)
            assert audit_chain.verify_all().intact
            db.session.remove()
            db.engine.dispose()


def test_the_salt_migration_leaves_a_tampered_chain_as_it_was(tmp_path) -> None:
    """Relinking an edited chain would launder the edit: it stays broken, and named."""
    with temporary_database(tmp_path) as url:
        app = create_app(make_config(url, tmp_path))
        with app.app_context():
            upgrade()
            conflict = _history()
            conflict_id = conflict.id
            db.session.remove()
            downgrade(revision="0017_timezone_choice")
            with db.engine.begin() as connection:
                target = connection.execute(
                    text(
                        "SELECT id, hash FROM conflict_events WHERE conflict_id = :id "
                        "AND kind = 'internal_note'"
                    ),
                    {"id": conflict_id},
                ).one()
                connection.execute(
                    text("UPDATE conflict_events SET body = 'nothing' WHERE id = :id"),
                    {"id": target.id},
                )
            upgrade()

            report = audit_chain.verify_all()
            assert [b.chain for b in report.breaks] == [chain.conflict_chain(conflict_id)]
            (broken,) = report.breaks
            assert broken.entry_id == target.id and broken.problem == "content changed (hash)"
            assert broken.found == target.hash  # its stored hash, untouched
            assert db.session.get(ConflictEvent, target.id).chain_salt is None
            db.session.remove()
            db.engine.dispose()
