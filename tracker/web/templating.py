"""Jinja filters and globals: times in the viewer's timezone, navigation for the role."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime, timedelta

from babel.dates import get_month_names
from flask import Flask
from flask_babel import format_date, format_decimal
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape
from wtforms.widgets import HiddenInput

from tracker.domain import workflow
from tracker.domain.accounts import LOCALES
from tracker.domain.clock import (
    SLA_STATE_LABELS,
    WORKING_DAYS,
    WORKING_HOURS,
    WORKING_MINUTES,
    format_working_time,
)
from tracker.domain.escalation import CLOCK_LABELS, LEVEL_LABELS
from tracker.domain.text import N_
from tracker.i18n import current_locale, format_local, gettext, ngettext
from tracker.web.charts import ENGLISH as ENGLISH_CHART_WORDS
from tracker.web.charts import ChartWords
from tracker.web.markdown import render_markdown


class TranslatedLabels(Mapping[str, str]):
    """A domain label table read in the viewer's language: the domain marks, the edge translates."""

    def __init__(self, labels: Mapping[str, str]) -> None:
        self._labels = labels

    def __getitem__(self, key: str) -> str:
        return gettext(self._labels[key])

    def __iter__(self) -> Iterator[str]:
        return iter(self._labels)

    def __len__(self) -> int:
        return len(self._labels)


class TranslatedWorkflow:
    """`wf` in templates: the workflow module, its label tables translated on reading."""

    def __getattr__(self, name: str) -> object:
        value = getattr(workflow, name)
        return TranslatedLabels(value) if name in _LABEL_TABLES else value


_LABEL_TABLES = frozenset(
    {
        "STATE_LABELS",
        "PARTNER_STATE_LABELS",
        "PARTNER_NEXT_STEPS",
        "CATEGORIES",
        "SEVERITIES",
        "ROOT_CAUSES",
        "ACCOUNTABLE_SIDES",
        "WITHDRAW_REASONS",
    }
)


def hidden_fields(form) -> Markup:  # type: ignore[no-untyped-def]
    """A form's hidden inputs (the CSRF token first of all) without ids: a page with several
    forms would otherwise repeat id="csrf_token", which is invalid and confuses assistive
    technology. Nothing points at a hidden input by id."""
    return Markup("\n").join(f(id=False) for f in form if isinstance(f.widget, HiddenInput))


def filter_options(
    choices: Iterable[tuple[object, object]], chosen: str | None, *, translate: bool = False
) -> Markup:
    """The `<option>`s of a list filter, the one whose value is `chosen` (the query argument)
    selected; `translate`: the labels are domain labels (N_). The queue's Jinja loops over
    fifty partners, the staff and the label tables cost about 0.5 ms a page; the markup is
    theirs, each value and label escaped as Jinja escapes them."""
    parts = []
    for value, label in choices:
        key = str(value)
        shown = gettext(label) if translate else label  # type: ignore[arg-type]
        selected = " selected" if chosen == key else ""
        parts.append(f'<option value="{escape(key)}"{selected}>{escape(shown)}</option>')
    return Markup("".join(parts))  # noqa: S704  (every value and label escaped above)


def viewer_timezone() -> str:
    if getattr(current_user, "is_authenticated", False):
        return current_user.display_timezone
    return "UTC"


ROLE_NAMES: dict[str, str] = {
    "admin": N_("admin"),
    "manager": N_("manager"),
    "partner": N_("partner"),
}

TIER_NAMES: dict[str, str] = {
    "strategic": N_("strategic"),
    "preferred": N_("preferred"),
    "standard": N_("standard"),
}

NAVIGATION: dict[str, tuple[tuple[str, str], ...]] = {
    "partner": (
        ("portal.conflicts_list", N_("My conflicts")),
        ("portal.new_conflict", N_("New conflict")),
        ("trust.own_trust", N_("Our track record")),
        ("main.organisation", N_("My organisation")),
    ),
    "manager": (
        ("console.queue", N_("Queue")),
        ("console.escalations_page", N_("Escalations")),
        ("trust.portfolio", N_("Portfolio")),
        ("console.reports_page", N_("Reports")),
        ("partners.index", N_("Partners")),
    ),
    "admin": (
        ("console.queue", N_("Queue")),
        ("console.escalations_page", N_("Escalations")),
        ("trust.portfolio", N_("Portfolio")),
        ("console.reports_page", N_("Reports")),
        ("admin.users", N_("Users")),
        ("partners.index", N_("Partners")),
        ("admin.agreements", N_("Agreements")),
        ("admin.outbox", N_("Outbox")),
        ("admin.audit_log", N_("Audit log")),
        ("admin.inbound_mail_page", N_("Inbound mail")),
        ("admin.settings", N_("Settings")),
    ),
}


