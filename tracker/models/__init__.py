"""SQLAlchemy models, one module per aggregate; imported here so Alembic sees them all."""

from tracker.models.partner import Partner
from tracker.models.user import User

__all__ = ["Partner", "User"]
