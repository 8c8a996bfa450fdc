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
def sweep_command(now: datetime | None, pause_after: int | None) -> None:
    """Run one SLA sweep and print what it did."""
    from tracker.jobs.sweep import sweep

    def pause(processed: int) -> None:
        if pause_after is not None and processed == pause_after:
            click.echo(f"paused after {processed}", err=True)
            time.sleep(3600)

    report = sweep(now or utcnow(), on_progress=pause)
    for line in report.lines():
        click.echo(line)


@scheduler_cli.command("run")
def run_scheduler() -> None:
    """Run the sweep every minute and outbox delivery every 10 seconds, until stopped."""
    from tracker.jobs.scheduler import build_scheduler

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    scheduler = build_scheduler(app)
    click.echo("scheduler: sla_sweep every 60 s, outbox_delivery every 10 s (Ctrl+C stops)")
    with contextlib.suppress(KeyboardInterrupt, SystemExit):
        scheduler.start()


def register_commands(app: Flask) -> None:
    for group in (sla_cli, scheduler_cli):
        app.cli.add_command(group)