def state_label(status: str) -> str:
    """A conflict state in the viewer's words and language (partners never read the queue's)."""
    staff = not getattr(current_user, "is_authenticated", False) or current_user.is_staff
    return gettext(workflow.state_label(status, staff=staff))


def working_time(value: timedelta, day_length: timedelta) -> str:
    """A business duration as partners read it (whole working days, else hours or minutes),
    in their language; the domain decides the unit and the number."""
    text = format_working_time(value, day_length)
    number = int(text.split(" ", 1)[0])
    if text in (form.format(n=number) for form in WORKING_DAYS):
        return ngettext("%(num)d working day", "%(num)d working days", number)
    if text in (form.format(n=number) for form in WORKING_HOURS):
        return ngettext("%(num)d working hour", "%(num)d working hours", number)
    if text in (form.format(n=number) for form in WORKING_MINUTES):
        return ngettext("%(num)d working minute", "%(num)d working minutes", number)
    return text


def month_year(day: date) -> str:
    """ "November 2026" in the reader's language."""
    if current_locale() == "en":
        return day.strftime("%B %Y")
    return format_date(day, "LLLL yyyy")


def short_date(day: date) -> str:
    """ "Wed 02 Dec 2026" in the reader's language."""
    if current_locale() == "en":
        return day.strftime("%a %d %b %Y")
    return format_date(day, "medium")


def nav_items() -> tuple[tuple[str, str], ...]:
    """(endpoint, label) pairs for the signed-in user's role."""
    if not getattr(current_user, "is_authenticated", False):
        return ()
    return NAVIGATION.get(current_user.role, ())


def unread_notifications() -> tuple[int, str, int]:
    """For the bell in the navigation: the unread count, its badge ("99+" beyond 99) and the
    most it counts exactly."""
    from tracker.services.notifications import BELL_SHOWS_AT_MOST, unread_count

    if not getattr(current_user, "is_authenticated", False):
        return 0, "", BELL_SHOWS_AT_MOST
    count = unread_count(current_user)
    badge = f"{BELL_SHOWS_AT_MOST}+" if count > BELL_SHOWS_AT_MOST else str(count)
    return count, badge, BELL_SHOWS_AT_MOST


