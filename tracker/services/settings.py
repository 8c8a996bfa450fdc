"""What an administrator needs to know about the running configuration (no secrets)."""

from __future__ import annotations

from flask import Flask
from sqlalchemy.engine import make_url

from tracker.domain.text import N_
from tracker.extensions import db
from tracker.i18n import gettext
from tracker.services.health import current_revisions, migration_heads


def _redacted_url(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "(unparseable)"


def settings_overview(app: Flask) -> list[tuple[str, str]]:
    """(label, value) rows for the admin Settings page."""
    config = app.config
    return [
        (N_("Environment"), str(config.get("ENV_NAME"))),
        (N_("Database"), _redacted_url(config["SQLALCHEMY_DATABASE_URI"])),
        (N_("Database engine"), db.engine.dialect.name),
        (N_("Schema revision"), ", ".join(sorted(current_revisions())) or gettext("(none)")),
        (N_("Migrations head"), ", ".join(sorted(migration_heads()))),
        (N_("Rate-limit storage"), _redacted_url(config["RATELIMIT_STORAGE_URI"])),
        (
            N_("Sign-in lockout"),
            gettext(
                "%(account)s failures per account or %(address)s per address in %(minutes)s "
                "minutes",
                account=config["LOGIN_FAILURES_PER_ACCOUNT"],
                address=config["LOGIN_FAILURES_PER_ADDRESS"],
                minutes=config["LOGIN_LOCKOUT_MINUTES"],
            ),
        ),
        (
            N_("Invitation links valid for"),
            gettext("%(num)s hours", num=config["INVITE_MAX_AGE_HOURS"]),
        ),
        (N_("Public base URL"), config["BASE_URL"]),
        (
            N_("SMTP server"),
            f"{config['SMTP_HOST']}:{config['SMTP_PORT']}"
            if config["SMTP_HOST"]
            else gettext("not configured"),
        ),
        (N_("Mail sender"), config["MAIL_FROM"]),
        (
            N_("Escalation webhook"),
            gettext("configured") if config["WEBHOOK_URL"] else gettext("not configured"),
        ),
        (
            N_("Secure cookies"),
            gettext("yes") if config.get("SESSION_COOKIE_SECURE") else gettext("no (development)"),
        ),
    ]
