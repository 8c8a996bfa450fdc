"""The scheduler process: periodic jobs declared as data, run outside the web workers."""

from __future__ import annotations

import logging
from datetime import timedelta

from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from tracker.clock import utcnow

log = logging.getLogger("tracker.jobs")

# id -> (seconds between runs, what it runs). Fixed ids: a restart replaces, never duplicates.
JOBS = {
    "sla_sweep": 60,
    "outbox_delivery": 10,
    "trust_watch": 3600,
    "session_purge": 3600,
    "mail_digest": 600,
    "audit_chain_verify": 86400,
    "database_statistics": 86400,
    "report_windows": 3600,
    "mail_fetch": 60,  # only scheduled when TRACKER_IMAP_HOST is set
}


def run_sla_sweep(app: Flask) -> None:
    from tracker.jobs.sweep import sweep

    with app.app_context():
        report = sweep(utcnow())
        if report.evaluated or report.skipped:
            log.info("sla sweep: %s", "; ".join(report.lines()))


def run_outbox_delivery(app: Flask) -> None:
    from tracker.services.outbox import deliver_due

    with app.app_context():
        report = deliver_due(utcnow())
        if report.sent or report.retried or report.gave_up:
            log.info(
                "outbox: sent %s, retried %s, gave up %s",
                report.sent,
                report.retried,
                report.gave_up,
            )


def run_trust_watch(app: Flask) -> None:
    from tracker.jobs import locks
    from tracker.services.trust import watch_silence

    with app.app_context():
        now = utcnow()
        if locks.acquire("trust_watch", now):  # one process at a time, like the sweep
            watch_silence(now)


def run_session_purge(app: Flask) -> None:
    """Finished sign-in sessions (revoked, expired, idle) are deleted: a DELETE that any
    number of processes may run at once."""
    from tracker.services.sessions import purge_finished

    with app.app_context():
        idle = timedelta(minutes=app.config["SESSION_IDLE_MINUTES"])
        purged = purge_finished(utcnow(), idle=idle)
        if purged:
            log.info("sessions: purged %s finished", purged)


def run_mail_digest(app: Flask) -> None:
    """Daily digests, each reader's at their local digest hour: checked every 10 minutes,
    sent once a day (the outbox key names the reader's local date)."""
    from tracker.services.mail_notices import send_digests

    with app.app_context():
        queued = send_digests(utcnow())
        if queued:
            log.info("mail digest: queued %s", queued)


def run_audit_chain_verify(app: Flask) -> None:
    """Daily: every chain is verified; a break alerts the admins once that day."""
    from tracker.jobs import locks
    from tracker.services.audit_chain import check_and_alert

    with app.app_context():
        now = utcnow()
        if locks.acquire("audit_chain_verify", now):
            report = check_and_alert(now)
            if not report.intact:
                log.error("audit chain: %s broken", len(report.breaks))


def run_mail_fetch(app: Flask) -> None:
    """Poll the intake mailbox; one process at a time per message (the job lock, like the
    sweep's), and the Message-ID claim makes an overlap harmless anyway."""
    from tracker.channels.imap import MailboxError
    from tracker.jobs import locks
    from tracker.services.inbound_mail import fetch

    with app.app_context():
        now = utcnow()
        try:
            report = fetch(now, may_continue=lambda: locks.acquire("mail_fetch", now))
        except MailboxError as exc:
            log.warning("mail fetch: %s", exc)
            return
        if report.handled:
            log.info("%s", report.summary_line)


def run_database_statistics(app: Flask) -> None:
    """Daily: the planner's statistics follow the data as it grows (see database.py)."""
    from tracker.database import refresh_statistics
    from tracker.extensions import db

    with app.app_context():
        refresh_statistics(db.session)


def run_report_windows(app: Flask) -> None:
    """Hourly: the reports' closed months summed once a month has settled, so the page adds
    this month to them instead of summing the window (services/reports.close_window)."""
    from tracker.services.reports import close_window

    with app.app_context():
        if close_window(utcnow()):
            log.info("reports: summed the window's closed months")


RUNNERS = {
    "sla_sweep": run_sla_sweep,
    "outbox_delivery": run_outbox_delivery,
    "trust_watch": run_trust_watch,
    "session_purge": run_session_purge,
    "mail_digest": run_mail_digest,
    "audit_chain_verify": run_audit_chain_verify,
    "database_statistics": run_database_statistics,
    "report_windows": run_report_windows,
    "mail_fetch": run_mail_fetch,
}


def build_scheduler(app: Flask) -> BlockingScheduler:
    """coalesce: a late run happens once, not once per missed tick; max_instances=1: no overlap."""
    scheduler = BlockingScheduler(timezone="UTC")
    for job_id, seconds in JOBS.items():
        if job_id == "mail_fetch" and not app.config.get("IMAP_HOST"):
            continue
        scheduler.add_job(
            RUNNERS[job_id],
            "interval",
            seconds=seconds,
            args=[app],
            id=job_id,
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=seconds,
        )
    return scheduler
