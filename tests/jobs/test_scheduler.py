"""The scheduler is data: fixed ids, intervals, coalescing, one instance per job."""

from tracker.jobs.scheduler import JOBS, build_scheduler, run_session_purge, run_trust_watch


def test_jobs_have_fixed_ids_and_never_overlap(app) -> None:
    scheduler = build_scheduler(app)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {
        "sla_sweep",
        "outbox_delivery",
        "trust_watch",
        "session_purge",
        "mail_digest",
        "audit_chain_verify",
        "database_statistics",
        "report_windows",
    }
    assert jobs["sla_sweep"].trigger.interval.total_seconds() == 60
    assert jobs["outbox_delivery"].trigger.interval.total_seconds() == 10
    for job in jobs.values():
        assert job.coalesce is True and job.max_instances == 1
    assert JOBS["trust_watch"] == 3600
    assert JOBS["audit_chain_verify"] == 24 * 3600
    assert JOBS["report_windows"] == 3600


def test_trust_watch_runs_under_its_lock_and_alerts_once(app) -> None:
    from datetime import UTC, datetime

    from sqlalchemy import func, select

    from tests.factories import make_manager, make_partner
    from tracker.extensions import db
    from tracker.models import JobLock, Notification

    owner = make_manager()
    make_partner(name="Long Quiet", owner_id=owner.id, now=datetime(2020, 1, 1, tzinfo=UTC))
    run_trust_watch(app)
    run_trust_watch(app)
    alerts = select(func.count(Notification.id)).where(Notification.kind == "trust_alert")
    assert db.session.scalar(alerts) == 1
    assert db.session.get(JobLock, "trust_watch").holder


def test_session_purge_deletes_finished_sessions_only(app) -> None:
    from datetime import timedelta

    from sqlalchemy import select

    from tests.factories import make_manager
    from tracker.clock import utcnow
    from tracker.extensions import db
    from tracker.models import UserSession
    from tracker.services import sessions

    user = make_manager()
    now = utcnow()
    live = sessions.start(user, now=now, lifetime=timedelta(hours=12))
    ended = sessions.start(user, now=now, lifetime=timedelta(hours=12))
    sessions.end(ended, now=now)
    db.session.commit()
    run_session_purge(app)
    db.session.expire_all()
    left = db.session.scalars(select(UserSession.id)).all()
    assert left == [sessions.hash_token(live)]
