"""Reports across partners: monthly rollups kept as conflicts move, read for the page.

Each fact counts once, in the month it happened, under the conflict's partner, category
and assignee at that moment: raised (nobody assigned yet), triaged, first resolved (and
whether that met the resolution target), reopened, disputed; and the business hours to
triage and to the first resolution. Consumers add to the rows with one UPSERT each, in
the transaction of the change; the page sums at most a year of rows, never conflicts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import case, func, literal_column, select, union_all

from tracker.database import add_to_counts_many
from tracker.domain import estimates as months
from tracker.domain import reports as model
from tracker.domain import workflow
from tracker.domain.accounts import PARTNER
from tracker.domain.calendar import business_time_between
from tracker.domain.events import ConflictSubmitted, StateChanged
from tracker.domain.text import N_
from tracker.extensions import db
from tracker.models import Conflict, Partner, ReportRollup, ReportTimeCount, User
from tracker.services import sla
from tracker.services.errors import PermissionDenied

MAX_MONTHS = 24
ROLLUP_KEYS = ("month", "grouping", "group_key")
TIME_KEYS = (*ROLLUP_KEYS, "measure", "business_hours")


def _rows(conflict: Conflict, now: datetime, assignee: bool = True, **extra: object) -> list:
    """One row per group the fact counts in (the month as a whole, its category, partner
    and assignee), to add to in one statement."""
    who = (conflict.assignee_id or model.NOBODY) if assignee else model.NOBODY
    month = months.month_of(now)
    return [
        {"month": month, "grouping": grouping, "group_key": key, **extra}
        for grouping, key in model.group_keys(conflict.partner_id, conflict.category, who)
    ]


def _count(conflict: Conflict, now: datetime, assignee: bool = True, **counters: int) -> None:
    rows = _rows(conflict, now, assignee, **counters)
    add_to_counts_many(db.session, ReportRollup, ROLLUP_KEYS, list(counters), rows)


def _time(conflict: Conflict, now: datetime, measure: str, seconds: int) -> None:
    hours = months.business_hours(seconds)
    rows = _rows(conflict, now, measure=measure, business_hours=hours, conflicts=1)
    add_to_counts_many(db.session, ReportTimeCount, TIME_KEYS, ["conflicts"], rows)


def on_submitted(event: ConflictSubmitted, now: datetime) -> None:
    """A conflict raised joins its month's volume."""
    conflict = db.session.get(Conflict, event.conflict_id)
    _count(conflict, now, assignee=False, raised=1)


def on_state_changed(event: StateChanged, now: datetime) -> None:
    """Triage (with its business time), a first resolution (with its time and whether it
    met the target), a reopen or a dispute joins its month's counts."""
    conflict = db.session.get(Conflict, event.conflict_id)
    if event.action == "triage" and conflict.triage_stopped_at is not None:
        calendar = sla.snapshot_policy(conflict).calendar
        spent = business_time_between(conflict.created_at, conflict.triage_stopped_at, calendar)
        _count(conflict, now, triaged=1)
        _time(conflict, now, "triage", int(spent.total_seconds()))
    elif event.action == "resolve" and not conflict.reopen_count:
        spent = conflict.resolution_spent_seconds
        met = int(spent <= (conflict.resolution_target_seconds or 0))
        _count(conflict, now, resolved=1, sla_met=met)
        _time(conflict, now, "resolution", spent)
    elif event.action == "reopen":
        _count(conflict, now, reopened=1)
    elif event.action == "dispute":
        _count(conflict, now, disputed=1)


@dataclass(frozen=True)
class Line:
    """One line of a report table: its label and its figures."""

    key: object
    label: str
    figures: model.Figures


@dataclass(frozen=True)
class Report:
    since: date
    by_month: list[Line]
    by_category: list[Line]
    by_partner: list[Line]
    by_assignee: list[Line]
    total: model.Figures


