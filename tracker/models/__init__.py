"""SQLAlchemy models, one module per aggregate; imported here so Alembic sees them all."""

from tracker.models.conflict import Attachment, Conflict, ConflictEvent
from tracker.models.notification import Notification
from tracker.models.partner import Partner
from tracker.models.sla import SlaCalendar, SlaPause, SlaPolicy
from tracker.models.user import User

__all__ = [
    "Attachment",
    "Conflict",
    "ConflictEvent",
    "Notification",
    "Partner",
    "SlaCalendar",
    "SlaPause",
    "SlaPolicy",
    "User",
]
