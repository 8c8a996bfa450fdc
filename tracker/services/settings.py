"""What an administrator needs to know about the running configuration (no secrets)."""

from __future__ import annotations

from flask import Flask
from sqlalchemy.engine import make_url

from tracker.extensions import db
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
        ("Environment", str(config.get("ENV_NAME"))),
        ("Database", _redacted_url(config["SQLALCHEMY_DATABASE_URI"])),
        ("Database engine", db.engine.dialect.name),
        ("Schema revision", ", ".join(sorted(current_revisions())) or "(none)"),
        ("Migrations head", ", ".join(sorted(migration_heads()))),
        ("Rate-limit storage", _redacted_url(config["RATELIMIT_STORAGE_URI"])),
        (
            "Sign-in lockout",
            f"{config['LOGIN_FAILURES_PER_ACCOUNT']} failures per account or "
            f"{config['LOGIN_FAILURES_PER_ADDRESS']} per address in "
            f"{config['LOGIN_LOCKOUT_MINUTES']} minutes",
        ),
        ("Invitation links valid for", f"{config['INVITE_MAX_AGE_HOURS']} hours"),
        ("Public base URL", config["BASE_URL"]),
        (
            "SMTP server",
            f"{config['SMTP_HOST']}:{config['SMTP_PORT']}"
            if config["SMTP_HOST"]
            else "not configured",
        ),
        ("Mail sender", config["MAIL_FROM"]),
        ("Escalation webhook", "configured" if config["WEBHOOK_URL"] else "not configured"),
        ("Secure cookies", "yes" if config.get("SESSION_COOKIE_SECURE") else "no (development)"),
    ]
