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

from sqlalchemy import Date, Select, case, delete, func, literal, literal_column, select, union_all

from tracker.database import add_to_counts_many, insert_returning_id_if_absent, lock_for_write
from tracker.domain import estimates as months
from tracker.domain import reports as model
from tracker.domain import workflow
from tracker.domain.accounts import PARTNER
from tracker.domain.calendar import business_time_between
from tracker.domain.events import ConflictSubmitted, StateChanged
from tracker.domain.text import N_
from tracker.extensions import db
from tracker.models import (
    Conflict,
    Partner,
    ReportRollup,
    ReportTimeCount,
    ReportWindow,
    ReportWindowCount,
    User,
)
from tracker.services import sla
from tracker.services.errors import PermissionDenied

MAX_MONTHS = 24
DEFAULT_MONTHS = 12
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


def report(viewer: User, now: datetime, months_back: int = DEFAULT_MONTHS) -> Report:
    """The last `months_back` months (this one included), across every partner: staff only."""
    if not viewer.is_staff:
        raise PermissionDenied(N_("Reports across partners are for alliance managers."))
    months_back = max(1, min(MAX_MONTHS, months_back))
    since = model.months_before(now, months_back)
    partner_names = dict(db.session.execute(select(Partner.id, Partner.name)).all())
    people = dict(db.session.execute(select(User.id, User.name).where(User.role != PARTNER)).all())
    people[model.NOBODY] = "Nobody"

    grouped = _grouped(now, since, months_back)

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


_Groups = dict[str, dict[object, model.Figures]]


def _grouped(now: datetime, since: date, months_back: int) -> _Groups:
    """Every grouping's figures in two statements: the rollups summed by the database over
    the window (the month grouping keeps its months apart), then the time counts: the
    window's closed months as summed once (close_window) and this month's rows, so the rows
    read are bounded by the window's groups and hours, never by the conflicts or the months
    of history. Should the closed months hold other facts than when they were summed (a
    back-dated write; or not summed yet, in a month's first hour), the time counts are
    summed over the window instead: the figures are the same either way."""
    result: _Groups = {}
    _add_rollups(result, since)
    closed = model.closed_months(now, months_back)
    if closed is not None:
        summed = _add_times(result, _recent(model.months_before(now, 1)), _window(*closed))
        held = sum(
            model.facts(line.counts)
            for month, line in result.get("month", {}).items()
            if closed[0] <= month <= closed[1]  # type: ignore[operator]
        )
        if summed == held:
            return result
        for groups in result.values():
            for line in groups.values():
                line.clear_hours()
    _add_times(result, _summed(since))
    return result


def _line(result: _Groups, grouping: str, key: str, month: object) -> model.Figures:
    groups = result.setdefault(grouping, {})
    group = _month(month) if grouping == "month" else key  # a date whatever the driver
    line = groups.get(group)
    if line is None:  # one Figures per line, not one per row read
        line = groups[group] = model.Figures()
    return line


# the same text in SELECT and GROUP BY (a bound 'month' would be two parameters there,
# which PostgreSQL does not take for the same expression)
_BY_MONTH = literal_column("'month'")


def _add_rollups(result: _Groups, since: date) -> None:
    rollups = ReportRollup.__table__.c
    month = case((rollups.grouping == _BY_MONTH, rollups.month))
    sums = [func.sum(rollups[name]) for name in model.COUNTERS]
    for grouping, key, at, *values in db.session.execute(
        select(rollups.grouping, rollups.group_key, month, *sums)
        .where(rollups.month >= since)
        .group_by(rollups.grouping, rollups.group_key, month)
    ):
        line = _line(result, grouping, key, at)
        for name, value in zip(model.COUNTERS, values, strict=True):
            line.counts[name] += int(value or 0)


def _add_times(result: _Groups, *parts: Select) -> int | None:
    """Add time rows (grouping, key, month, measure, hours, conflicts[, facts]) to their
    lines; returns the closed months' facts as they were summed, if a part carries them."""
    summed = None
    statement = parts[0] if len(parts) == 1 else union_all(*parts)
    for grouping, key, at, measure, hours, conflicts, *held in db.session.execute(statement):
        _line(result, grouping, key, at).hours[measure][hours] += int(conflicts)
        if held and held[0] is not None:
            summed = int(held[0])
    return summed


def _recent(this_month: date) -> Select:
    """This month's time rows (and any later: a clock ahead), as they are."""
    counts = ReportTimeCount.__table__.c
    return select(
        counts.grouping, counts.group_key, counts.month, counts.measure, counts.business_hours,
        counts.conflicts, literal_column("NULL").label("facts"),
    ).where(counts.month >= this_month)  # fmt: skip


