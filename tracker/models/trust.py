"""The trust ledger of each partnership: evidence events, incremental scores, history, ratings."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.extensions import db
from tracker.models.types import UTCDateTime


class TrustEvent(db.Model):
    """One piece of evidence, or a fact of weight 0. Append-only: corrections are new rows."""

    __tablename__ = "trust_events"
    __table_args__ = (
        Index("ix_trust_events_partner_at", "partner_id", "at"),
        Index("ix_trust_events_kind_at", "kind", "at"),
        Index("uq_trust_events_partner_seq", "partner_id", "chain_seq", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"))
    conflict_id: Mapped[int | None] = mapped_column(ForeignKey("conflicts.id"), index=True)
    side: Mapped[str] = mapped_column(String(16))  # delivery | responsiveness
    kind: Mapped[str] = mapped_column(String(24))  # resolved, accepted, disputed, reopened, ...
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    severity: Mapped[str | None] = mapped_column(String(16))
    triage_business_seconds: Mapped[int | None]
    resolution_business_seconds: Mapped[int | None]
    resolution_wall_seconds: Mapped[int | None]
    target_seconds: Mapped[int | None]
    sla_met: Mapped[bool | None]
    overrun_seconds: Mapped[int | None]
    accountable_side: Mapped[str | None] = mapped_column(String(16))
    weight: Mapped[float] = mapped_column(default=0.0)
    rule: Mapped[str] = mapped_column(String(32))
    explanation: Mapped[str] = mapped_column(String(300))
    # The partner's ledger chain (domain.audit_chain); its head is in chain_heads.
    chain_seq: Mapped[int] = mapped_column(server_default="0")
    prev_hash: Mapped[str] = mapped_column(String(64), server_default="")
    hash: Mapped[str] = mapped_column(String(64), server_default="")

    conflict = relationship("Conflict")


class TrustScore(db.Model):
    """The incremental tally of one side: r and s decayed to as_of. O(1) to read or add to."""

    __tablename__ = "trust_scores"
    __table_args__ = (UniqueConstraint("partner_id", "side", name="uq_trust_scores_partner_side"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"))
    side: Mapped[str] = mapped_column(String(16))
    r: Mapped[float] = mapped_column(default=0.0)
    s: Mapped[float] = mapped_column(default=0.0)
    as_of: Mapped[datetime | None] = mapped_column(UTCDateTime())
    events: Mapped[int] = mapped_column(default=0)


class TrustHistory(db.Model):
    """The tally as it stood at the end of a day with evidence: the trend chart reads these."""

    __tablename__ = "trust_history"
    __table_args__ = (
        UniqueConstraint("partner_id", "side", "day", name="uq_trust_history_partner_side_day"),
        # score_at(): the last row before a moment is one backward index step.
        Index("ix_trust_history_partner_side_as_of", "partner_id", "side", "as_of"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"))
    side: Mapped[str] = mapped_column(String(16))
    day: Mapped[date] = mapped_column(Date)
    r: Mapped[float]
    s: Mapped[float]
    as_of: Mapped[datetime] = mapped_column(UTCDateTime())


class TrustDayCount(db.Model):
    """What the ledger says of one partner on one UTC day, counted: the trust page's period
    figures sum these (services/trust_counts.py) instead of reading the period's ledger.

    `measure` names the fact; `severity` ("" when it does not matter) and `value` (whole
    business hours to resolution, or a rating's stars; else 0) split it where the figures
    need a distribution. A key cannot hold NULL, hence "" and 0."""

    __tablename__ = "trust_day_counts"
    __table_args__ = (
        UniqueConstraint(
            "partner_id", "day", "measure", "severity", "value", name="uq_trust_day_counts"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"))
    day: Mapped[date] = mapped_column(Date)
    measure: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(16), default="")
    value: Mapped[int] = mapped_column(default=0)
    count: Mapped[int] = mapped_column(default=0)


class Rating(db.Model):
    """A partner user's verdict on a closed conflict's resolution: once per conflict and user."""

    __tablename__ = "ratings"
    __table_args__ = (UniqueConstraint("conflict_id", "user_id", name="uq_ratings_conflict_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conflict_id: Mapped[int] = mapped_column(ForeignKey("conflicts.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    stars: Mapped[int]
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    user = relationship("User")


class CheckIn(db.Model):
    """A manager's note of contact with a partner: a call, a meeting, a review."""

    __tablename__ = "check_ins"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime())

    author = relationship("User")


@event.listens_for(TrustEvent, "before_update")
def _ledger_is_append_only(mapper, connection, target) -> None:  # type: ignore[no-untyped-def]
    raise RuntimeError("trust events are append-only: record a correcting event instead")


@event.listens_for(TrustEvent, "before_delete")
def _ledger_is_never_deleted(mapper, connection, target) -> None:  # type: ignore[no-untyped-def]
    raise RuntimeError("trust events are append-only: they are never deleted")
