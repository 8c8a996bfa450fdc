"""`flask notifications deliver`: a line per message, a summary line, clear errors for bad input."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.conftest import NOW
from tracker.extensions import db
from tracker.models import OutboxMessage
from tracker.services import outbox


def _queue(key: str, now=NOW) -> OutboxMessage:  # type: ignore[no-untyped-def]
    outbox.enqueue_email(
        dedupe_key=key, address=f"{key}@x.test", subject="Hello", text="Hi", html=None, now=now
    )
    db.session.commit()
    return db.session.scalar(select(OutboxMessage).where(OutboxMessage.dedupe_key == key))


def test_deliver_with_nothing_due_prints_the_summary_line(runner) -> None:
    result = runner.invoke(args=["notifications", "deliver"])
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1] == "delivered 0, retried 0, gave up 0"


def test_deliver_prints_a_line_per_message_and_the_totals(app, runner, smtp_server) -> None:
    app.config.update(SMTP_HOST=smtp_server.host, SMTP_PORT=smtp_server.port)
    ana = _queue("ana")
    ben = _queue("ben")
    smtp_server.reject_next(451, "greylisted")  # the oldest goes first: ana is refused
    result = runner.invoke(args=["notifications", "deliver", "--now", "2026-11-16T09:00:00+00:00"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0].startswith(f"retry #{ana.id} email to ana@x.test in 30s (attempt 1): ")
    assert "451 greylisted" in lines[0]
    assert lines[1] == f"sent #{ben.id} email to ben@x.test"
    assert lines[-1] == "delivered 1, retried 1, gave up 0"
    assert len(smtp_server.messages) == 1


def test_now_decides_what_is_due(app, runner, smtp_server) -> None:
    app.config.update(SMTP_HOST=smtp_server.host, SMTP_PORT=smtp_server.port)
    _queue("later", now=NOW + timedelta(hours=1))
    early = runner.invoke(args=["notifications", "deliver", "--now", "2026-11-16T09:00:00Z"])
    assert early.output.strip().splitlines()[-1] == "delivered 0, retried 0, gave up 0"
    on_time = runner.invoke(args=["notifications", "deliver", "--now", "2026-11-16T10:00:00"])
    assert on_time.exit_code == 0, on_time.output
    assert on_time.output.strip().splitlines()[-1] == "delivered 1, retried 0, gave up 0"


def test_limit_caps_the_pass(app, runner, smtp_server) -> None:
    app.config.update(SMTP_HOST=smtp_server.host, SMTP_PORT=smtp_server.port)
    for key in ("a", "b", "c"):
        _queue(key)
    result = runner.invoke(
        args=["notifications", "deliver", "--limit", "2", "--now", NOW.isoformat()]
    )
    assert result.output.strip().splitlines()[-1] == "delivered 2, retried 0, gave up 0"


def test_a_bad_now_is_refused_clearly(runner) -> None:
    result = runner.invoke(args=["notifications", "deliver", "--now", "next tuesday"])
    assert result.exit_code == 2
    assert "Invalid value for '--now'" in result.output
    assert "not an ISO 8601 date and time" in result.output


def test_a_limit_below_one_is_refused(runner) -> None:
    result = runner.invoke(args=["notifications", "deliver", "--limit", "0"])
    assert result.exit_code == 2
    assert "--limit" in result.output


def test_digest_queues_one_message_per_reader_per_day(app, runner) -> None:
    from tests.factories import make_conflict, make_manager, make_partner, make_partner_user
    from tracker.services import preferences

    owner = make_manager(timezone="Europe/Berlin")
    preferences.save_cadence(owner, "daily")
    make_conflict(make_partner_user(partner=make_partner(owner_id=owner.id)), now=NOW)
    assert db.session.scalar(select(OutboxMessage.id)) is None  # a digest reader: no mail yet
    early = runner.invoke(args=["notifications", "digest", "--now", "2026-11-17T06:00:00Z"])
    assert early.exit_code == 0 and early.output.strip() == "queued 0 digest(s)"
    due = runner.invoke(args=["notifications", "digest", "--now", "2026-11-17T07:30:00Z"])
    assert due.exit_code == 0 and due.output.strip() == "queued 1 digest(s)"
    again = runner.invoke(args=["notifications", "digest", "--now", "2026-11-17T07:40:00Z"])
    assert again.exit_code == 0
    keys = db.session.scalars(select(OutboxMessage.dedupe_key)).all()
    assert keys == [f"digest:{owner.id}:2026-11-17"]
