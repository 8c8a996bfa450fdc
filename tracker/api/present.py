"""Rows to response schemas, showing each caller only what the web pages would show them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tracker.api import schemas as s
from tracker.domain import clock, workflow
from tracker.domain import escalation as esc
from tracker.services import sla
from tracker.services.links import conflict_url

if TYPE_CHECKING:
    from tracker.models import (
        Conflict,
        ConflictEvent,
        Escalation,
        Notification,
        PartnerWebhook,
        User,
    )
    from tracker.models import Partner as PartnerRow
    from tracker.services import search_index


def _user(user: User | None) -> s.UserRef | None:
    return s.UserRef(id=user.id, name=user.name) if user is not None else None


def _ref(conflict: Conflict) -> s.ConflictRef:
    return s.ConflictRef(id=conflict.id, ref=conflict.ref)


def conflict(row: Conflict, viewer: User) -> s.Conflict:
    """A conflict for `viewer`: partners get no assignee, no links, only public escalations."""
    staff = viewer.is_staff
    level = row.escalation_level
    if not staff and level not in esc.PUBLIC_NOTICE:
        level = None
    links = s.Links(repeat_of=None, repeated_by=[])
    if staff:
        links = s.Links(
            repeat_of=_ref(row.repeat_of) if row.repeat_of else None,
            repeated_by=[_ref(r) for r in row.repeats],
        )
    return s.Conflict(
        id=row.id,
        ref=row.ref,
        partner=s.PartnerRef(id=row.partner.id, name=row.partner.name),
        title=row.title,
        description=row.description,
        category=row.category,
        severity=row.severity,
        status=row.status,
        assignee=_user(row.assignee) if staff else None,
        created_at=row.created_at,
        updated_at=row.updated_at if staff else (row.public_updated_at or row.created_at),
        triaged_at=row.triaged_at,
        resolved_at=row.resolved_at,
        closed_at=row.closed_at,
        sla=s.Sla(
            triage_due_at=row.triage_due_at,
            resolution_due_at=row.resolution_due_at,
            state=row.sla_state,
            paused=row.status == workflow.WAITING_ON_PARTNER,
            partner_wait_seconds=row.partner_wait_seconds,
        ),
        escalation_level=level,
        accountable_side=row.accountable_side,
        links=links,
        url=conflict_url(row, staff=staff),
    )


def event(row: ConflictEvent) -> s.Event:
    return s.Event(
        id=row.id,
        kind=row.kind,
        visibility=row.visibility,
        created_at=row.created_at,
        actor=_user(row.actor),
        body=row.body,
        data=row.data,
    )


def partner(row: PartnerRow) -> s.Partner:
    return s.Partner(
        id=row.id,
        name=row.name,
        tier=row.tier,
        timezone=row.timezone,
        country=row.country,
        active=row.active,
    )


def agreement(row: PartnerRow) -> s.Agreement:
    """The agreement in force for the partner's new conflicts (targets in business minutes)."""
    policy = sla.agreement_for(row)
    calendar = clock.calendar_to_json(policy.calendar)
    targets = {}
    for severity in workflow.SEVERITIES:
        target = policy.targets_for(severity)
        targets[severity] = s.Targets(
            triage=int(target.triage.total_seconds() // 60),
            resolution=int(target.resolution.total_seconds() // 60),
        )
    return s.Agreement(
        name=policy.name,
        timezone=calendar["timezone"],
        always_open=calendar["always_open"],
        hours=s.WeeklyHours(**calendar["hours"]),
        holidays=calendar["holidays"],
        holiday_country=calendar["holiday_country"],
        targets=targets,
        warning_percent=policy.warning_percent,
        critical_percent=policy.critical_percent,
    )


def escalation(row: Escalation) -> s.Escalation:
    return s.Escalation(
        id=row.id,
        conflict=_ref(row.conflict),
        partner=s.PartnerRef(id=row.conflict.partner.id, name=row.conflict.partner.name),
        clock=row.clock,
        level=row.level,
        cycle=row.cycle,
        fired_at=row.fired_at,
        due_at=row.due_at,
        acknowledged_at=row.acknowledged_at,
        acknowledged_by=_user(row.acknowledged_by),
        acknowledgement_note=row.acknowledgement_note,
        reminders_sent=row.reminders_sent,
        closed_at=row.closed_at,
    )


def notification(row: Notification) -> s.Notification:
    return s.Notification(
        id=row.id,
        kind=row.kind,
        title=row.title,
        conflict=_ref(row.conflict) if row.conflict else None,
        created_at=row.created_at,
        read_at=row.read_at,
    )


def webhook(row: PartnerWebhook) -> s.Webhook:
    return s.Webhook(
        id=row.id, url=row.url, events=row.events, active=row.active, created_at=row.created_at
    )


def matched(row: Conflict, viewer: User, passage: search_index.Snippet | None) -> s.Conflict:
    """A search result: the conflict as `conflict()` shows it, and its matched passage."""
    shown = conflict(row, viewer)
    if passage is not None:
        shown.match = [s.MatchedText(text=p.text, hit=p.hit) for p in passage.segments]
    return shown
