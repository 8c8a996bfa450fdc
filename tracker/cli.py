"""Flask commands for operators: `flask --app wsgi partners|users|demo|notifications ...`,
and `db backup` / `db restore` beside Flask-Migrate's `db` commands."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from tracker.clock import utcnow
from tracker.services import accounts, audit_chain, partners
from tracker.services.errors import ServiceError

partners_cli = AppGroup("partners", help="Manage partner organisations.")
users_cli = AppGroup("users", help="Manage user accounts.")
demo_cli = AppGroup("demo", help="Demo data.")
notifications_cli = AppGroup("notifications", help="Deliver outgoing emails and webhooks.")
audit_cli = AppGroup("audit", help="The tamper-evident audit chains.")
mail_cli = AppGroup("mail", help="Incoming mail: replies and new conflicts.")


def _fail(error: ServiceError) -> None:
    details = "; ".join(f"{k}: {v}" for k, v in error.field_errors.items())
    raise click.ClickException(error.message + (f" ({details})" if details else ""))


@partners_cli.command("create")
@click.argument("name")
@click.option("--tier", required=True, help="strategic, preferred or standard")
@click.option("--timezone", "timezone", required=True, help="IANA timezone, e.g. Europe/Berlin")
@click.option("--country", default=None, help="ISO country code, e.g. DE")
@click.option("--owner", "owner_email", default=None, help="Email of the relationship owner")
def create_partner(
    name: str, tier: str, timezone: str, country: str | None, owner_email: str | None
) -> None:
    """Create a partner organisation and print its id."""
    owner_id = None
    if owner_email:
        owner = accounts.find_user_by_email(owner_email)
        if owner is None:
            raise click.ClickException(f"No user with email {owner_email}.")
        owner_id = owner.id
    try:
        partner = partners.create_partner(
            name=name,
            tier=tier,
            timezone=timezone,
            country=country,
            owner_id=owner_id,
            now=utcnow(),
        )
    except ServiceError as exc:
        _fail(exc)
    click.echo(partner.id)


@users_cli.command("create")
@click.argument("email")
@click.option("--role", required=True, help="admin, manager or partner")
@click.option("--partner", "partner_name", default=None, help="Partner name (partner users)")
@click.option("--name", default=None, help="Full name (defaults to the email's local part)")
@click.option("--password", default=None, help="Set a password now instead of inviting")
def create_user(
    email: str, role: str, partner_name: str | None, name: str | None, password: str | None
) -> None:
    """Create a user and print its id (and an invite link when no password is given)."""
    partner_id = None
    if partner_name:
        partner = partners.find_partner_by_name(partner_name)
        if partner is None:
            raise click.ClickException(f"No partner named {partner_name!r}.")
        partner_id = partner.id
    try:
        user = accounts.create_user(
            email=email,
            name=name or "",
            role=role,
            partner_id=partner_id,
            password=password,
            now=utcnow(),
        )
    except ServiceError as exc:
        _fail(exc)
    click.echo(user.id)
    if password is None:
        click.echo("Invitation link: " + accounts.invite_url(user), err=True)


@demo_cli.command("seed")
@click.option("--if-empty", is_flag=True, help="Only seed a database that has no users yet.")
def seed_demo(if_empty: bool) -> None:
    """Load demo partners, users and history (safe to run twice)."""
    from tracker.services.demo import seed

    if if_empty and accounts.count_users() > 0:
        click.echo("demo seed: skipped, the database already has users")
        return
    summary = seed(now=utcnow())
    click.echo(summary)


@demo_cli.command("generate")
@click.option("--partners", type=int, default=50, show_default=True)
@click.option("--conflicts", type=int, default=10_000, show_default=True)
@click.option("--open-share", type=float, default=0.65, show_default=True, help="share not closed")
@click.option("--history-days", type=int, default=730, show_default=True)
@click.option("--seed", type=int, default=20261202, show_default=True)
def generate_demo(
    partners: int, conflicts: int, open_share: float, history_days: int, seed: int
) -> None:
    """Generate a realistic volume of data fast (benchmarks, load tests): every state, clocks
    at every stage, timelines, ratings and trust history."""
    from tracker.services.demo_history import generate

    def progress(done: int, total: int) -> None:
        if done == total or done % 50_000 == 0:
            click.echo(f"  {done:,} of {total:,} conflicts", err=True)

    try:
        result = generate(
            partners=partners,
            conflicts=conflicts,
            open_share=open_share,
            history_days=history_days,
            seed=seed,
            now=utcnow(),
            progress=progress,
        )
    except ServiceError as exc:
        _fail(exc)
    for line in result.lines():
        click.echo(line)


def _parse_instant(ctx: click.Context, param: click.Parameter, value: str | None) -> datetime:
    if value is None:
        return utcnow()
    try:
        instant = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not an ISO 8601 date and time, e.g. 2026-11-16T09:00:00+00:00"
        ) from None
    # A time without an offset is read as UTC, the zone every stored time is in.
    return instant.replace(tzinfo=UTC) if instant.tzinfo is None else instant.astimezone(UTC)


@notifications_cli.command("deliver")
@click.option("--limit", type=click.IntRange(min=1), default=100, show_default=True)
@click.option(
    "--now",
    callback=_parse_instant,
    help="Deliver what is due at this ISO 8601 instant (UTC unless it has an offset).",
)
def deliver_notifications(limit: int, now: datetime) -> None:
    """Send the outbox messages that are due; safe to run on several hosts at once."""
    from tracker.services.outbox import deliver_due

    report = deliver_due(now, limit=limit)
    for line in report.lines:
        click.echo(line)
    click.echo(report.summary_line)


@notifications_cli.command("digest")
@click.option(
    "--now",
    callback=_parse_instant,
    help="Queue the digests due at this ISO 8601 instant (UTC unless it has an offset).",
)
def queue_digests(now: datetime) -> None:
    """Queue today's daily digest for each reader whose digest hour has come (once a day)."""
    from tracker.services.mail_notices import send_digests

    click.echo(f"queued {send_digests(now)} digest(s)")