def _window(first: date, last: date) -> Select:
    """The closed months' time rows as close_window summed them, with their facts then."""
    rows, window = ReportWindowCount.__table__.c, ReportWindow.__table__.c
    return (
        select(rows.grouping, rows.group_key, rows.month, rows.measure, rows.business_hours,
               rows.conflicts, window.facts)
        .join_from(ReportWindowCount.__table__, ReportWindow.__table__,
                   window.id == rows.window_id)
        .where(window.first_month == first, window.last_month == last)
    )  # fmt: skip


def _summed(since: date) -> Select:
    """The window's time counts summed here, in one statement of two parts, each read from
    the covering index in its order (0025_reports_covering): the groupings other than the
    month summed over the window per (group, measure, hours), streamed without a sort; the
    month grouping's rows as they are (one per month, measure and hours already)."""
    counts = ReportTimeCount.__table__.c
    window = counts.month >= since
    groups = (
        select(counts.grouping, counts.group_key, literal_column("NULL").label("at"),
               counts.measure, counts.business_hours, func.sum(counts.conflicts))
        .where(counts.grouping != _BY_MONTH, window)
        .group_by(counts.grouping, counts.group_key, counts.measure, counts.business_hours)
    )  # fmt: skip
    per_month = select(
        counts.grouping, counts.group_key, counts.month, counts.measure, counts.business_hours,
        counts.conflicts,
    ).where(counts.grouping == _BY_MONTH, window)  # fmt: skip
    return union_all(groups, per_month)


def close_window(now: datetime, months_back: int = DEFAULT_MONTHS) -> bool:
    """Sum the closed months of the window the page shows at `now`, once: the scheduler's
    `report_windows` job. Does nothing while they are summed and unchanged; replaces them if
    a fact was recorded in them since. Returns whether it wrote. Any number of processes
    may run it at once: the window's unique months make a second insert a no-op."""
    closed = model.closed_months(now, max(1, min(MAX_MONTHS, months_back)))
    if closed is None:
        return False
    first, last = closed
    lock_for_write(db.session)  # SQLite: the facts and the sums read under one write lock
    rollups, window = ReportRollup.__table__.c, ReportWindow.__table__.c
    # Read before the sums: a fact committed in between is then in the sums only, so the
    # page sees the facts differ and sums the months itself; never the other way round.
    facts = db.session.scalar(
        select(func.coalesce(func.sum(sum(rollups[name] for name in model.COUNTERS)), 0)).where(
            rollups.grouping == _BY_MONTH, rollups.month >= first, rollups.month <= last
        )
    )
    kept = db.session.execute(
        select(window.id, window.first_month, window.last_month, window.facts)
    ).all()  # one or two: the job keeps only the latest window
    current = [w.id for w in kept if (w.first_month, w.last_month, w.facts) == (first, last, facts)]
    stale = [w.id for w in kept if w.id not in current]
    wrote = False
    if stale:
        _drop(stale)
    if not current:
        wrote = _sum_window(first, last, int(facts), now)
    db.session.commit()
    return wrote


def _sum_window(first: date, last: date, facts: int, now: datetime) -> bool:
    window_id = insert_returning_id_if_absent(
        db.session,
        ReportWindow,
        {"first_month": first, "last_month": last, "facts": facts, "built_at": now},
        ["first_month", "last_month"],
    )
    if window_id is None:  # another process summed them first
        return False
    counts, rows = ReportTimeCount.__table__.c, ReportWindowCount.__table__
    month = case((counts.grouping == _BY_MONTH, counts.month))  # grouped on the same text
    sums = (
        select(literal(window_id), counts.grouping, counts.group_key,
               func.coalesce(month, literal(first, Date())), counts.measure,
               counts.business_hours, func.sum(counts.conflicts))
        .where(counts.month >= first, counts.month <= last)
        .group_by(counts.grouping, counts.group_key, month, counts.measure,
                  counts.business_hours)
    )  # fmt: skip
    columns = ["window_id", "grouping", "group_key", "month", "measure", "business_hours"]
    db.session.execute(rows.insert().from_select([*columns, "conflicts"], sums))
    return True


def _drop(window_ids: list[int]) -> None:
    rows, window = ReportWindowCount.__table__, ReportWindow.__table__
    db.session.execute(delete(rows).where(rows.c.window_id.in_(window_ids)))
    db.session.execute(delete(window).where(window.c.id.in_(window_ids)))
