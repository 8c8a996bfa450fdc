"""Conflicts, their append-only event trail and their attachments."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, event, text
from sqlalchemy.orm import Mapped, mapped_column, object_session, relationship

from tracker.domain.workflow import ACTIVE_STATES
from tracker.extensions import db
from tracker.models.types import UTCDateTime

if TYPE_CHECKING:
    from tracker.models.partner import Partner
    from tracker.models.user import User

PUBLIC = "public"
INTERNAL = "internal"
# The queue's predicate, as SQL text: a partial index is used only for this very term, with
# the constant written out (a bound parameter would not match it).
NOT_CLOSED = "status != 'closed'"


class Conflict(db.Model):
    __tablename__ = "conflicts"
    __table_args__ = (
        Index("ix_conflicts_partner_updated", "partner_id", "updated_at"),
        Index("ix_conflicts_status_created", "status", "created_at"),
        Index("ix_conflicts_status_sla_due", "status", "sla_due_at"),
        # The partner's list order, id last: a page is one backward index scan (0020).
        Index("ix_conflicts_partner_public_updated", "partner_id", "public_updated_at", "id"),
        # The API's list of a partner's conflicts, newest first (0020).
        Index("ix_conflicts_partner_newest", "partner_id", "id"),
        Index("ix_conflicts_sla_due_at", "sla_due_at"),
        # The queue's order (services/conflict_search.URGENCY), read in index order; only the
        # conflicts the queue lists (not closed), so a page and its count read nothing else.
        Index(
            "ix_conflicts_queue_order",
            text("(sla_due_at IS NULL)"),
            "sla_due_at",
            "created_at",
            "id",
            sqlite_where=text(NOT_CLOSED),
            postgresql_where=text(NOT_CLOSED),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str | None] = mapped_column(String(20), unique=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(32))
    reported_severity: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(16), index=True)
    status: Mapped[str] = mapped_column(String(24))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The last change a partner can see: internal notes must not move "last update" for them.
    public_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    triaged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolution_summary: Mapped[str | None] = mapped_column(Text)
    root_cause: Mapped[str | None] = mapped_column(String(32))
    accountable_side: Mapped[str | None] = mapped_column(String(16))
    close_reason: Mapped[str | None] = mapped_column(String(24))
    reopen_count: Mapped[int] = mapped_column(default=0)
    repeat_of_id: Mapped[int | None] = mapped_column(ForeignKey("conflicts.id"), index=True)

    # SLA: the agreement the conflict started under, and its two clocks (see domain.clock).
    sla_policy_id: Mapped[int | None] = mapped_column(ForeignKey("sla_policies.id"), index=True)
    sla_snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    triage_target_seconds: Mapped[int | None]
    triage_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    triage_stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolution_target_seconds: Mapped[int | None]
    resolution_spent_seconds: Mapped[int] = mapped_column(default=0, server_default="0")
    resolution_wall_seconds: Mapped[int] = mapped_column(default=0, server_default="0")
    resolution_running_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolution_stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolution_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    partner_wait_seconds: Mapped[int] = mapped_column(default=0, server_default="0")
    sla_state: Mapped[str] = mapped_column(
        String(16), default="on_track", server_default="on_track", index=True
    )
    # The soonest deadline of a running clock: the queue sorts on it.
    sla_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When the SLA state (or, later, an escalation) next needs a look: the sweep's index.
    next_check_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    # A reopen or dispute starts a new cycle: its escalations are new ones.
    resolution_cycle: Mapped[int] = mapped_column(default=1, server_default="1")
    escalation_level: Mapped[str | None] = mapped_column(String(16))
    # The head of the conflict's event chain (domain.audit_chain): its place and hash. It
    # lives on the row every writer of the timeline already locks and updates.
    chain_seq: Mapped[int] = mapped_column(default=0, server_default="0")
    chain_hash: Mapped[str | None] = mapped_column(String(64))

    partner: Mapped[Partner] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    repeat_of: Mapped[Conflict | None] = relationship(remote_side=[id], back_populates="repeats")
    repeats: Mapped[list[Conflict]] = relationship(
        back_populates="repeat_of", order_by="Conflict.id"
    )

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATES

    def __repr__(self) -> str:
        return f"<Conflict {self.ref} {self.status}>"


class ConflictEvent(db.Model):
    """One entry of the audit trail. Never updated or deleted (enforced below)."""

    __tablename__ = "conflict_events"
    __table_args__ = (
        Index("ix_conflict_events_conflict_id_id", "conflict_id", "id"),
        # A fork of the chain (two entries in one place) is impossible in the database too.
        Index("uq_conflict_events_conflict_seq", "conflict_id", "chain_seq", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conflict_id: Mapped[int] = mapped_column(ForeignKey("conflicts.id"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(32))
    visibility: Mapped[str] = mapped_column(String(8))
    body: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Its place in the conflict's chain (domain.audit_chain); the defaults only let the
    # migration add the columns to existing rows, which it then links.
    chain_seq: Mapped[int] = mapped_column(server_default="0")
    prev_hash: Mapped[str] = mapped_column(String(64), server_default="")
    hash: Mapped[str] = mapped_column(String(64), server_default="")
    # An internal event's random salt, hashed with its content (domain.audit_chain.salt_for)
    # and never exported: what a partner sees of it is a commitment it cannot guess at.
    chain_salt: Mapped[str | None] = mapped_column(String(32))

    conflict: Mapped[Conflict] = relationship()
    actor: Mapped[User | None] = relationship()
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="event", order_by="Attachment.id"
    )

    @property
    def is_internal(self) -> bool:
        return self.visibility == INTERNAL


class Attachment(db.Model):
    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    conflict_id: Mapped[int] = mapped_column(ForeignKey("conflicts.id"), index=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("conflict_events.id"), index=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(64), unique=True)
    visibility: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    conflict: Mapped[Conflict] = relationship()
    event: Mapped[ConflictEvent | None] = relationship(back_populates="attachments")


@event.listens_for(ConflictEvent, "before_update")
def _events_are_append_only(mapper, connection, target) -> None:  # type: ignore[no-untyped-def]
    # An attachment added to an event's collection marks it dirty without changing a column;
    # only a changed column is an edit of history.
    if object_session(target).is_modified(target, include_collections=False):
        raise RuntimeError("conflict events are append-only: record a new event instead")


@event.listens_for(ConflictEvent, "before_delete")
def _events_are_never_deleted(mapper, connection, target) -> None:  # type: ignore[no-untyped-def]
    raise RuntimeError("conflict events are append-only: they are never deleted")
