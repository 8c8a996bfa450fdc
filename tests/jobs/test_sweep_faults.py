"""Exactly once under faults: parallel sweeps, a sweep killed with SIGKILL, real SMTP and hooks."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.factories import make_admin, make_conflict, make_manager, make_partner, make_partner_user
from tests.servers import read_until, wait_for
from tracker.channels.webhook import SIGNATURE_HEADER, verify
from tracker.extensions import db
from tracker.jobs.sweep import sweep
from tracker.models import Conflict, Escalation, Notification, OutboxMessage
from tracker.services.outbox import deliver_due

ROOT = Path(__file__).resolve().parents[2]
MONDAY_10_BERLIN = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
AFTER_CRITICAL = datetime(2026, 11, 16, 10, 30, tzinfo=UTC)  # 11:30 Berlin: 150 % of 1h


def _world(count: int):  # type: ignore[no-untyped-def]
    owner = make_manager(email="maya@example.com")
    admin = make_admin(email="ada@example.com")
    partner = make_partner(name="Northwind", owner_id=owner.id)
    user = make_partner_user(partner=partner, email="anna@northwind.example")
    for i in range(count):
        make_conflict(
            user, severity="critical", title=f"Critical conflict {i}", now=MONDAY_10_BERLIN
        )
    return owner, admin, user


def _assert_every_alert_exactly_once(count: int, owner, admin) -> None:  # type: ignore[no-untyped-def]
    escalations = db.session.scalars(select(Escalation)).all()
    assert len(escalations) == 3 * count
    assert len({(e.conflict_id, e.clock, e.level, e.cycle) for e in escalations}) == 3 * count
    owner_notices = db.session.scalar(
        select(func.count(Notification.id)).where(
            Notification.user_id == owner.id, Notification.kind == "escalation"
        )
    )
    admin_notices = db.session.scalar(
        select(func.count(Notification.id)).where(
            Notification.user_id == admin.id, Notification.kind == "escalation"
        )
    )
    # Every level is recorded; people hear once per conflict and clock, of the highest level
    # reached (the sweep runs after all three were passed: one catch-up notice each).
    assert owner_notices == count
    assert admin_notices == count  # critical only
    titles = db.session.execute(select(Notification.user_id, Notification.title)).all()
    assert len(titles) == len(set(titles))  # nobody reads the same words twice
    emails = db.session.scalars(
        select(OutboxMessage.address).where(OutboxMessage.subject.like("%breached (critical)%"))
    ).all()
    assert sorted(emails) == sorted(["ada@example.com", "maya@example.com"] * count)


# Small batches: several transactions per sweep, the lock taken again for each.
BATCH_SIZES = [
    pytest.param({}, id="one-batch"),
    pytest.param({"batch_size": 2}, id="batches-of-2"),
]


@pytest.mark.parametrize("batching", BATCH_SIZES)
def test_two_sweeps_in_parallel_send_each_alert_once(app, batching) -> None:
    owner, admin, _ = _world(8)
    errors: list[BaseException] = []
    reports = []
    start = threading.Barrier(2)

    def run() -> None:
        try:
            with app.app_context():
                start.wait()
                reports.append(sweep(AFTER_CRITICAL, **batching))
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001  (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sum(r.evaluated for r in reports) == 8
    db.session.expire_all()
    _assert_every_alert_exactly_once(8, owner, admin)


@pytest.mark.parametrize(
    ("batch_args", "committed"),
    [
        pytest.param([], 0, id="killed-in-the-only-batch"),
        # Batches of 2, paused once the batch holding the 3rd conflict is evaluated: the first
        # batch is committed, the second not.
        pytest.param(["--batch-size", "2"], 2, id="killed-after-a-committed-batch"),
    ],
)
def test_sweep_killed_mid_way_then_rerun_loses_nothing_and_doubles_nothing(
    app, tmp_path, batch_args, committed
) -> None:
    owner, admin, _ = _world(6)
    env = {
        **os.environ,
        "TRACKER_ENV": "test",
        "TRACKER_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "TRACKER_INSTANCE_PATH": str(tmp_path),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "sla", "sweep",
         "--now", AFTER_CRITICAL.isoformat(), "--pause-after", "3", *batch_args],
        cwd=ROOT, env=env, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        read_until(process, "paused after")  # a batch evaluated, not committed
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    db.session.expire_all()
    first = db.session.scalars(select(Conflict.id).order_by(Conflict.id).limit(committed)).all()
    done = db.session.scalars(select(Escalation.conflict_id)).all()
    # The committed batch is complete (three levels each); the killed one left nothing.
    assert sorted(done) == sorted(first * 3)
    report = wait_for(lambda: (r := sweep(AFTER_CRITICAL)) and not r.skipped and r, timeout=20)
    assert report.evaluated == 6 - committed
    assert sweep(AFTER_CRITICAL).evaluated == 0
    db.session.expire_all()
    _assert_every_alert_exactly_once(6, owner, admin)


def test_alerts_arrive_by_email_and_signed_webhook_once(app, smtp_server, webhook_receiver) -> None:
    app.config.update(
        SMTP_HOST=smtp_server.host,
        SMTP_PORT=smtp_server.port,
        WEBHOOK_URL=webhook_receiver.url,
        WEBHOOK_SECRET="hook-secret",
        BASE_URL="https://trustomer.example",
    )
    owner, admin, user = _world(1)
    deliver_due(MONDAY_10_BERLIN)  # the submission notices
    smtp_server.clear()
    sweep(AFTER_CRITICAL)
    report = deliver_due(AFTER_CRITICAL)
    assert report.gave_up == 0 and report.retried == 0
    subjects = sorted(m.message["Subject"] for m in smtp_server.messages)
    assert any(
        "Time to triage breached (critical): TR-2026-" in s and "Northwind" in s for s in subjects
    )
    recipients = [r for m in smtp_server.messages for r in m.rcpt_tos]
    assert user.email not in [
        r for m in smtp_server.messages if "breached" in m.message["Subject"] for r in m.rcpt_tos
    ]
    assert recipients.count("ada@example.com") == 1  # critical only
    critical = next(m for m in smtp_server.messages if "(critical)" in m.message["Subject"])
    text = critical.message.get_body(preferencelist=("plain",)).get_content()
    assert "https://trustomer.example/console/conflicts/" in text
    hooks = webhook_receiver.requests
    assert [json.loads(h.body)["level"] for h in hooks] == ["critical"]  # one, the highest
    passed = json.loads(hooks[0].body)["passed"]
    assert [p["level"] for p in passed] == ["warning", "breach"]
    for hook in hooks:
        assert verify(hook.body, "hook-secret", hook.headers[SIGNATURE_HEADER])
        payload = json.loads(hook.body)
        assert payload["conflict"].startswith("TR-") and payload["text"] and payload["due_at"]
    assert deliver_due(AFTER_CRITICAL).sent == 0
    assert len(webhook_receiver.requests) == 1
