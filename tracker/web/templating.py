"""Jinja filters and globals: times in the viewer's timezone, navigation for the role."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask
from flask_login import current_user
from flask_wtf.csrf import generate_csrf


def viewer_timezone() -> str:
    if getattr(current_user, "is_authenticated", False):
        return current_user.display_timezone
    return "UTC"


NAVIGATION: dict[str, tuple[tuple[str, str], ...]] = {
    "partner": (("main.organisation", "My organisation"),),
    "manager": (("partners.index", "Partners"),),
    "admin": (
        ("admin.users", "Users"),
        ("partners.index", "Partners"),
        ("admin.settings", "Settings"),
    ),
}


def nav_items() -> tuple[tuple[str, str], ...]:
    """(endpoint, label) pairs for the signed-in user's role."""
    if not getattr(current_user, "is_authenticated", False):
        return ()
    return NAVIGATION.get(current_user.role, ())


def localtime(value: datetime | None, fmt: str = "%a %d %b %Y %H:%M", tz: str | None = None) -> str:
    """Format an aware UTC datetime in the viewer's zone, with the zone's abbreviation."""
    if value is None:
        return "—"
    local = value.astimezone(ZoneInfo(tz or viewer_timezone()))
    return f"{local.strftime(fmt)} {local.tzname()}"


def register_template_helpers(app: Flask) -> None:
    app.jinja_env.filters["localtime"] = localtime
    app.jinja_env.globals["csrf_token"] = generate_csrf
    app.jinja_env.globals["viewer_timezone"] = viewer_timezone
    app.jinja_env.globals["nav_items"] = nav_items

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
