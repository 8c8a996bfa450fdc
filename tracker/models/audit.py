"""The admin audit log and the heads of the chains that do not live on a row of their own."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.extensions import db
from tracker.models.types import UTCDateTime


class ChainHead(db.Model):
    """The last entry of a chain ("trust:3", "admin"): the row appends lock, one per chain."""

    __tablename__ = "chain_heads"

    chain: Mapped[str] = mapped_column(String(40), primary_key=True)
    seq: Mapped[int] = mapped_column(default=0)
    hash: Mapped[str] = mapped_column(String(64))


class AdminAuditEntry(db.Model):
    """One admin or manager change: who, when, what, before and after. Append-only."""

    __tablename__ = "admin_audit"
    __table_args__ = (
        Index("ix_admin_audit_at", "at"),
        Index("ix_admin_audit_actor_at", "actor_id", "at"),
        Index("ix_admin_audit_kind_at", "kind", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Who it was at the time ("Ada Admin <admin@…>", or "command line"): names change.
    actor_label: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(48))
    subject: Mapped[str] = mapped_column(String(120))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    chain_seq: Mapped[int] = mapped_column(unique=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    actor = relationship("User")


@event.listens_for(AdminAuditEntry, "before_update")
def _audit_is_append_only(mapper, connection, target) -> None:  # type: ignore[no-untyped-def]
    raise RuntimeError("the admin audit log is append-only")


@event.listens_for(AdminAuditEntry, "before_delete")
def _audit_is_never_deleted(mapper, connection, target) -> None:  # type: ignore[no-untyped-def]
    raise RuntimeError("the admin audit log is append-only: entries are never deleted")
