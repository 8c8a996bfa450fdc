"""Migration 0010 links existing history exactly as the application links new entries."""

from __future__ import annotations

from datetime import timedelta

from flask_migrate import downgrade, upgrade
from sqlalchemy import select

from tests.conftest import make_config, temporary_database
from tests.factories import RESOLUTION, WHEN, make_conflict, make_manager, make_partner_user, triage
from tracker import create_app
from tracker.extensions import db
from tracker.jobs.sweep import sweep
from tracker.models import ChainHead, Conflict, ConflictEvent, TrustEvent
from tracker.services import audit_chain, conflicts


def _links() -> dict[str, list[tuple]]:
    return {
        "events": db.session.execute(
            select(ConflictEvent.id, ConflictEvent.chain_seq, ConflictEvent.prev_hash)
            .add_columns(ConflictEvent.hash)
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


def test_the_backfill_computes_the_same_links_as_the_application(tmp_path) -> None:
    with temporary_database(tmp_path) as url:
        app = create_app(make_config(url, tmp_path))
        with app.app_context():
            upgrade()
            manager, user = make_manager(), make_partner_user()
            conflict = make_conflict(user, severity="critical", now=WHEN)
            sweep(WHEN + timedelta(hours=3))
            triage(conflict, manager, now=WHEN + timedelta(hours=3))
            conflicts.comment(manager, conflict.id, "Grüße", now=WHEN + timedelta(hours=4))
            conflicts.comment(
                manager, conflict.id, "note", now=WHEN + timedelta(hours=4), internal=True
            )
            conflicts.act(
                manager, conflict.id, "resolve", RESOLUTION, now=WHEN + timedelta(hours=5)
            )
            conflicts.act(user, conflict.id, "accept", {}, now=WHEN + timedelta(hours=6))
            make_conflict(user, now=WHEN + timedelta(hours=7))
            written = _links()
            assert len(written["events"]) > 5 and len(written["trust"]) >= 2
            db.session.remove()

            downgrade(revision="0010_mail_notices")  # history without any chain
            upgrade()  # 0010 backfills it

            assert _links() == written
            assert audit_chain.verify_all().intact
            db.session.remove()
            db.engine.dispose()
