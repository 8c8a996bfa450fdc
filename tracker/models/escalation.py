"""Escalations of SLA clocks and their reminders."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.extensions import db
from tracker.models.types import UTCDateTime


class Escalation(db.Model):
    """One level reached by one clock in one cycle: unique, so a repeated sweep adds nothing."""

    __tablename__ = "escalations"
    __table_args__ = (
        UniqueConstraint(
            "conflict_id",
            "clock",
            "level",
            "cycle",
            name="uq_escalations_conflict_clock_level_cycle",
        ),
        Index("ix_escalations_open_reminders", "acknowledged_at", "next_reminder_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conflict_id: Mapped[int] = mapped_column(ForeignKey("conflicts.id"), index=True)
    clock: Mapped[str] = mapped_column(String(16))  # triage | resolution
    level: Mapped[str] = mapped_column(String(16))  # warning | breach | critical
    cycle: Mapped[int] = mapped_column(default=1)
    fired_at: Mapped[datetime] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    acknowledgement_note: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    next_reminder_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reminders_sent: Mapped[int] = mapped_column(default=0)

    conflict = relationship("Conflict")
    acknowledged_by = relationship("User")


class EscalationReminder(db.Model):
    __tablename__ = "escalation_reminders"
    __table_args__ = (
        UniqueConstraint("escalation_id", "sequence", name="uq_escalation_reminders_sequence"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    escalation_id: Mapped[int] = mapped_column(ForeignKey("escalations.id"))
    sequence: Mapped[int]
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())
