"""Partner agreements: business calendars, SLA policies, and the pauses of a conflict's clock."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.extensions import db
from tracker.models.types import UTCDateTime


class SlaCalendar(db.Model):
    """Working hours in a timezone, with holidays; or 24x7."""

    __tablename__ = "sla_calendars"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    timezone: Mapped[str] = mapped_column(String(64))
    # {"mon": [["09:00", "17:00"]], ...}: see tracker.domain.clock.calendar_to_json
    weekly_hours: Mapped[dict[str, Any]] = mapped_column(JSON)
    holidays: Mapped[list[str]] = mapped_column(JSON)
    holiday_country: Mapped[str | None] = mapped_column(String(2))
    always_open: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SlaPolicy(db.Model):
    """An agreement: per-severity targets (business minutes), thresholds and a calendar.

    `tier` set: the default for partners of that tier. A partner may point at its own.
    Without a calendar, the partner's timezone and country office hours apply.
    """

    __tablename__ = "sla_policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    tier: Mapped[str | None] = mapped_column(String(16), unique=True)
    calendar_id: Mapped[int | None] = mapped_column(ForeignKey("sla_calendars.id"), index=True)
    # {"critical": {"triage_minutes": 60, "resolution_minutes": 480}, ...}
    targets: Mapped[dict[str, Any]] = mapped_column(JSON)
    warning_percent: Mapped[int] = mapped_column(default=75)
    critical_percent: Mapped[int] = mapped_column(default=150)
    reminder_minutes: Mapped[int] = mapped_column(default=240)
    response_expectation_minutes: Mapped[int] = mapped_column(default=960)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    calendar: Mapped[SlaCalendar | None] = relationship()


class SlaPause(db.Model):
    """A period the resolution clock stood still while we waited on the partner."""

    __tablename__ = "sla_pauses"

    id: Mapped[int] = mapped_column(primary_key=True)
    conflict_id: Mapped[int] = mapped_column(ForeignKey("conflicts.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text)
    business_seconds: Mapped[int | None]

    started_by = relationship("User", foreign_keys=[started_by_id])
    ended_by = relationship("User", foreign_keys=[ended_by_id])
