"""Partner agreements: business calendars, SLA policies, who they cover, and re-applying them.

Editing a policy or calendar changes new conflicts only (each conflict keeps the snapshot it
started under) until an admin re-applies the policy to the open conflicts it covers.
Field errors are keyed by concept, as the admin forms name their fields: `name`, `timezone`,
`mon`..`sun`, `holidays`, `holiday_country`, `always_open`; `tier`, `calendar_id`,
`<severity>_triage`, `<severity>_resolution`, `warning_percent`, `critical_percent`,
`reminder_interval`, `response_expectation`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select

from tracker.clock import utcnow
from tracker.database import lock_for_write
from tracker.domain import accounts as rules
from tracker.domain import clock, workflow
from tracker.domain.accounts import ADMIN, TIERS
from tracker.domain.calendar import BusinessCalendar, SlaConfigError, add_business_time
from tracker.domain.clock import WEEKDAY_KEYS
from tracker.domain.text import N_
from tracker.extensions import db
from tracker.models import Conflict, Partner, SlaCalendar, SlaPolicy, User
from tracker.services import admin_audit, messagebus, sla, timeline
from tracker.services.errors import InvalidInput, NotFound, PermissionDenied

SEVERITIES = tuple(workflow.SEVERITY_RANK)  # most urgent first: critical, high, medium, low
MAX_TARGET_MINUTES = 366 * 24 * 60  # a year of business time is already far beyond any SLA
MAX_REMINDER_MINUTES = 30 * 24 * 60
_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_FIELD_OF_WEEKDAY = dict(zip(_WEEKDAY_NAMES, WEEKDAY_KEYS, strict=True))
_CLOCK_TIME = re.compile(r"(\d{1,2}):(\d{2})")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_WHOLE_WEEK = (((time(0), time(0)),),) * 7
# Stands in for "the partner's own office hours" where no partner is at hand.
_STAND_IN_TIMEZONE = "UTC"


# --- reading -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CalendarUsage:
    calendar: SlaCalendar
    policies: list[SlaPolicy]


@dataclass(frozen=True)
class PolicyUsage:
    """A policy with the partners it covers: by their tier, or as their own override."""

    policy: SlaPolicy
    tier_partner_count: int
    override_partners: list[Partner]


def get_calendar(calendar_id: int) -> SlaCalendar:
    """The calendar, or NotFound."""
    calendar = db.session.get(SlaCalendar, calendar_id)
    if calendar is None:
        raise NotFound(N_("No such calendar."))
    return calendar


def get_policy(policy_id: int) -> SlaPolicy:
    """The policy, or NotFound."""
    policy = db.session.get(SlaPolicy, policy_id)
    if policy is None:
        raise NotFound(N_("No such policy."))
    return policy


def list_calendars() -> list[CalendarUsage]:
    """Every calendar by name, with the policies that use it."""
    policies = db.session.scalars(select(SlaPolicy).order_by(SlaPolicy.name)).all()
    return [
        CalendarUsage(calendar, [p for p in policies if p.calendar_id == calendar.id])
        for calendar in db.session.scalars(select(SlaCalendar).order_by(SlaCalendar.name))
    ]


def list_policies() -> list[PolicyUsage]:
    """Every policy by name, with the partners whose agreement it is."""
    tier_counts = dict(
        db.session.execute(
            select(Partner.tier, func.count(Partner.id))
            .where(Partner.sla_policy_id.is_(None))
            .group_by(Partner.tier)
        ).all()
    )
    overrides: dict[int, list[Partner]] = {}
    for partner in db.session.scalars(
        select(Partner).where(Partner.sla_policy_id.is_not(None)).order_by(Partner.name)
    ):
        overrides.setdefault(partner.sla_policy_id, []).append(partner)
    return [
        PolicyUsage(
            policy,
            tier_counts.get(policy.tier, 0) if policy.tier else 0,
            overrides.get(policy.id, []),
        )
        for policy in db.session.scalars(select(SlaPolicy).order_by(SlaPolicy.name))
    ]


def calendar_choices() -> list[tuple[int, str]]:
    """(id, name) of every calendar, for select boxes."""
    return [
        (row.id, row.name)
        for row in db.session.execute(
            select(SlaCalendar.id, SlaCalendar.name).order_by(SlaCalendar.name)
        )
    ]


def policy_choices() -> list[tuple[int, str]]:
    """(id, name) of every policy, for select boxes."""
    return [
        (row.id, row.name)
        for row in db.session.execute(select(SlaPolicy.id, SlaPolicy.name).order_by(SlaPolicy.name))
    ]


# --- calendars -----------------------------------------------------------------------------


def create_calendar(
    *,
    name: str,
    timezone: str,
    weekly_hours: Mapping[str, Sequence[Sequence[str]]],
    now: datetime,
    holidays: Iterable[str] = (),
    holiday_country: str | None = None,
    always_open: bool = False,
    actor: User | None = None,
) -> SlaCalendar:
    """Save a business calendar; `weekly_hours` maps "mon".."sun" to ["HH:MM", "HH:MM"] pairs."""
    clean = _clean_calendar(
        name, timezone, weekly_hours, holidays, holiday_country, always_open, calendar_id=None
    )
    calendar = SlaCalendar(created_at=now, updated_at=now, **clean)
    db.session.add(calendar)
    db.session.flush()
    _audit(actor, "calendar.created", f"calendar:{calendar.id} {calendar.name}", None, clean, now)
    db.session.commit()
    return calendar


def _audit(
    actor: User | None,
    kind: str,
    subject: str,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    now: datetime,
) -> None:
    """An agreement change, for the admin audit log."""
    event = admin_audit.changed(
        actor,
        kind,
        subject,
        before=dict(before) if before is not None else None,
        after=dict(after) if after is not None else None,
    )
    messagebus.publish([event], now)


def _values(row: Any, names: Iterable[str]) -> dict[str, Any]:
    return {name: getattr(row, name) for name in names}


def update_calendar(
    calendar_id: int,
    *,
    name: str,
    timezone: str,
    weekly_hours: Mapping[str, Sequence[Sequence[str]]],
    now: datetime,
    holidays: Iterable[str] = (),
    holiday_country: str | None = None,
    always_open: bool = False,
    actor: User | None = None,
) -> SlaCalendar:
    """Change a calendar. Conflicts already raised keep the calendar they started under."""
    calendar = get_calendar(calendar_id)
    clean = _clean_calendar(
        name, timezone, weekly_hours, holidays, holiday_country, always_open, calendar_id
    )
    before = _values(calendar, clean)
    for key, value in clean.items():
        setattr(calendar, key, value)
    calendar.updated_at = now
    _audit(actor, "calendar.updated", f"calendar:{calendar.id} {calendar.name}", before, clean, now)
    db.session.commit()
    return calendar


def _clean_calendar(
    name: str,
    timezone: str,
    weekly_hours: Mapping[str, Sequence[Sequence[str]]],
    holidays: Iterable[str],
    holiday_country: str | None,
    always_open: bool,
    calendar_id: int | None,
) -> dict[str, Any]:
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {"always_open": bool(always_open)}
    clean["name"] = _unique_name(SlaCalendar, name, calendar_id, "calendar", errors)
    try:
        clean["timezone"] = rules.check_timezone((timezone or "").strip())
    except rules.AccountRuleError as exc:
        errors["timezone"] = str(exc)
    clean["holiday_country"] = _holiday_country(holiday_country, errors)
    clean["holidays"] = _holiday_dates(holidays, errors)
    clean["weekly_hours"] = _weekly_hours(weekly_hours, errors)
    if set(errors) <= {"name"}:  # the week can only be judged from valid parts
        _check_week(clean, errors)
    if errors:
        raise InvalidInput(N_("Please correct the highlighted fields."), field_errors=errors)
    return clean


def _holiday_country(code: str | None, errors: dict[str, str]) -> str | None:
    try:
        country = rules.check_country(code)
    except rules.AccountRuleError as exc:
        errors["holiday_country"] = str(exc)
        return None
    if country is not None:
        try:  # the domain knows which countries have a public holiday calendar
            BusinessCalendar(_STAND_IN_TIMEZONE, _WHOLE_WEEK, holiday_country=country).validate()
        except SlaConfigError as exc:
            errors["holiday_country"] = str(exc)
    return country


def _holiday_dates(lines: Iterable[str], errors: dict[str, str]) -> list[str]:
    days: set[date] = set()
    for line in lines:
        text = (line or "").strip()
        if not text:
            continue
        try:
            if not _ISO_DATE.fullmatch(text):
                raise ValueError(text)
            days.add(date.fromisoformat(text))
        except ValueError:
            errors["holidays"] = f"{text!r} is not a date; write one date a line as YYYY-MM-DD."
            break
    return sorted(day.isoformat() for day in days)


def _weekly_hours(
    weekly_hours: Mapping[str, Sequence[Sequence[str]]], errors: dict[str, str]
) -> dict[str, list[list[str]]]:
    unknown = set(weekly_hours) - set(WEEKDAY_KEYS)
    if unknown:
        raise InvalidInput(f"Unknown weekdays: {', '.join(sorted(unknown))}; use mon to sun.")
    clean: dict[str, list[list[str]]] = {}
    for key in WEEKDAY_KEYS:
        pairs = []
        for pair in weekly_hours.get(key) or ():
            try:
                start, end = pair
                pairs.append([_clock_time(start), _clock_time(end)])
            except ValueError as exc:
                errors[key] = str(exc) or "Write each interval as a start and an end, HH:MM."
                break
        clean[key] = pairs
    return clean


def _clock_time(value: str) -> str:
    """'9:00' as '09:00', '24:00' as the following midnight ('00:00'); anything else refused."""
    match = _CLOCK_TIME.fullmatch((value or "").strip())
    if match is None:
        raise ValueError(f"{value!r} is not a time of day; write HH:MM, such as 09:00.")
    hours, minutes = int(match[1]), int(match[2])
    if (hours, minutes) == (24, 0):
        return "00:00"
    if hours > 23 or minutes > 59:
        raise ValueError(f"{value!r} is not a time of day; use 00:00 to 23:59 (or 24:00).")
    return f"{hours:02d}:{minutes:02d}"


def _check_week(clean: Mapping[str, Any], errors: dict[str, str]) -> None:
    """Let the domain judge the week (overlaps, zero-length intervals), field by field."""
    hours = clean["weekly_hours"]
    if not clean["always_open"] and not any(hours.values()):
        errors["always_open"] = (
            "The calendar has no working time at all: add hours on at least one day, "
            "or make it 24x7."
        )
        return
    try:
        calendar_from_values(clean).validate()
    except SlaConfigError as exc:
        field = _FIELD_OF_WEEKDAY.get(str(exc).split(" ", 1)[0])
        if field is None:
            raise InvalidInput(str(exc)) from exc
        errors[field] = str(exc)


def calendar_from_values(values: Mapping[str, Any]) -> BusinessCalendar:
    """The domain calendar for cleaned or stored calendar values."""
    return clock.calendar_from_json(
        {
            "timezone": values["timezone"],
            "hours": values["weekly_hours"],
            "holidays": values["holidays"],
            "holiday_country": values["holiday_country"],
            "always_open": values["always_open"],
        }
    )


# --- policies ------------------------------------------------------------------------------


def create_policy(
    *,
    name: str,
    targets: Mapping[str, Mapping[str, int]],
    now: datetime,
    tier: str | None = None,
    calendar_id: int | None = None,
    warning_percent: int = clock.DEFAULT_WARNING_PERCENT,
    critical_percent: int = clock.DEFAULT_CRITICAL_PERCENT,
    reminder_minutes: int = 240,
    response_expectation_minutes: int = 960,
    actor: User | None = None,
) -> SlaPolicy:
    """Save a policy. `targets` maps each severity to {"triage_minutes", "resolution_minutes"}."""
    clean = _clean_policy(
        None,
        name=name,
        tier=tier,
        calendar_id=calendar_id,
        targets=targets,
        warning_percent=warning_percent,
        critical_percent=critical_percent,
        reminder_minutes=reminder_minutes,
        response_expectation_minutes=response_expectation_minutes,
    )
    policy = SlaPolicy(created_at=now, updated_at=now, **clean)
    db.session.add(policy)
    db.session.flush()
    _audit(actor, "policy.created", f"policy:{policy.id} {policy.name}", None, clean, now)
    db.session.commit()
    return policy


def update_policy(
    policy_id: int,
    *,
    name: str,
    targets: Mapping[str, Mapping[str, int]],
    now: datetime,
    tier: str | None = None,
    calendar_id: int | None = None,
    warning_percent: int = clock.DEFAULT_WARNING_PERCENT,
    critical_percent: int = clock.DEFAULT_CRITICAL_PERCENT,
    reminder_minutes: int = 240,
    response_expectation_minutes: int = 960,
    actor: User | None = None,
) -> SlaPolicy:
    """Change a policy for new conflicts; open ones keep theirs until it is re-applied."""
    policy = get_policy(policy_id)
    clean = _clean_policy(
        policy_id,
        name=name,
        tier=tier,
        calendar_id=calendar_id,
        targets=targets,
        warning_percent=warning_percent,
        critical_percent=critical_percent,
        reminder_minutes=reminder_minutes,
        response_expectation_minutes=response_expectation_minutes,
    )
    before = _values(policy, clean)
    for key, value in clean.items():
        setattr(policy, key, value)
    policy.updated_at = now
    _audit(actor, "policy.updated", f"policy:{policy.id} {policy.name}", before, clean, now)
    db.session.commit()
    return policy


def build_policy(
    *,
    name: str,
    targets: Mapping[str, Mapping[str, int]],
    tier: str | None = None,
    calendar_id: int | None = None,
    warning_percent: int = clock.DEFAULT_WARNING_PERCENT,
    critical_percent: int = clock.DEFAULT_CRITICAL_PERCENT,
    reminder_minutes: int = 240,
    response_expectation_minutes: int = 960,
    policy_id: int | None = None,
) -> clock.Policy:
    """The validated domain policy for these values, without saving anything."""
    clean = _clean_policy(
        policy_id,
        name=name,
        tier=tier,
        calendar_id=calendar_id,
        targets=targets,
        warning_percent=warning_percent,
        critical_percent=critical_percent,
        reminder_minutes=reminder_minutes,
        response_expectation_minutes=response_expectation_minutes,
    )
    return _domain_policy(clean)


def _clean_policy(policy_id: int | None, **values: Any) -> dict[str, Any]:
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {
        "name": _unique_name(SlaPolicy, values["name"], policy_id, "policy", errors),
        "tier": _free_tier(values["tier"], policy_id, errors),
        "calendar_id": values["calendar_id"],
        "targets": {},
    }
    calendar_id = clean["calendar_id"]
    if calendar_id is not None and db.session.get(SlaCalendar, calendar_id) is None:
        errors["calendar_id"] = N_("No such calendar; choose one from the list.")
        clean["calendar_id"] = None
    for severity in SEVERITIES:
        given = values["targets"].get(severity) or {}
        clean["targets"][severity] = {
            f"{kind}_minutes": _bounded(
                given.get(f"{kind}_minutes"), MAX_TARGET_MINUTES, f"{severity}_{kind}", errors
            )
            for kind in ("triage", "resolution")
        }
    for key, limit, field in (
        ("warning_percent", 1000, "warning_percent"),
        ("critical_percent", 10_000, "critical_percent"),
        ("reminder_minutes", MAX_REMINDER_MINUTES, "reminder_interval"),
        ("response_expectation_minutes", MAX_TARGET_MINUTES, "response_expectation"),
    ):
        clean[key] = _bounded(values[key], limit, field, errors)
    try:
        _domain_policy(clean).validate()
    except clock.PolicyError as exc:
        for key, message in exc.field_errors.items():
            errors.setdefault("calendar_id" if key == "calendar" else key, message)
    if errors:
        raise InvalidInput(N_("Please correct the highlighted fields."), field_errors=errors)
    return clean


def _bounded(value: Any, limit: int, field: str, errors: dict[str, str]) -> int:
    """An int no larger than `limit` (larger numbers would overflow the clock's arithmetic)."""
    if isinstance(value, bool) or not isinstance(value, int):
        errors.setdefault(field, "A whole number is required.")
        return 0
    if value > limit:
        errors.setdefault(field, f"At most {limit:,} (that is beyond any useful agreement).")
        return limit
    return value


def _free_tier(tier: str | None, policy_id: int | None, errors: dict[str, str]) -> str | None:
    if tier in (None, ""):
        return None
    if tier not in TIERS:
        errors["tier"] = f"Tier must be one of {', '.join(TIERS)}, or none."
        return None
    holder = db.session.scalar(
        select(SlaPolicy).where(SlaPolicy.tier == tier, SlaPolicy.id != (policy_id or 0))
    )
    if holder is not None:
        errors["tier"] = (
            f"The {tier} tier already follows {holder.name!r}; take the tier off that policy "
            "first, or leave this one without a tier."
        )
    return tier


def _unique_name(
    model: type[SlaCalendar] | type[SlaPolicy],
    name: str,
    own_id: int | None,
    noun: str,
    errors: dict[str, str],
) -> str:
    value = (name or "").strip()
    if not value:
        errors["name"] = N_("A name is required.")
    elif len(value) > 120:
        errors["name"] = N_("At most 120 characters.")
    elif db.session.scalar(
        select(model.id).where(func.lower(model.name) == value.lower(), model.id != (own_id or 0))
    ):
        errors["name"] = f"Another {noun} is already called {value!r}; choose another name."
    return value


def _domain_policy(clean: Mapping[str, Any]) -> clock.Policy:
    """Cleaned values as a domain policy; no calendar: office hours in a stand-in timezone."""
    row = db.session.get(SlaCalendar, clean["calendar_id"]) if clean["calendar_id"] else None
    return clock.Policy(
        name=clean["name"] or "Agreement",
        calendar=sla.calendar_from_row(row) if row else _stand_in_calendar(),
        targets={
            severity: clock.Targets(
                timedelta(minutes=target["triage_minutes"]),
                timedelta(minutes=target["resolution_minutes"]),
            )
            for severity, target in clean["targets"].items()
        },
        warning_percent=clean["warning_percent"],
        critical_percent=clean["critical_percent"],
        reminder_interval=timedelta(minutes=clean["reminder_minutes"]),
        response_expectation=timedelta(minutes=clean["response_expectation_minutes"]),
    )


def _stand_in_calendar() -> BusinessCalendar:
    return BusinessCalendar.office_hours(_STAND_IN_TIMEZONE)


# --- who follows which policy --------------------------------------------------------------


def assign_policy(partner: Partner, policy_id: int | None) -> None:
    """Give a partner its own policy (None: its tier's). Does not commit."""
    if policy_id is not None and db.session.get(SlaPolicy, policy_id) is None:
        raise InvalidInput(
            N_("No such agreement."),
            field_errors={"sla_policy_id": N_("Choose one from the list.")},
        )
    partner.sla_policy_id = policy_id


def set_partner_policy(
    partner_id: int,
    policy_id: int | None,
    *,
    actor: User | None = None,
    now: datetime | None = None,
) -> Partner:
    """A partner's own policy overrides its tier's; None goes back to the tier default."""
    partner = db.session.get(Partner, partner_id)
    if partner is None:
        raise NotFound(N_("No such partner."))
    before = {"sla_policy_id": partner.sla_policy_id}
    assign_policy(partner, policy_id)
    after = {"sla_policy_id": partner.sla_policy_id}
    subject = f"partner:{partner.id} {partner.name}"
    _audit(actor, "partner.policy_set", subject, before, after, now or utcnow())
    db.session.commit()
    return partner


def _open_under(policy: SlaPolicy) -> ColumnElement[bool]:
    """Active, and the partner's own policy is this one, else its tier's is.

    The same answer as sla.policy_row_for() per conflict (a tier has at most one policy,
    a unique column), in one WHERE clause instead of a query per conflict.
    """
    covers = Partner.sla_policy_id == policy.id
    if policy.tier:
        covers = or_(covers, and_(Partner.sla_policy_id.is_(None), Partner.tier == policy.tier))
    return and_(Conflict.status.in_(workflow.ACTIVE_STATES), covers)


def open_conflicts_under(policy: SlaPolicy, *, locked: bool = False) -> list[Conflict]:
    """Active conflicts whose partner's agreement (override, else tier) is this policy.

    `locked`: their rows locked for the change (PostgreSQL; SQLite holds its write lock)."""
    query = (
        select(Conflict)
        .join(Partner, Conflict.partner_id == Partner.id)
        .where(_open_under(policy))
        .order_by(Conflict.id)
    )
    if locked:
        query = query.with_for_update(of=Conflict).execution_options(populate_existing=True)
    return list(db.session.scalars(query))


def count_open_conflicts_under(policy: SlaPolicy) -> int:
    """How many conflicts re-applying this policy would touch, counted by the database."""
    return db.session.scalar(
        select(func.count(Conflict.id))
        .join(Partner, Conflict.partner_id == Partner.id)
        .where(_open_under(policy))
    )


def reapply_policy(actor: User, policy_id: int, now: datetime) -> int:
    """Measure every open conflict under this policy against its current terms from `now`.

    Business time already spent stays spent. Each conflict gets an internal
    "sla_reapplied" event; returns how many were re-applied.
    """
    if actor is None or actor.role != ADMIN:
        raise PermissionDenied(N_("Only admins change the agreements in force."))
    policy = get_policy(policy_id)
    lock_for_write(db.session)  # the timelines' chains: their conflicts are locked below
    affected = open_conflicts_under(policy, locked=True)
    for conflict in affected:
        sla.apply_agreement(conflict, now)
        timeline.record(
            conflict,
            actor.id,
            "sla_reapplied",
            now,
            visibility="internal",
            data={"policy": policy.name},
        )
    after = {"policy": policy.name, "conflicts": len(affected)}
    _audit(actor, "policy.reapplied", f"policy:{policy.id} {policy.name}", None, after, now)
    db.session.commit()
    return len(affected)


# --- preview -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PreviewRow:
    severity: str
    label: str
    triage_target: timedelta
    triage_due: datetime
    resolution_target: timedelta
    resolution_due: datetime


@dataclass(frozen=True)
class Preview:
    """When a conflict raised at `now` would be due, per severity, in `timezone`."""

    now: datetime
    timezone: str
    partner_hours: bool  # no calendar: each partner's own office hours (shown for UTC)
    rows: list[PreviewRow]


def preview(policy: SlaPolicy | clock.Policy, now: datetime) -> Preview:
    """Due times for a conflict of each severity raised `now` under a saved or domain policy.

    A saved policy without a calendar follows each partner's office hours; the preview
    shows them for Monday to Friday 09:00-17:00 UTC.
    """
    partner_hours = isinstance(policy, SlaPolicy) and policy.calendar is None
    if isinstance(policy, SlaPolicy):
        policy = _domain_policy(
            {
                "name": policy.name,
                "calendar_id": policy.calendar_id,
                "targets": policy.targets,
                "warning_percent": policy.warning_percent,
                "critical_percent": policy.critical_percent,
                "reminder_minutes": policy.reminder_minutes,
                "response_expectation_minutes": policy.response_expectation_minutes,
            }
        )
    rows = []
    for severity in SEVERITIES:
        targets = policy.targets_for(severity)
        rows.append(
            PreviewRow(
                severity=severity,
                label=workflow.SEVERITIES[severity],
                triage_target=targets.triage,
                triage_due=_due(targets.triage, now, policy.calendar),
                resolution_target=targets.resolution,
                resolution_due=_due(targets.resolution, now, policy.calendar),
            )
        )
    return Preview(now, policy.calendar.timezone, partner_hours, rows)


def preview_values(now: datetime, **values: Any) -> Preview:
    """The preview of unsaved policy values (validated as create_policy would)."""
    policy = build_policy(**values)
    result = preview(policy, now)
    if values.get("calendar_id") is None:
        return Preview(result.now, result.timezone, True, result.rows)
    return result


def _due(target: timedelta, now: datetime, calendar: BusinessCalendar) -> datetime:
    return add_business_time(now, target, calendar)
