"""Operator commands for the jobs: `flask sla sweep`, `flask scheduler run`."""

from __future__ import annotations

import contextlib
import time
from datetime import UTC, datetime

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from tracker.clock import utcnow

sla_cli = AppGroup("sla", help="SLA clocks and escalations.")
scheduler_cli = AppGroup("scheduler", help="The periodic jobs process.")


class IsoDateTime(click.ParamType):
    """ISO 8601; a time without offset is taken as UTC."""

    name = "ISO8601"

    def convert(self, value, param, ctx):  # type: ignore[no-untyped-def]
        if isinstance(value, datetime):
            return value
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            self.fail(f"{value!r} is not an ISO 8601 time such as 2026-11-23T15:00:00Z", param, ctx)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@sla_cli.command("sweep")
@click.option("--now", "now", type=IsoDateTime(), default=None, help="Evaluate as at this time.")
@click.option("--pause-after", type=int, default=None, hidden=True, help="Fault-injection tests.")
@click.option(
    "--batch-size", type=click.IntRange(min=1), default=None, hidden=True, help="Fault tests."
)
def sweep_command(now: datetime | None, pause_after: int | None, batch_size: int | None) -> None:
    """Run one SLA sweep and print what it did."""
    from tracker.jobs.sweep import sweep

    def pause(processed: int) -> None:
        # Called once a batch is evaluated, before its commit: a kill here loses that batch.
        if pause_after is not None and processed >= pause_after:
            click.echo(f"paused after {processed}", err=True)
            time.sleep(3600)

    options = {"batch_size": batch_size} if batch_size is not None else {}
    report = sweep(now or utcnow(), on_progress=pause, **options)
    for line in report.lines():
        click.echo(line)


@sla_cli.command("backfill")
@click.option("--now", "now", type=IsoDateTime(), default=None, help="Evaluate as at this time.")
def backfill_command(now: datetime | None) -> None:
    """Start the clocks of conflicts raised before SLA clocks existed (run once after upgrade)."""
    from tracker.services.sla import backfill

    click.echo(f"clocks started for {backfill(now or utcnow())} conflict(s)")


@scheduler_cli.command("run")
def run_scheduler() -> None:
    """Run the sweep every minute and outbox delivery every 10 seconds, until stopped."""
    from tracker.jobs.scheduler import build_scheduler
    from tracker.process import freeze_startup_objects

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    scheduler = build_scheduler(app)
    frozen = freeze_startup_objects()
    click.echo(
        "scheduler: sla_sweep every 60 s, outbox_delivery every 10 s (Ctrl+C stops); "
        f"{frozen:,} start-up objects left out of garbage collection"
    )
    with contextlib.suppress(KeyboardInterrupt, SystemExit):
        scheduler.start()


trust_cli = AppGroup("trust", help="The trust ledger.")


@trust_cli.command("rebuild")
@click.option("--now", "now", type=IsoDateTime(), default=None, help="Score as at this time.")
def rebuild_command(now: datetime | None) -> None:
    """Recompute every score from the ledger and show that it agrees with the stored one."""
    from tracker.services.trust import rebuild

    disagreements = 0
    for partner, side, stored, rebuilt in rebuild(now or utcnow()):
        same = abs(stored - rebuilt) < 1e-6
        disagreements += not same
        verdict = "agrees" if same else "DIFFERS (stored score replaced)"
        click.echo(f"{partner} · {side}: stored {stored:.2f}, rebuilt {rebuilt:.2f} · {verdict}")
    click.echo(f"rebuilt: {disagreements} disagreement(s)")


@trust_cli.command("watch")
@click.option("--now", "now", type=IsoDateTime(), default=None, help="Evaluate as at this time.")
def watch_command(now: datetime | None) -> None:
    """Alert relationship owners of partners with no contact for too long."""
    from tracker.services.trust import watch_silence

    click.echo(f"quiet partners: {watch_silence(now or utcnow())}")


def register_commands(app: Flask) -> None:
    for group in (sla_cli, scheduler_cli, trust_cli):
        app.cli.add_command(group)