def report(viewer: User, now: datetime, months_back: int = 12) -> Report:
    """The last `months_back` months (this one included), across every partner: staff only."""
    if not viewer.is_staff:
        raise PermissionDenied(N_("Reports across partners are for alliance managers."))
    months_back = max(1, min(MAX_MONTHS, months_back))
    since = _months_before(now, months_back)
    partner_names = dict(db.session.execute(select(Partner.id, Partner.name)).all())
    people = dict(db.session.execute(select(User.id, User.name).where(User.role != PARTNER)).all())
    people[model.NOBODY] = "Nobody"

    grouped = _grouped(since)

    def lines(grouping: str, label, order=None, key=str) -> list[Line]:  # type: ignore[no-untyped-def]
        figures = {key(k): f for k, f in grouped.get(grouping, {}).items()}
        keys = sorted(figures, key=order or (lambda k: label(k)))
        return [Line(k, label(k), figures[k]) for k in keys]

    by_month = lines("month", lambda m: m.strftime("%b %Y"), order=lambda m: m, key=_month)
    total = model.Figures()
    for line in by_month:
        total.add(line.figures)
    return Report(
        since=since,
        by_month=by_month,
        by_category=lines("category", lambda c: workflow.CATEGORIES.get(c, c)),
        by_partner=lines("partner", lambda p: partner_names.get(p, f"#{p}"), key=int),
        by_assignee=lines("assignee", lambda a: people.get(a, f"#{a}"), key=int),
        total=total,
    )


def _month(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _grouped(since: date) -> dict[str, dict[object, model.Figures]]:
    """Every grouping's figures in two statements, one per table, summed by the database
    over the window (the month grouping keeps its months apart): each group has rows of
    its own (the rollups are kept per grouping), so the rows read are bounded by the
    window's months times its groups (and hours), never by the conflicts, and only the
    sums reach Python, as plain tuples."""
    rollups, counts = ReportRollup.__table__.c, ReportTimeCount.__table__.c
    result: dict[str, dict[object, model.Figures]] = {}

    def figures(grouping: str, key: str, month: object) -> model.Figures:
        groups = result.setdefault(grouping, {})
        group = _month(month) if grouping == "month" else key  # a date whatever the driver
        line = groups.get(group)
        if line is None:  # one Figures per line, not one per row read
            line = groups[group] = model.Figures()
        return line

    # the same text in SELECT and GROUP BY (a bound 'month' would be two parameters there,
    # which PostgreSQL does not take for the same expression)
    by_month = literal_column("'month'")
    month = case((rollups.grouping == by_month, rollups.month))
    sums = [func.sum(rollups[name]) for name in model.COUNTERS]
    for grouping, key, at, *values in db.session.execute(
        select(rollups.grouping, rollups.group_key, month, *sums)
        .where(rollups.month >= since)
        .group_by(rollups.grouping, rollups.group_key, month)
    ):
        line = figures(grouping, key, at)
        for name, value in zip(model.COUNTERS, values, strict=True):
            line.counts[name] += int(value or 0)
    # The time counts in one statement of two parts, each read from the covering index in
    # its order (0025_reports_covering): the groupings other than the month summed over the
    # window per (group, measure, hours), streamed without a sort; the month grouping's rows
    # as they are (one per month, measure and hours already).
    window = counts.month >= since
    groups = (
        select(counts.grouping, counts.group_key, literal_column("NULL").label("at"),
               counts.measure, counts.business_hours, func.sum(counts.conflicts))
        .where(counts.grouping != by_month, window)
        .group_by(counts.grouping, counts.group_key, counts.measure, counts.business_hours)
    )  # fmt: skip
    per_month = select(
        counts.grouping, counts.group_key, counts.month, counts.measure, counts.business_hours,
        counts.conflicts,
    ).where(counts.grouping == by_month, window)  # fmt: skip
    for grouping, key, at, measure, hours, conflicts in db.session.execute(
        union_all(groups, per_month)
    ):
        figures(grouping, key, at).hours[measure][hours] += int(conflicts)
    return result


def _months_before(now: datetime, count: int) -> date:
    index = now.year * 12 + now.month - 1 - (count - 1)
    return date(index // 12, index % 12 + 1, 1)
