"""Which consumers hear of which event, in the order they run: the whole wiring of side
effects in one table. A new side effect is a new line here, not an edit to a use case.

Order matters within a row: the clocks move before the trust ledger weighs the time spent,
and the timeline entry exists before anyone is told of it.
"""

from __future__ import annotations

from tracker.domain.events import (
    AdminChanged,
    ConflictSubmitted,
    EscalationsFired,
    PartnerContact,
    ReminderDue,
    SeverityChanged,
    StateChanged,
    TimelineRecorded,
)
from tracker.services import (
    admin_audit,
    escalation_notices,
    estimates,
    mail_notices,
    messagebus,
    notifications,
    partner_webhooks,
    reports,
    sla,
    timeline,
    trust,
)

HANDLERS: messagebus.HandlerTable = {
    ConflictSubmitted: (sla.on_submitted, reports.on_submitted),
    StateChanged: (
        sla.on_state_changed,
        trust.on_state_changed,
        estimates.on_state_changed,
        reports.on_state_changed,
        timeline.on_state_changed,
    ),
    SeverityChanged: (sla.on_severity_changed,),
    TimelineRecorded: (
        notifications.prime_followers,
        notifications.on_timeline,
        partner_webhooks.prime_hooks,
        partner_webhooks.on_timeline,
    ),
    PartnerContact: (trust.on_partner_contact,),
    EscalationsFired: (
        timeline.on_escalations_fired,
        trust.on_escalations_fired,
        escalation_notices.on_fired,
    ),
    ReminderDue: (escalation_notices.on_reminder,),
    AdminChanged: (admin_audit.on_admin_changed,),
}


def register() -> None:
    """Install the table and the outbox's mail composers (create_app calls this once)."""
    messagebus.configure(HANDLERS)
    mail_notices.register()
    escalation_notices.register()
