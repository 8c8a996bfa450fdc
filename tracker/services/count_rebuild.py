"""The monthly rollups, the ETA counts and the trust page's day counts, rebuilt from the
ledger in one pass.

The counts are kept incrementally as conflicts move (services/reports.py and
services/estimates.py); history that did not move through the services (the migration that
introduced the counts, `flask demo generate`'s bulk history) gets them from here, computed
from the conflicts and the trust ledger as those consumers would have counted them. Takes a
connection, not the session, so the migration can run it too.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tracker.domain import clock
from tracker.domain import reports as report_model
from tracker.domain import trust_period as period
from tracker.domain.calendar import business_time_between

REPORT_TABLES = ("report_rollups", "report_time_counts")
WINDOW_TABLES = ("report_window_counts", "report_windows")


def rebuild(bind: Connection) -> None:
    """Replace every rollup and ETA count by what the conflicts and the ledger say."""
    rebuild_first_resolutions(bind)
    rebuild_reports(bind)


def rebuild_first_resolutions(bind: Connection) -> None:
    """Replace the ETA's counts of first resolutions (services/estimates.py)."""
    bind.execute(sa.text("DELETE FROM resolution_time_counts"))
    _first_resolutions(bind)


def rebuild_reports(bind: Connection) -> None:
    """Replace the reports' rollups, per grouping (services/reports.py); the windows summed
    from them go too (the `report_windows` job sums them again)."""
    for table in WINDOW_TABLES:
        bind.execute(sa.text(f"DELETE FROM {table}"))  # noqa: S608 - fixed table names
    rebuild_rollups(bind)


def rebuild_rollups(bind: Connection) -> None:
    """The rollups alone (migration 0024, before the windows existed)."""
    for table in REPORT_TABLES:
        bind.execute(sa.text(f"DELETE FROM {table}"))  # noqa: S608 - fixed table names
    _rollups(bind)


