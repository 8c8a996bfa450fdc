"""Monthly rollups for the reports: counts and time counts per month, partner, category and
assignee, kept up to date by UPSERTs as conflicts move (services/reports.py)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tracker.extensions import db


class MonthlyRollup(db.Model):
    """What happened in `month` to conflicts of (partner, category, assignee); assignee 0 is
    nobody (a unique key cannot hold NULL)."""

    __tablename__ = "monthly_rollups"
    __table_args__ = (
        UniqueConstraint(
            "month", "partner_id", "category", "assignee_id", name="uq_monthly_rollups"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[date] = mapped_column(Date)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"))
    category: Mapped[str] = mapped_column(String(32))
    assignee_id: Mapped[int] = mapped_column(default=0)
    raised: Mapped[int] = mapped_column(default=0)
    triaged: Mapped[int] = mapped_column(default=0)
    resolved: Mapped[int] = mapped_column(default=0)
    sla_met: Mapped[int] = mapped_column(default=0)
    reopened: Mapped[int] = mapped_column(default=0)
    disputed: Mapped[int] = mapped_column(default=0)


class MonthlyTimeCount(db.Model):
    """How many conflicts of the rollup's keys took `business_hours` (rounded up) to triage
    or to a first resolution, counted in the month that happened."""

    __tablename__ = "monthly_time_counts"
    __table_args__ = (
        UniqueConstraint(
            "month",
            "partner_id",
            "category",
            "assignee_id",
            "measure",
            "business_hours",
            name="uq_monthly_time_counts",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[date] = mapped_column(Date)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"))
    category: Mapped[str] = mapped_column(String(32))
    assignee_id: Mapped[int] = mapped_column(default=0)
    measure: Mapped[str] = mapped_column(String(16))
    business_hours: Mapped[int]
    conflicts: Mapped[int] = mapped_column(default=0)