@audit_cli.command("verify")
def verify_audit_chains() -> None:
    """Walk every chain and name the first broken link of each; exit 1 on any break."""
    report = audit_chain.verify_all()
    for broken in report.breaks:
        click.echo(f"BROKEN {broken.describe()}")
    state = "intact" if report.intact else f"{len(report.breaks)} broken"
    click.echo(f"{report.chains} chains, {report.entries} entries: {state}")
    if not report.intact:
        raise SystemExit(1)


def _mail_exit(error: Exception) -> int:
    """EX_TEMPFAIL for whatever later may cure (the database away, the mailbox down, a bug we
    log): the MTA keeps the message and retries, so no mail is lost."""
    from tracker.database import is_unavailable
    from tracker.services import transactions

    transactions.discard_after_outage()
    if is_unavailable(error):
        click.echo(f"mail: the database is unavailable, try again later: {error}", err=True)
    else:
        current_app.logger.exception("mail: unexpected error")
    return 75


@mail_cli.command("ingest")
def ingest_mail() -> None:
    """Read one raw RFC 5322 message on standard input (an MTA's pipe transport).

    Exit 0 when handled or deliberately dropped, 65 for input that is no message, 75 when
    the database is unavailable (the MTA retries).
    """
    from tracker.services import inbound_mail

    limit = int(current_app.config.get("MAIL_MAX_BYTES", inbound_mail.DEFAULT_MAX_BYTES))
    stream = sys.stdin.buffer
    raw = stream.read(limit + 1)
    size = len(raw)
    while chunk := stream.read(1024 * 1024):  # the rest of an oversized one: counted, not kept
        size += len(chunk)
    try:
        result = inbound_mail.receive(raw, now=utcnow(), source=inbound_mail.PIPE, size=size)
    except Exception as exc:  # noqa: BLE001 - every failure is an exit status for the MTA
        raise SystemExit(_mail_exit(exc)) from exc
    current_app.logger.info("inbound mail (pipe): %s", result.line)
    click.echo(result.line, err=True)
    raise SystemExit(result.exit_code)


@mail_cli.command("fetch")
@click.option("--limit", type=click.IntRange(min=1), default=200, show_default=True)
def fetch_mail(limit: int) -> None:
    """Fetch the IMAP intake folder (TRACKER_IMAP_*) once; safe to run in several processes.

    Exit 0 when the pass ended, 75 when the mailbox or the database is unavailable,
    78 when no mailbox is configured or it refuses our sign-in.
    """
    from tracker.channels.imap import MailboxError
    from tracker.services import inbound_mail

    try:
        report = inbound_mail.fetch(utcnow(), limit=limit)
    except ServiceError as exc:
        click.echo(f"mail fetch: {exc.message}", err=True)
        raise SystemExit(78) from exc
    except MailboxError as exc:
        click.echo(f"mail fetch: {exc}", err=True)
        raise SystemExit(75 if exc.retryable else 78) from exc
    except Exception as exc:  # noqa: BLE001 - the database away: the message stays for later
        raise SystemExit(_mail_exit(exc)) from exc
    for line in report.lines:
        click.echo(line)
    click.echo(report.summary_line)


@click.command("backup")
@with_appcontext
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace PATH if it exists.")
def backup_database(path: Path, force: bool) -> None:
    """Write a consistent backup of the database to PATH while the app keeps running."""
    from tracker.services import backup

    try:
        report = backup.backup(current_app.config["SQLALCHEMY_DATABASE_URI"], path, force=force)
    except ServiceError as exc:
        _fail(exc)
    for line in report.lines():
        click.echo(line)


@click.command("restore")
@with_appcontext
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Confirm: replace everything in the database.")
def restore_database(path: Path, yes: bool) -> None:
    """Replace the database's contents with the backup at PATH (stop the app first)."""
    from tracker.services import backup

    url = current_app.config["SQLALCHEMY_DATABASE_URI"]
    try:
        if not yes:
            contents = backup.inspect_backup(url, path)
            click.echo(f"{path}: a Trustomer backup at revision {contents.revision}")
            raise click.ClickException(
                f"This replaces everything in {backup.describe_target(url)}. Stop the app "
                "and the scheduler, then run again with --yes."
            )
        report = backup.restore(url, path)
    except ServiceError as exc:
        _fail(exc)
    for line in report.lines():
        click.echo(line)


def register_commands(app: Flask) -> None:
    for group in (partners_cli, users_cli, demo_cli, notifications_cli, audit_cli, mail_cli):
        app.cli.add_command(group)
    migrate_group = app.cli.commands.get("db")  # migration_commands': Flask-Migrate's, lazily
    if isinstance(migrate_group, click.Group):
        migrate_group.add_command(backup_database)
        migrate_group.add_command(restore_database)