def rebuild_trust_days(bind: Connection) -> None:
    """Replace the trust page's day counts by what the ledger, the ratings and the repeat
    links say, counted as services/trust_counts.py counts them as they happen."""
    bind.execute(sa.text("DELETE FROM trust_day_counts"))
    counts: dict[tuple, int] = {}

    def add(partner: int, at: Any, measure: str, severity: str = "", value: int = 0) -> None:
        key = (partner, _aware(at).astimezone(UTC).date(), measure, severity or "", value)
        counts[key] = counts.get(key, 0) + 1

    breached: set[int] = set()
    for partner, cid, kind, at, severity, spent, met in bind.execute(
        sa.text(
            "SELECT partner_id, conflict_id, kind, at, severity, resolution_business_seconds, "
            "sla_met FROM trust_events WHERE kind IN "
            "('accepted', 'auto_accepted', 'breached', 'disputed', 'reopened') ORDER BY id"
        )
    ):
        if kind in period.CLOSING_KINDS:
            add(partner, at, period.CLOSED, severity, -(-int(spent or 0) // 3600))
            if met:
                add(partner, at, period.MET)
        elif kind == "breached":
            if cid not in breached:
                breached.add(cid)
                add(partner, at, period.FIRST_BREACH)
        else:
            add(partner, at, kind)  # disputed, reopened: the measure is the kind
    for partner, at, stars in bind.execute(
        sa.text(
            "SELECT c.partner_id, r.created_at, r.stars FROM ratings r "
            "JOIN conflicts c ON c.id = r.conflict_id"
        )
    ):
        add(partner, at, period.RATED, value=int(stars))
    for partner, created in bind.execute(
        sa.text("SELECT partner_id, created_at FROM conflicts WHERE repeat_of_id IS NOT NULL")
    ):
        add(partner, created, period.REPEAT)
    columns = ("partner_id", "day", "measure", "severity", "value")
    table = sa.table(
        "trust_day_counts",
        sa.column("partner_id"),
        sa.column("day", sa.Date()),
        sa.column("measure"),
        sa.column("severity"),
        sa.column("value"),
        sa.column("count"),
    )
    values = [dict(zip(columns, k, strict=True), count=n) for k, n in counts.items()]
    if values:
        bind.execute(table.insert(), values)


def _month(value) -> date:  # type: ignore[no-untyped-def]
    moment = value if not isinstance(value, str) else datetime.fromisoformat(value)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return date(moment.year, moment.month, 1)


def _rollups(bind: Connection) -> None:
    """What the rows tell: raised, triaged and the business time to triage from the
    conflicts (in their agreement's calendar, as reports.on_state_changed measures it);
    first resolutions, their times and SLA outcome, reopens and disputes from the ledger;
    category and assignee as the conflicts hold them now."""
    counters = report_model.COUNTERS
    rollups: dict[tuple, dict[str, int]] = {}
    times: dict[tuple, int] = {}
    conflicts = {}
    calendars: dict[str, Any] = {}
    for cid, partner, category, assignee, created, triaged, stopped, snapshot in bind.execute(
        sa.text(
            "SELECT id, partner_id, category, assignee_id, created_at, triaged_at, "
            "triage_stopped_at, sla_snapshot FROM conflicts"
        )
    ):
        conflicts[cid] = (partner, category, assignee or 0, triaged)
        key = (_month(created), partner, category, 0)
        rollups.setdefault(key, dict.fromkeys(counters, 0))["raised"] += 1
        if triaged is not None:
            key = (_month(triaged), partner, category, assignee or 0)
            rollups.setdefault(key, dict.fromkeys(counters, 0))["triaged"] += 1
            calendar = _calendar(snapshot, calendars)
            if stopped is not None and calendar is not None:
                spent = business_time_between(_aware(created), _aware(stopped), calendar)
                slot = (*key, "triage", -(-int(spent.total_seconds()) // 3600))
                times[slot] = times.get(slot, 0) + 1
    resolved: set[int] = set()
    for cid, kind, at, spent, met in bind.execute(
        sa.text(
            "SELECT conflict_id, kind, at, resolution_business_seconds, sla_met "
            "FROM trust_events "
            "WHERE conflict_id IS NOT NULL AND kind IN ('resolved', 'reopened', 'disputed') "
            "ORDER BY id"
        )
    ):
        if cid not in conflicts or (kind == "resolved" and cid in resolved):
            continue
        partner, category, assignee, _ = conflicts[cid]
        key = (_month(at), partner, category, assignee)
        row = rollups.setdefault(key, dict.fromkeys(counters, 0))
        if kind != "resolved":
            row[kind] += 1
            continue
        resolved.add(cid)
        row["resolved"] += 1
        row["sla_met"] += int(bool(met))
        hours = -(-int(spent or 0) // 3600)
        times[(*key, "resolution", hours)] = times.get((*key, "resolution", hours), 0) + 1
    # Each fact counts once per grouping, as reports._rows adds it (domain.reports.group_keys).
    grouped: dict[tuple, dict[str, int]] = {}
    for (month, partner, category, assignee), row in rollups.items():
        for grouping, key in report_model.group_keys(partner, category, assignee):
            into = grouped.setdefault((month, grouping, key), dict.fromkeys(counters, 0))
            for name, value in row.items():
                into[name] += value
    grouped_times: dict[tuple, int] = {}
    for (month, partner, category, assignee, measure, hours), n in times.items():
        for grouping, key in report_model.group_keys(partner, category, assignee):
            slot = (month, grouping, key, measure, hours)
            grouped_times[slot] = grouped_times.get(slot, 0) + n
    columns = ("month", "grouping", "group_key")
    rollup_table = sa.table("report_rollups", *(sa.column(c) for c in (*columns, *counters)))
    values = [dict(zip(columns, k, strict=True), **v) for k, v in grouped.items()]
    if values:
        bind.execute(rollup_table.insert(), values)
    time_columns = (*columns, "measure", "business_hours")
    time_table = sa.table(
        "report_time_counts", *(sa.column(c) for c in (*time_columns, "conflicts"))
    )
    values = [
        dict(zip(time_columns, k, strict=True), conflicts=n) for k, n in grouped_times.items()
    ]
    if values:
        bind.execute(time_table.insert(), values)


def _aware(value: Any) -> datetime:
    moment = value if not isinstance(value, str) else datetime.fromisoformat(value)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _calendar(snapshot: Any, known: dict[str, Any]) -> Any:
    """The business calendar of a stored agreement snapshot, parsed once per distinct one."""
    if snapshot is None:
        return None
    text = snapshot if isinstance(snapshot, str) else json.dumps(snapshot, sort_keys=True)
    if text not in known:
        known[text] = clock.Policy.from_json(json.loads(text)).calendar
    return known[text]


def _first_resolutions(bind: Connection) -> None:
    """The ledger's first "resolved" event of each conflict, counted as the app counts it
    (frozen here: month of the event, business hours rounded up)."""
    rows = bind.execute(
        sa.text(
            "SELECT e.conflict_id, e.at, e.resolution_business_seconds, c.category, c.severity "
            "FROM trust_events e JOIN conflicts c ON c.id = e.conflict_id "
            "WHERE e.kind = 'resolved' ORDER BY e.id"
        )
    )
    seen: set[int] = set()
    counts: dict[tuple, int] = {}
    for conflict_id, at, seconds, category, severity in rows:
        if conflict_id in seen:
            continue
        seen.add(conflict_id)
        moment = at if not isinstance(at, str) else datetime.fromisoformat(at)
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC)
        key = (
            category,
            severity,
            date(moment.year, moment.month, 1),
            -(-int(seconds or 0) // 3600),
        )
        counts[key] = counts.get(key, 0) + 1
    table = sa.table(
        "resolution_time_counts",
        sa.column("category"),
        sa.column("severity"),
        sa.column("month", sa.Date()),
        sa.column("business_hours"),
        sa.column("conflicts"),
    )
    values = [
        {"category": c, "severity": s, "month": m, "business_hours": h, "conflicts": n}
        for (c, s, m, h), n in counts.items()
    ]
    if values:
        bind.execute(table.insert(), values)
