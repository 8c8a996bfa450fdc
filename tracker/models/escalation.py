"""Escalations of SLA clocks, their reminders, the delivery outbox and notification preferences."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
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


class OutboxMessage(db.Model):
    """A message to deliver, written in the same transaction as what caused it.

    The delivery job claims pending rows, sends them and marks them sent; a row marked
    sent is never sent again. `dedupe_key` makes writing the same message twice impossible.
    """

    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_messages_status_next", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    channel: Mapped[str] = mapped_column(String(16))  # email | webhook
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    address: Mapped[str] = mapped_column(String(500))
    subject: Mapped[str | None] = mapped_column(String(300))
    body_text: Mapped[str | None] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    secret_ref: Mapped[str | None] = mapped_column(String(64))  # which signing secret applies
    conflict_id: Mapped[int | None] = mapped_column(ForeignKey("conflicts.id"), index=True)
    status: Mapped[str] = mapped_column(
        String(16), default="pending"
    )  # pending|sending|sent|failed
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)

    recipient = relationship("User")


class NotificationPreference(db.Model):
    """A user's choice to receive (or not) one kind of notice on one channel."""

    __tablename__ = "notification_preferences"
    __table_args__ = (
        UniqueConstraint("user_id", "kind", "channel", name="uq_notification_preferences_choice"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(32))  # updates | escalations
    channel: Mapped[str] = mapped_column(String(16))  # in_app | email
    enabled: Mapped[bool] = mapped_column(default=True)


class JobLock(db.Model):
    """A row per periodic job: locking it makes one process at a time run that job."""

    __tablename__ = "job_locks"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(120))
    acquired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