def short_span(minutes: int) -> str:
    """3d 4h, 5h 10m or 12m in the reader's language (a wall-clock span, days of 24h)."""
    days, rest = divmod(max(0, minutes), 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return gettext("%(days)sd %(hours)sh", days=days, hours=hours)
    if hours:
        return gettext("%(hours)sh %(minutes)sm", hours=hours, minutes=mins)
    return gettext("%(minutes)sm", minutes=mins)


def age(since: datetime, now: datetime) -> str:
    """A short wall-clock age: 3d 4h, 5h 10m, 12m."""
    return short_span(int((now - since).total_seconds() // 60))


def lateness(due: datetime | None, now: datetime) -> str:
    """How late something is, in plain words: "overdue by 3 days", "due in 2 hours"."""
    if due is None:
        return gettext("no deadline")
    minutes = max(1, int(abs(now - due).total_seconds() // 60))
    days, hours = minutes // (24 * 60), minutes // 60
    if now >= due:
        if days:
            return ngettext("overdue by %(num)d day", "overdue by %(num)d days", days)
        if hours:
            return ngettext("overdue by %(num)d hour", "overdue by %(num)d hours", hours)
        return ngettext("overdue by %(num)d minute", "overdue by %(num)d minutes", minutes)
    if days:
        return ngettext("due in %(num)d day", "due in %(num)d days", days)
    if hours:
        return ngettext("due in %(num)d hour", "due in %(num)d hours", hours)
    return ngettext("due in %(num)d minute", "due in %(num)d minutes", minutes)


def business_duration(value: timedelta) -> str:
    """Compact business durations: 1h, 3h 20m (8h days are not assumed, so no days)."""
    minutes = int(abs(value).total_seconds() // 60)
    hours, mins = divmod(minutes, 60)
    if hours and mins:
        return gettext("%(hours)sh %(minutes)sm", hours=hours, minutes=mins)
    if hours:
        return gettext("%(hours)sh", hours=hours)
    return gettext("%(minutes)sm", minutes=mins)


def countdown(due: datetime | None, now: datetime) -> str:
    """Server-side text of a countdown badge; countdown.js keeps it current."""
    if due is None:
        return gettext("no deadline")
    if due - now >= timedelta(0):
        return gettext("due in %(span)s", span=age(now, due))
    return gettext("overdue by %(span)s", span=age(due, now))


def countdown_phrases() -> dict[str, str]:
    """The countdown's words for countdown.js, as data-* attributes of <html>."""
    return {
        "data-due-in": gettext("due in %(span)s", span="{span}"),
        "data-overdue-by": gettext("overdue by %(span)s", span="{span}"),
        "data-span-days": gettext("%(days)sd %(hours)sh", days="{d}", hours="{h}"),
        "data-span-hours": gettext("%(hours)sh %(minutes)sm", hours="{h}", minutes="{m}"),
        "data-span-minutes": gettext("%(minutes)sm", minutes="{m}"),
    }


def longdate(day: date) -> str:
    """ "Tuesday 17 November 2026" in the reader's language (CLDR's order elsewhere)."""
    if current_locale() == "en":
        return day.strftime("%A %d %B %Y")
    return format_date(day, "full")


def chart_words() -> ChartWords:
    """What a chart writes by itself, in the reader's language (charts.py imports no Flask)."""
    locale = current_locale()
    if locale == "en":
        return ENGLISH_CHART_WORDS
    months = get_month_names("abbreviated", context="stand-alone", locale=locale)
    return ChartWords(
        no_data=gettext(N_("No data yet for this period.")),  # charts.NO_DATA
        date=gettext("Date"),
        months=tuple(months[m] for m in range(1, 13)),
    )


def decimal(value: float | None, places: int = 1) -> str:
    """A number in the reader's notation (1,5 in German), at most `places` decimals."""
    if value is None:
        return "—"
    return format_decimal(round(value, places), format="#,##0." + "#" * places)


def signed(value: float, places: int = 1) -> str:
    """A change figure with its sign (+2.5, -1.0) in the reader's notation."""
    shown = format_decimal(abs(round(value, places)), format="0." + "0" * places)
    return ("-" if round(value, places) < 0 else "+") + shown


def live_sla_state(conflict, now: datetime) -> str:  # type: ignore[no-untyped-def]
    """The SLA state as of now (the stored one can lag the sweep by up to a minute)."""
    from tracker.services.sla import live_state

    return live_state(conflict, now)


def localtime(value: datetime | None, fmt: str = "%a %d %b %Y %H:%M", tz: str | None = None) -> str:
    """Format an aware UTC datetime in the viewer's zone and language, with the zone's name."""
    if value is None:
        return "—"
    return format_local(value, tz or viewer_timezone(), fmt)


def register_template_helpers(app: Flask) -> None:
    app.jinja_env.filters["localtime"] = localtime
    app.jinja_env.globals["csrf_token"] = generate_csrf
    app.jinja_env.globals["hidden_fields"] = hidden_fields
    app.jinja_env.globals["filter_options"] = filter_options
    app.jinja_env.globals["current_locale"] = current_locale
    app.jinja_env.policies["ext.i18n.trimmed"] = True
    app.jinja_env.globals["viewer_timezone"] = viewer_timezone
    app.jinja_env.globals["nav_items"] = nav_items
    app.jinja_env.globals["unread_notifications"] = unread_notifications
    app.jinja_env.globals["wf"] = TranslatedWorkflow()
    app.jinja_env.globals["state_label"] = state_label
    app.jinja_env.filters["working_time"] = working_time
    app.jinja_env.filters["monthyear"] = month_year
    app.jinja_env.filters["shortdate"] = short_date
    app.jinja_env.globals["age"] = age
    app.jinja_env.globals["countdown"] = countdown
    app.jinja_env.globals["lateness"] = lateness
    app.jinja_env.globals["live_sla_state"] = live_sla_state
    app.jinja_env.globals["tier_names"] = TranslatedLabels(TIER_NAMES)
    app.jinja_env.globals["role_names"] = TranslatedLabels(ROLE_NAMES)
    app.jinja_env.globals["level_labels"] = TranslatedLabels(LEVEL_LABELS)
    app.jinja_env.globals["clock_labels"] = TranslatedLabels(CLOCK_LABELS)
    app.jinja_env.globals["locale_names"] = LOCALES
    app.jinja_env.filters["decimal"] = decimal
    app.jinja_env.filters["longdate"] = longdate
    app.jinja_env.filters["signed"] = signed
    app.jinja_env.globals["sla_labels"] = TranslatedLabels(SLA_STATE_LABELS)
    app.jinja_env.globals["countdown_phrases"] = countdown_phrases
    app.jinja_env.filters["duration"] = business_duration
    app.jinja_env.filters["seconds_duration"] = lambda s: business_duration(
        timedelta(seconds=s or 0)
    )
    app.jinja_env.filters["t"] = gettext  # a domain label or message marked with N_
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
