"""`flask tokens create`: an API token for scripts and operators, printed once."""

from __future__ import annotations

from datetime import timedelta

import click
from flask import Flask
from flask.cli import AppGroup

from tracker.clock import utcnow
from tracker.services import accounts, api_tokens
from tracker.services.errors import ServiceError

tokens_cli = AppGroup("tokens", help="Personal API tokens.")


@tokens_cli.command("create")
@click.argument("email")
@click.option("--scope", type=click.Choice(api_tokens.SCOPES), required=True, help="read or write.")
@click.option("--name", default="CLI token", show_default=True, help="To recognise it later.")
@click.option(
    "--expires-days", type=click.IntRange(min=1, max=730), default=None, help="Expire after."
)
def create_token(email: str, scope: str, name: str, expires_days: int | None) -> None:
    """Create a token for EMAIL; the token is printed alone on the last line."""
    user = accounts.find_user_by_email(email)
    if user is None:
        raise click.ClickException(f"No user with email {email}.")
    now = utcnow()
    expires_at = now + timedelta(days=expires_days) if expires_days else None
    try:
        token, raw = api_tokens.create(
            user, name=name, scope=scope, now=now, expires_at=expires_at, actor=None
        )
    except ServiceError as exc:
        details = "; ".join(exc.field_errors.values())
        raise click.ClickException(f"{exc.message} {details}".strip()) from exc
    expiry = token.expires_at.isoformat() if token.expires_at else "never"
    click.echo(f"Token {token.name!r} ({token.scope}) for {user.email}, expires {expiry}:")
    click.echo(raw)


def register_commands(app: Flask) -> None:
    app.cli.add_command(tokens_cli)
