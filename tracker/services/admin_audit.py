"""The admin audit log: who changed how the alliance is run, when, from what to what.

The services that make those changes publish `AdminChanged`; `on_admin_changed` is the one
writer of the log, on the global chain. The application never updates or deletes an entry
(the ORM refuses); `flask audit verify` shows it if anything else did.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select

from tracker.domain import audit_chain as chain
from tracker.domain.events import AdminChanged
from tracker.domain.text import N_
from tracker.extensions import db
from tracker.models import AdminAuditEntry, User
from tracker.services import audit_chain, paging
from tracker.services.errors import InvalidInput

COMMAND_LINE = "command line"

# Every kind the services record, with what a person reads in the filter.
KINDS = {
    "partner.created": "Partner created",
    "partner.updated": "Partner changed",
    "user.created": "User invited or created",
    "user.activated": "User reactivated",
    "user.deactivated": "User deactivated",
    "user.invite_reissued": "Invitation sent again",
    "calendar.created": "Calendar created",
    "calendar.updated": "Calendar changed",
    "policy.created": "Agreement created",
    "policy.updated": "Agreement changed",
    "policy.reapplied": "Agreement re-applied",
    "partner.policy_set": "Partner's agreement set",
    "token.created": "API token created",
    "token.revoked": "API token revoked",
    "webhook.created": "Webhook registered",
    "webhook.deactivated": "Webhook deactivated",
    "outbox.retried": "Outbox message retried",
}


def changed(
    actor: User | None,
    kind: str,
    subject: str,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AdminChanged:
    """The event a service publishes for one change (values made JSON-ready here)."""
    if kind not in KINDS:
        raise ValueError(f"unknown admin audit kind {kind!r}")
    return AdminChanged(
        actor_id=actor.id if actor is not None else None,
        kind=kind,
        subject=subject[:120],
        before=chain.plain(before) if before is not None else None,
        after=chain.plain(after) if after is not None else None,
    )


def on_admin_changed(event: AdminChanged, now: datetime) -> None:
    """Append the entry, linked into the global chain; a change that changed nothing is
    not one (an edit form saved as it was)."""
    if event.before is not None and event.before == event.after:
        return
    actor = db.session.get(User, event.actor_id) if event.actor_id is not None else None
    label = f"{actor.name} <{actor.email}>" if actor is not None else COMMAND_LINE
    values = {
        "at": now,
        "actor_id": event.actor_id,
        "actor_label": label[:300],
        "kind": event.kind,
        "subject": event.subject,
        "before": event.before,
        "after": event.after,
    }
    link = audit_chain.link_admin_entry(
        at=now, actor_id=event.actor_id, actor_label=values["actor_label"], kind=event.kind,
        subject=event.subject, before=event.before, after=event.after,
    )  # fmt: skip
    db.session.add(AdminAuditEntry(**values, **link))


# --- reading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditFilters:
    """What the admin page filters on; dates are whole days in the reader's timezone."""

    actor_id: int | None = None
    kind: str | None = None
    since: date | None = None
    until: date | None = None
    timezone: str = "UTC"


def parse_filters(
    *,
    actor: str | None,
    kind: str | None,
    since: str | None,
    until: str | None,
    timezone: str,
) -> AuditFilters:
    """Filters from a query string; anything malformed is an InvalidInput naming the field."""
    errors: dict[str, str] = {}
    actor_id = None
    if actor:
        if actor.isascii() and actor.isdigit() and len(actor) < 10:
            actor_id = int(actor)
        else:
            errors["actor"] = N_("Choose someone from the list.")
    if kind and kind not in KINDS:
        errors["kind"] = N_("Choose a kind from the list.")
    days: dict[str, date | None] = {}
    for name, value in (("since", since), ("until", until)):
        try:
            days[name] = date.fromisoformat(value) if value else None
        except ValueError:
            errors[name] = "A date such as 2026-11-16."
            days[name] = None
        # Far dates overflow when the day is turned into an instant in a timezone.
        if days[name] is not None and not 2000 <= days[name].year <= 2100:
            errors[name] = "A date between 2000 and 2100."
            days[name] = None
    if days["since"] and days["until"] and days["since"] > days["until"]:
        errors["until"] = N_("The end comes before the start.")
    if errors:
        raise InvalidInput(N_("Check the filters."), field_errors=errors)
    return AuditFilters(actor_id, kind or None, days["since"], days["until"], timezone)


def _day_start(day: date, timezone: str) -> datetime:
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(timezone))


def query(filters: AuditFilters) -> Select:
    """Newest first, filtered by actor, kind and the days from `since` to `until` inclusive."""
    statement = select(AdminAuditEntry).order_by(AdminAuditEntry.id.desc())
    if filters.actor_id is not None:
        statement = statement.where(AdminAuditEntry.actor_id == filters.actor_id)
    if filters.kind:
        statement = statement.where(AdminAuditEntry.kind == filters.kind)
    if filters.since:
        statement = statement.where(
            AdminAuditEntry.at >= _day_start(filters.since, filters.timezone)
        )
    if filters.until:
        end = _day_start(filters.until + timedelta(days=1), filters.timezone)
        statement = statement.where(AdminAuditEntry.at < end)
    return statement


def page(filters: AuditFilters, number: int, per_page: int = 50) -> Any:
    """One page of entries, newest first."""
    return paging.numbered(query(filters), number, per_page)


def actors() -> list[tuple[int, str]]:
    """Everyone who has an entry, for the filter."""
    rows = db.session.execute(
        select(User.id, User.name, User.email)
        .where(User.id.in_(select(AdminAuditEntry.actor_id).distinct()))
        .order_by(User.name)
    )
    return [(row.id, f"{row.name} <{row.email}>") for row in rows]


def describe(values: dict[str, Any] | None) -> str:
    """ "name: Northwind; tier: strategic": one line a person and a spreadsheet can read."""
    if values is None:
        return ""
    return "; ".join(f"{key}: {_shown(value)}" for key, value in sorted(values.items()))


def _shown(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, (dict, list)):
        return chain.canonical({"v": value}).decode("utf-8")[5:-1]
    return str(value)


CSV_HEADER = ("at_utc", "actor", "kind", "subject", "before", "after", "seq", "hash")


def csv_rows(entries: Iterable[AdminAuditEntry]) -> Iterator[list[Any]]:
    """The entries as CSV rows under CSV_HEADER (the web's csv_export writes and neutralises
    them: UTF-8 with a BOM, no cell a spreadsheet would run as a formula)."""
    for entry in entries:
        yield [
            chain.rfc3339(entry.at),
            entry.actor_label,
            entry.kind,
            entry.subject,
            describe(entry.before),
            describe(entry.after),
            entry.chain_seq,
            entry.hash,
        ]


def all_entries(filters: AuditFilters) -> Iterable[AdminAuditEntry]:
    """Every entry the filters select, streamed."""
    return db.session.scalars(query(filters).execution_options(yield_per=500))
