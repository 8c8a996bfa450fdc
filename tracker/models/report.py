"""Monthly rollups for the reports, kept per grouping: counts and time counts per month and
per partner, per category, per assignee or for the month as a whole, kept up to date by
UPSERTs as conflicts move (services/reports.py)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tracker.extensions import db
from tracker.models.types import UTCDateTime


class ReportRollup(db.Model):
    """What happened in `month` to the conflicts of one group: `grouping` is "month" (all
    of them, `group_key` empty), "category", "partner" or "assignee" (the key as text; the
    assignee "0" is nobody). One row per group, so a grouping reads its own rows only."""

    __tablename__ = "report_rollups"
    __table_args__ = (UniqueConstraint("month", "grouping", "group_key", name="uq_report_rollups"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[date] = mapped_column(Date)
    grouping: Mapped[str] = mapped_column(String(16))
    group_key: Mapped[str] = mapped_column(String(32))
    raised: Mapped[int] = mapped_column(default=0)
    triaged: Mapped[int] = mapped_column(default=0)
    resolved: Mapped[int] = mapped_column(default=0)
    sla_met: Mapped[int] = mapped_column(default=0)
    reopened: Mapped[int] = mapped_column(default=0)
    disputed: Mapped[int] = mapped_column(default=0)


class ReportTimeCount(db.Model):
    """How many conflicts of the group took `business_hours` (rounded up) to triage or to a
    first resolution, counted in the month that happened."""

    __tablename__ = "report_time_counts"
    __table_args__ = (
        UniqueConstraint(
            "month",
            "grouping",
            "group_key",
            "measure",
            "business_hours",
            name="uq_report_time_counts",
        ),
        # The page's order: each group's hour counts read from the index alone and summed
        # without a sort (0025_reports_covering).
        Index(
            "ix_report_time_counts_by_group",
            "grouping",
            "group_key",
            "measure",
            "business_hours",
            "month",
            "conflicts",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[date] = mapped_column(Date)
    grouping: Mapped[str] = mapped_column(String(16))
    group_key: Mapped[str] = mapped_column(String(32))
    measure: Mapped[str] = mapped_column(String(16))
    business_hours: Mapped[int]
    conflicts: Mapped[int] = mapped_column(default=0)


class ReportWindow(db.Model):
    """A report window's closed months, summed once they no longer change
    (services/reports.close_window): months `first_month` to `last_month`, both included.
    The unique pair makes a second builder's insert a no-op."""

    __tablename__ = "report_windows"
    __table_args__ = (UniqueConstraint("first_month", "last_month", name="uq_report_windows"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    first_month: Mapped[date] = mapped_column(Date)
    last_month: Mapped[date] = mapped_column(Date)
    # Every rollup counter of the month grouping over these months, read before the counts:
    # a fact recorded in them later (a back-dated write) makes the rollups disagree, and
    # the page then sums the months itself (services/reports._grouped).
    facts: Mapped[int]
    built_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ReportWindowCount(db.Model):
    """A window's time counts: for the month grouping one row per closed month (as in
    report_time_counts), for the other groupings the window's closed months summed (`month`
    is then the window's first month)."""

    __tablename__ = "report_window_counts"
    __table_args__ = (
        # The page reads one window's rows from the index alone.
        Index(
            "ix_report_window_counts_by_window",
            "window_id",
            "grouping",
            "group_key",
            "month",
            "measure",
            "business_hours",
            "conflicts",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    window_id: Mapped[int] = mapped_column(ForeignKey("report_windows.id"))
    grouping: Mapped[str] = mapped_column(String(16))
    group_key: Mapped[str] = mapped_column(String(32))
    month: Mapped[date] = mapped_column(Date)
    measure: Mapped[str] = mapped_column(String(16))
    business_hours: Mapped[int]
    conflicts: Mapped[int]
