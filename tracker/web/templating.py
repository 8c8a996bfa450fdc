"""Jinja filters and globals: times in the viewer's timezone, navigation for the role."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Flask
from flask_babel import get_locale
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from tracker.domain import workflow
from tracker.domain.clock import SLA_STATE_LABELS, format_duration
from tracker.web.markdown import render_markdown


def viewer_timezone() -> str:
    if getattr(current_user, "is_authenticated", False):
        return current_user.display_timezone
    return "UTC"


NAVIGATION: dict[str, tuple[tuple[str, str], ...]] = {
    "partner": (
        ("portal.conflicts_list", "My conflicts"),
        ("portal.new_conflict", "New conflict"),
        ("trust.own_trust", "Our track record"),
        ("main.organisation", "My organisation"),
    ),
    "manager": (
        ("console.queue", "Queue"),
        ("console.escalations_page", "Escalations"),
        ("trust.portfolio", "Portfolio"),
        ("partners.index", "Partners"),
    ),
    "admin": (
        ("console.queue", "Queue"),
        ("console.escalations_page", "Escalations"),
        ("trust.portfolio", "Portfolio"),
        ("admin.users", "Users"),
        ("partners.index", "Partners"),
        ("admin.agreements", "Agreements"),
        ("admin.outbox", "Outbox"),
        ("admin.audit_log", "Audit log"),
        ("admin.inbound_mail_page", "Inbound mail"),
        ("admin.settings", "Settings"),
    ),
}


def nav_items() -> tuple[tuple[str, str], ...]:
    """(endpoint, label) pairs for the signed-in user's role."""
    if not getattr(current_user, "is_authenticated", False):
        return ()
    return NAVIGATION.get(current_user.role, ())


def unread_notifications() -> int:
    """For the bell in the navigation."""
    from tracker.services.notifications import unread_count

    if not getattr(current_user, "is_authenticated", False):
        return 0
    return unread_count(current_user)


def age(since: datetime, now: datetime) -> str:
    """A short wall-clock age: 3d 4h, 5h 10m, 12m."""
    minutes = max(0, int((now - since).total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {mins}m"
    return f"{mins}m"


def countdown(due: datetime | None, now: datetime) -> str:
    """Server-side text of a countdown badge; countdown.js keeps it current."""
    if due is None:
        return "no deadline"
    left = due - now
    return f"due in {age(now, due)}" if left >= timedelta(0) else f"overdue by {age(due, now)}"


def live_sla_state(conflict, now: datetime) -> str:  # type: ignore[no-untyped-def]
    """The SLA state as of now (the stored one can lag the sweep by up to a minute)."""
    from tracker.services.sla import live_state

    return live_state(conflict, now)


def localtime(value: datetime | None, fmt: str = "%a %d %b %Y %H:%M", tz: str | None = None) -> str:
    """Format an aware UTC datetime in the viewer's zone, with the zone's abbreviation."""
    if value is None:
        return "—"
    try:
        local = value.astimezone(ZoneInfo(tz or viewer_timezone()))
    except OverflowError:  # far-future dates (year 9999) cannot shift into some zones
        local = value
    return f"{local.strftime(fmt)} {local.tzname()}"


def register_template_helpers(app: Flask) -> None:
    app.jinja_env.filters["localtime"] = localtime
    app.jinja_env.globals["csrf_token"] = generate_csrf
    app.jinja_env.globals["current_locale"] = lambda: str(get_locale() or "en")
    app.jinja_env.policies["ext.i18n.trimmed"] = True
    app.jinja_env.globals["viewer_timezone"] = viewer_timezone
    app.jinja_env.globals["nav_items"] = nav_items
    app.jinja_env.globals["unread_notifications"] = unread_notifications
    app.jinja_env.globals["wf"] = workflow
    app.jinja_env.globals["age"] = age
    app.jinja_env.globals["countdown"] = countdown
    app.jinja_env.globals["live_sla_state"] = live_sla_state
    app.jinja_env.globals["sla_labels"] = SLA_STATE_LABELS
    app.jinja_env.filters["duration"] = format_duration
    app.jinja_env.filters["seconds_duration"] = lambda s: format_duration(timedelta(seconds=s or 0))
    app.jinja_env.filters["markdown"] = render_markdown

    @app.after_request
    def security_headers(response):  # type: ignore[no-untyped-def]
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
        )
        return response
