"""Delivery leases run on the database's clock: a deliverer whose clock (or `--now`) runs ahead
must not take over a message another deliverer is still sending."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.servers import SmtpServer
from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import OutboxMessage
from tracker.services import outbox

AHEAD = timedelta(hours=2)  # far more than any lease


@pytest.fixture
def mail(app, smtp_server: SmtpServer) -> SmtpServer:
    app.config.update(SMTP_HOST=smtp_server.host, SMTP_PORT=smtp_server.port)
    return smtp_server


def queue(key: str, address: str = "alice@partner.example") -> OutboxMessage:
    outbox.enqueue_email(
        dedupe_key=key,
        address=address,
        subject="TR-2026-00001 breached its resolution target",
        text="The conflict is overdue.",
        html=None,
        now=utcnow(),
    )
    db.session.commit()
    return db.session.scalar(select(OutboxMessage).where(OutboxMessage.dedupe_key == key))


def run_in_thread(app, target, errors: list[BaseException]) -> threading.Thread:  # type: ignore[no-untyped-def]
    """`target()` in its own thread, app context and database session, as another host would."""

    def body() -> None:
        try:
            with app.app_context():
                target()
        except BaseException as exc:  # surfaced by the test: a thread's exception is lost
            errors.append(exc)

    thread = threading.Thread(target=body)
    thread.start()
    return thread


def test_a_deliverer_running_ahead_leaves_a_live_lease_alone(app, mail, monkeypatch) -> None:
    message = queue("esc-1-alice")
    first_is_sending, ahead_is_done = threading.Event(), threading.Event()
    real_send = outbox.send_email

    def send_holding_the_first(*args, **kwargs):  # type: ignore[no-untyped-def]
        # The first deliverer to send waits mid-send until the other has made its pass.
        if not first_is_sending.is_set():
            first_is_sending.set()
            ahead_is_done.wait(timeout=30)
        return real_send(*args, **kwargs)

    monkeypatch.setattr(outbox, "send_email", send_holding_the_first)
    errors: list[BaseException] = []
    reports: dict[str, outbox.DeliveryReport] = {}

    on_time = run_in_thread(
        app, lambda: reports.update(on_time=outbox.deliver_due(utcnow(), worker="on-time")), errors
    )
    assert first_is_sending.wait(timeout=30)
    ahead = run_in_thread(
        app,
        lambda: reports.update(ahead=outbox.deliver_due(utcnow() + AHEAD, worker="ahead")),
        errors,
    )
    ahead.join(timeout=60)
    ahead_is_done.set()
    on_time.join(timeout=60)

    assert errors == []
    assert (reports["on_time"].sent, reports["ahead"].sent) == (1, 0)
    assert [m.message["Message-ID"] for m in mail.messages] == [outbox.email_message_id(message.id)]
    db.session.expire_all()
    assert db.session.get(OutboxMessage, message.id).status == "sent"


def test_skewed_deliverers_in_parallel_send_every_message_exactly_once(app, mail) -> None:
    messages = [queue(f"k{n}", f"user{n}@partner.example") for n in range(20)]
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def deliverer(skew: timedelta):  # type: ignore[no-untyped-def]
        def run() -> None:
            start.wait(timeout=10)
            outbox.deliver_due(utcnow() + skew, worker=f"skew {skew}")

        return run

    threads = [run_in_thread(app, deliverer(skew), errors) for skew in (timedelta(0), AHEAD)]
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    received = sorted(m.message["Message-ID"] for m in mail.messages)
    assert received == sorted(outbox.email_message_id(m.id) for m in messages)
    db.session.expire_all()
    assert outbox.summary() == {"pending": 0, "sending": 0, "sent": 20, "failed": 0}


def test_a_claim_is_leased_from_the_databases_clock_not_the_callers(app) -> None:
    app.config["DELIVERY_LEASE_SECONDS"] = 120
    message = queue("esc-2-alice")
    before = utcnow()
    # Claimed as a deliverer whose clock runs two hours ahead would claim it.
    claimed = outbox._claim(message.id, utcnow() + AHEAD, 120)
    assert claimed is not None
    assert before + timedelta(seconds=119) <= claimed.lease <= utcnow() + timedelta(seconds=121)
    stored = db.session.scalar(
        select(OutboxMessage.claimed_until).where(OutboxMessage.id == message.id)
    )
    assert stored == claimed.lease  # read back exactly: the fence compares it for equality


@pytest.mark.parametrize(
    ("offset", "taken"),
    [(timedelta(seconds=-1), True), (timedelta(seconds=30), False), (timedelta(days=-1), True)],
)
def test_a_lease_is_judged_against_the_database_clock_to_the_second(
    app, mail, offset: timedelta, taken: bool
) -> None:
    message = queue("esc-3-alice")
    row = db.session.get(OutboxMessage, message.id)
    row.status, row.claimed_until = "sending", utcnow() + offset
    db.session.commit()

    # Even a caller whose clock is a day behind takes an expired lease, and one a day
    # ahead leaves a live one alone.
    report = outbox.deliver_due(utcnow() + (-AHEAD if taken else AHEAD))

    assert report.sent == (1 if taken else 0)
    assert len(mail.messages) == (1 if taken else 0)
