"""SQLAlchemy models, one module per aggregate; imported here so Alembic sees them all."""

from tracker.models.api import ApiToken, IdempotencyRecord, PartnerWebhook
from tracker.models.audit import AdminAuditEntry, ChainHead
from tracker.models.conflict import Attachment, Conflict, ConflictEvent
from tracker.models.escalation import Escalation, EscalationReminder
from tracker.models.estimate import ResolutionTimeCount
from tracker.models.inbound import InboundMessage
from tracker.models.job_lock import JobLock
from tracker.models.mail_notice import MailNotice
from tracker.models.notification import Notification
from tracker.models.outbox import OutboxMessage
from tracker.models.partner import Partner
from tracker.models.preference import NotificationPreference
from tracker.models.report import ReportRollup, ReportTimeCount, ReportWindow, ReportWindowCount
from tracker.models.search import SearchEntry
from tracker.models.session import UserSession
from tracker.models.sla import SlaCalendar, SlaPause, SlaPolicy
from tracker.models.trust import (
    CheckIn,
    Rating,
    TrustDayCount,
    TrustEvent,
    TrustHistory,
    TrustScore,
)
from tracker.models.user import User

__all__ = [
    "AdminAuditEntry",
    "ApiToken",
    "Attachment",
    "ChainHead",
    "CheckIn",
    "Conflict",
    "ConflictEvent",
    "Escalation",
    "EscalationReminder",
    "IdempotencyRecord",
    "InboundMessage",
    "JobLock",
    "MailNotice",
    "ReportRollup",
    "ReportTimeCount",
    "ReportWindow",
    "ReportWindowCount",
    "Notification",
    "NotificationPreference",
    "OutboxMessage",
    "Partner",
    "PartnerWebhook",
    "Rating",
    "ResolutionTimeCount",
    "SearchEntry",
    "SlaCalendar",
    "SlaPause",
    "SlaPolicy",
    "TrustDayCount",
    "TrustEvent",
    "TrustHistory",
    "TrustScore",
    "User",
    "UserSession",
]
