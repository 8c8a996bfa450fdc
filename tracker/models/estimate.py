"""Counts of first resolutions per category, severity, month and business hours taken."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tracker.extensions import db


class ResolutionTimeCount(db.Model):
    """How many conflicts of (category, severity) first resolved in `month` took
    `business_hours` (rounded up). Incremented by one UPSERT as each resolves."""

    __tablename__ = "resolution_time_counts"
    __table_args__ = (
        UniqueConstraint(
            "category", "severity", "month", "business_hours", name="uq_resolution_time_counts"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    category: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(16))
    month: Mapped[date] = mapped_column(Date)
    business_hours: Mapped[int]
    conflicts: Mapped[int] = mapped_column(default=0)
