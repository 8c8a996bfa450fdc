"""Partner organisations in the alliance."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.extensions import db
from tracker.models.types import UTCDateTime

if TYPE_CHECKING:
    from tracker.models.user import User


class Partner(db.Model):
    __tablename__ = "partners"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    tier: Mapped[str] = mapped_column(String(16), index=True)
    timezone: Mapped[str] = mapped_column(String(64))
    country: Mapped[str | None] = mapped_column(String(2))
    # The language of its people's pages and mail when neither they nor their browser say.
    default_locale: Mapped[str | None] = mapped_column(String(8))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", use_alter=True), index=True)
    sla_policy_id: Mapped[int | None] = mapped_column(ForeignKey("sla_policies.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    # The last conflict, comment or check-in: "no contact for 45 days" reads this index.
    last_contact_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    sla_policy = relationship("SlaPolicy")
    # The agreement in force (its own policy, else its tier's), read with the partner where
    # a request is known to need it (an API token's partner: a create snapshots it), so the
    # create does not read it again. Read-only: `sla.policy_row_for` is its one reader.
    agreement = relationship(
        "SlaPolicy",
        primaryjoin="or_(SlaPolicy.id == foreign(Partner.sla_policy_id), "
        "and_(foreign(Partner.sla_policy_id).is_(None), SlaPolicy.tier == foreign(Partner.tier)))",
        viewonly=True,
        uselist=False,
        lazy="raise",
    )
    users: Mapped[list[User]] = relationship(
        back_populates="partner", foreign_keys="User.partner_id", order_by="User.name"
    )

    def __repr__(self) -> str:
        return f"<Partner {self.id} {self.name}>"
