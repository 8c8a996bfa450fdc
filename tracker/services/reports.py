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

from sqlalchemy import func, select

from tracker.database import add_to_counts
from tracker.domain import estimates as months
from tracker.domain import reports as model
from tracker.domain import workflow
from tracker.domain.accounts import PARTNER
from tracker.domain.calendar import business_time_between
from tracker.domain.events import ConflictSubmitted, StateChanged
from tracker.domain.text import N_
from tracker.extensions import db
from tracker.models import Conflict, MonthlyRollup, MonthlyTimeCount, Partner, User
from tracker.services import sla
from tracker.services.errors import PermissionDenied

MAX_MONTHS = 24


def _keys(conflict: Conflict, now: datetime, assignee: bool = True) -> dict:
    return {
        "month": months.month_of(now),
        "partner_id": conflict.partner_id,
        "category": conflict.category,
        "assignee_id": (conflict.assignee_id or model.NOBODY) if assignee else model.NOBODY,
    }


def _count(conflict: Conflict, now: datetime, **counters: int) -> None:
    add_to_counts(db.session, MonthlyRollup, _keys(conflict, now), counters)


def _time(conflict: Conflict, now: datetime, measure: str, seconds: int) -> None:
    keys = {**_keys(conflict, now), "measure": measure}
    keys["business_hours"] = months.business_hours(seconds)
    add_to_counts(db.session, MonthlyTimeCount, keys, {"conflicts": 1})


def on_submitted(event: ConflictSubmitted, now: datetime) -> None:
    """A conflict raised joins its month's volume."""
    conflict = db.session.get(Conflict, event.conflict_id)
    add_to_counts(db.session, MonthlyRollup, _keys(conflict, now, assignee=False), {"raised": 1})


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

    def lines(by: str, label, order=None) -> list[Line]:  # type: ignore[no-untyped-def]
        grouped = _grouped(since, by)
        keys = sorted(grouped, key=order or (lambda k: label(k)))
        return [Line(k, label(k), grouped[k]) for k in keys]

    everything = _grouped(since, None).get(None, model.Figures())
    return Report(
        since=since,
        by_month=lines("month", lambda m: m.strftime("%b %Y"), order=lambda m: m),
        by_category=lines("category", lambda c: workflow.CATEGORIES.get(c, c)),
        by_partner=lines("partner_id", lambda p: partner_names.get(p, f"#{p}")),
        by_assignee=lines("assignee_id", lambda a: people.get(a, f"#{a}")),
        total=everything,
    )


def _grouped(since: date, by: str | None) -> dict[object, model.Figures]:
    """One grouping's figures, summed by the database (GROUP BY the grouping, and the hour
    for the time counts): rows read in C, only the sums come to Python, as plain tuples."""
    rollups, counts = MonthlyRollup.__table__.c, MonthlyTimeCount.__table__.c
    keys = [rollups[by]] if by else []
    sums = [func.sum(rollups[name]) for name in model.COUNTERS]
    rows = db.session.execute(
        select(*keys, *sums).where(rollups.month >= since).group_by(*keys)
    ).all()
    time_keys = [counts[by]] if by else []
    times = db.session.execute(
        select(*time_keys, counts.measure, counts.business_hours, func.sum(counts.conflicts))
        .where(counts.month >= since)
        .group_by(*time_keys, counts.measure, counts.business_hours)
    ).all()
    result: dict[object, model.Figures] = {}
    for row in rows:
        key = row[0] if by else None
        if row[-1] is None:  # no rows at all: SUM over nothing
            continue
        figures = result.setdefault(key, model.Figures())
        offset = 1 if by else 0
        for index, name in enumerate(model.COUNTERS):
            figures.counts[name] += int(row[offset + index] or 0)
    for row in times:
        key, (measure, hours, conflicts) = (row[0], row[1:]) if by else (None, row)
        result.setdefault(key, model.Figures()).hours[measure][hours] += int(conflicts)
    return result


def _months_before(now: datetime, count: int) -> date:
    index = now.year * 12 + now.month - 1 - (count - 1)
    return date(index // 12, index % 12 + 1, 1)
