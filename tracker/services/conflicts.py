"""Conflict use cases: submit, act, comment, assign, edit, link. The only writers of conflicts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select

from tracker.database import lock_for_write
from tracker.domain import trust_period as period
from tracker.domain import workflow
from tracker.domain.accounts import STAFF_ROLES
from tracker.domain.events import (
    ConflictSubmitted,
    Event,
    PartnerContact,
    SeverityChanged,
    StateChanged,
)
from tracker.domain.text import N_
from tracker.extensions import db
from tracker.models import Attachment, Conflict, ConflictEvent, Partner, User
from tracker.models.conflict import INTERNAL, PUBLIC
from tracker.services import attachments as files
from tracker.services import messagebus, timeline, trust_counts
from tracker.services.conflict_access import may_see
from tracker.services.errors import InvalidInput, NotFound, PermissionDenied, StateConflict

MAX_TITLE = 200
MAX_BODY = workflow.MAX_TEXT


# --- reading -----------------------------------------------------------------------------


def _locked_conflict(user: User | None, conflict_id: int) -> Conflict:
    """Load the conflict for a change under a write lock, so two changes serialise.

    Two managers resolving at once, or a partner accepting while the sweep auto-closes, would
    otherwise both pass the workflow check and both write. PostgreSQL locks the row; SQLite
    takes its write lock before the read (it ignores FOR UPDATE).
    """
    lock_for_write(db.session)
    conflict = db.session.scalar(
        select(Conflict)
        .where(Conflict.id == conflict_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if conflict is None or (user is not None and not may_see(user, conflict)):
        raise NotFound(N_("No such conflict."))
    return conflict


# --- writing -----------------------------------------------------------------------------


def _attach(
    conflict: Conflict,
    event: ConflictEvent,
    actor: User,
    checked: list[files.CheckedUpload],
    now: datetime,
) -> None:
    for upload in checked:
        db.session.add(
            Attachment(
                conflict=conflict,
                event=event,
                uploaded_by_id=actor.id,
                filename=upload.filename,
                content_type=upload.content_type,
                size_bytes=len(upload.data),
                sha256=upload.sha256,
                storage_key=files.store(upload),
                visibility=event.visibility,
                created_at=now,
            )
        )


def _text(value: str | None, field: str, label: str, max_length: int) -> str:
    text = (value or "").strip()
    if not text:
        raise InvalidInput(f"{label} is required.", field_errors={field: f"{label} is required."})
    if len(text) > max_length:
        raise InvalidInput(
            f"{label} is too long.", field_errors={field: f"At most {max_length} characters."}
        )
    return text


def _choice(value: str | None, field: str, choices: Mapping[str, str]) -> str:
    if value not in choices:
        message = f"Choose one of: {', '.join(choices.values())}."
        raise InvalidInput(message, field_errors={field: message})
    return value


def submit(
    actor: User,
    *,
    title: str,
    description: str,
    category: str,
    severity: str,
    now: datetime,
    partner_id: int | None = None,
    uploads: Iterable[files.Upload] = (),
) -> Conflict:
    """A partner (or a manager on a partner's behalf) raises a conflict."""
    if actor.is_partner:
        if partner_id not in (None, actor.partner_id):
            raise NotFound(N_("No such partner."))
        partner_id = actor.partner_id
    elif partner_id is None:
        raise InvalidInput(
            N_("Choose the partner this conflict is with."),
            field_errors={"partner_id": N_("Choose a partner.")},
        )
    partner = db.session.get(Partner, partner_id)
    if partner is None:
        raise InvalidInput(
            N_("Unknown partner."), field_errors={"partner_id": N_("Choose a partner.")}
        )
    title = _text(workflow.one_line(title), "title", "A title", MAX_TITLE)
    if len(title) < 5:
        raise InvalidInput(
            N_("The title is too short."), field_errors={"title": N_("At least 5 characters.")}
        )
    description = _text(description, "description", "A description", MAX_BODY)
    category = _choice(category, "category", workflow.CATEGORIES)
    severity = _choice(severity, "severity", workflow.SEVERITIES)
    checked = files.check_uploads(list(uploads))
    conflict = Conflict(
        partner=partner,
        created_by_id=actor.id,
        assignee_id=None,
        title=title,
        description=description,
        category=category,
        reported_severity=severity,
        severity=severity,
        status=workflow.OPEN,
        created_at=now,
        updated_at=now,
    )
    db.session.add(conflict)
    db.session.flush()  # its id makes its reference
    # Its reference, clocks and chain head change in several consumers: one UPDATE, written
    # when the timeline entry is (no flush in between).
    with db.session.no_autoflush:
        conflict.ref = workflow.reference(now.year, conflict.id)
        messagebus.publish(
            [ConflictSubmitted(conflict.id, actor.id), PartnerContact(partner.id)], now
        )
        entry = timeline.record(
            conflict,
            actor.id,
            "submitted",
            now,
            body=description,
            data={"title": title, "category": category, "severity": severity},
        )
    _attach(conflict, entry, actor, checked, now)
    messagebus.publish([timeline.announced(entry)], now)
    db.session().commit_keeping_values()  # the answer shows the conflict as just written
    return conflict


def _facts(conflict: Conflict) -> workflow.ConflictFacts:
    return workflow.ConflictFacts(
        status=conflict.status,
        severity=conflict.severity,
        category=conflict.category,
        reopen_count=conflict.reopen_count,
        triaged_at=conflict.triaged_at,
    )


def _transition(
    conflict: Conflict,
    action: str,
    fields: Mapping[str, Any] | None,
    *,
    role: str,
    actor_id: int | None,
    now: datetime,
    automatic: bool = False,
) -> None:
    """The one way a conflict changes state: `workflow.plan()` judges, the domain says what
    changes, and the bus carries the rest (clocks, trust ledger, timeline, notices).

    The caller holds the conflict's write lock (`_locked_conflict`).
    """
    try:
        transition, clean = workflow.plan(
            conflict.status,
            action,
            role,
            now=now,
            fields=fields or {},
            closed_at=conflict.closed_at,
            resolved_at=conflict.resolved_at,
            withdrawn=conflict.close_reason == "withdrawn",
        )
    except workflow.WorkflowError as exc:
        status_error = not exc.field_errors
        error_class = StateConflict if status_error else InvalidInput
        raise error_class(exc.message, field_errors=exc.field_errors) from exc
    if action == "triage":
        _check_assignee(clean["assignee_id"])
    before = _facts(conflict)
    for name, value in workflow.changes(transition, clean, before, now).items():
        setattr(conflict, name, value)
    body, data = workflow.timeline_entry(transition, clean, before)
    change = StateChanged(
        conflict_id=conflict.id,
        action=action,
        from_state=before.status,
        to_state=transition.target,
        actor_id=actor_id,
        body=body,
        data=data,
        automatic=automatic,
    )
    messagebus.publish([change], now)


def act(
    actor: User, conflict_id: int, action: str, fields: Mapping[str, Any] | None, *, now: datetime
) -> Conflict:
    """A person moves a conflict through the workflow (pages, API)."""
    conflict = _locked_conflict(actor, conflict_id)
    _transition(conflict, action, fields, role=actor.role, actor_id=actor.id, now=now)
    db.session.commit()
    return conflict


def close_unanswered(conflict: Conflict, now: datetime) -> bool:
    """The scheduler closes a resolution the partner left unanswered (recorded as accepted
    by default); False if it is not due. Runs in the caller's transaction, which holds the
    conflict's lock (the sweep selects its batch `FOR UPDATE`; on SQLite it holds the
    write lock)."""
    if not workflow.auto_close_due(conflict.status, conflict.resolved_at, now):
        return False
    _transition(
        conflict, "auto_close", {}, role=workflow.SYSTEM, actor_id=None, now=now, automatic=True
    )
    return True


def _check_assignee(assignee_id: Any) -> User:
    try:
        user = db.session.get(User, int(assignee_id))
    except (TypeError, ValueError):
        user = None
    if user is None or user.role not in STAFF_ROLES or not user.active:
        raise InvalidInput(
            N_("The assignee must be an active alliance manager."),
            field_errors={"assignee_id": N_("Choose an active alliance manager.")},
        )
    return user


def comment(
    actor: User,
    conflict_id: int,
    body: str,
    *,
    now: datetime,
    internal: bool = False,
    uploads: Iterable[files.Upload] = (),
) -> ConflictEvent:
    """A public reply or comment, or (staff only) an internal note.

    A partner's reply to a conflict that waits on them resumes it: the answer is what we
    were waiting for (the workflow's `resume`, taken by the system on their behalf).
    """
    conflict = _locked_conflict(actor, conflict_id)
    if internal and not actor.is_staff:
        raise PermissionDenied(N_("Only alliance managers can write internal notes."))
    if actor.is_partner and conflict.status == workflow.CLOSED:
        raise StateConflict(
            "This conflict is closed, so a comment would go unread. Reopen it with a reason, "
            "or raise a new conflict and mention it."
        )
    text = _text(body, "body", "A message", MAX_BODY)
    checked = files.check_uploads(list(uploads))
    kind = "internal_note" if internal else ("reply" if actor.is_staff else "comment")
    entry = timeline.record(
        conflict, actor.id, kind, now, visibility=INTERNAL if internal else PUBLIC, body=text
    )
    _attach(conflict, entry, actor, checked, now)
    happened: list[Event] = [timeline.announced(entry)]
    if not internal:
        happened.append(PartnerContact(conflict.partner_id))
    messagebus.publish(happened, now)
    if actor.is_partner and conflict.status == workflow.WAITING_ON_PARTNER:
        _transition(
            conflict,
            "resume",
            {},
            role=workflow.SYSTEM,
            actor_id=actor.id,
            now=now,
            automatic=True,
        )
    db.session.commit()
    return entry


def _note(
    conflict: Conflict,
    actor: User,
    kind: str,
    now: datetime,
    *,
    visibility: str = PUBLIC,
    data: Mapping[str, Any] | None = None,
    announce: bool = True,
) -> None:
    entry = timeline.record(conflict, actor.id, kind, now, visibility=visibility, data=data)
    if announce:
        messagebus.publish([timeline.announced(entry)], now)


def assign(actor: User, conflict_id: int, assignee_id: int | None, *, now: datetime) -> Conflict:
    """Give the conflict to a manager (or to nobody); recorded internally."""
    _require_staff(actor)
    conflict = _locked_conflict(actor, conflict_id)
    if not conflict.is_active:
        raise StateConflict(N_("A closed conflict cannot be reassigned; reopen it first."))
    new = _check_assignee(assignee_id) if assignee_id is not None else None
    before = conflict.assignee
    if (before.id if before else None) == (new.id if new else None):
        return conflict
    conflict.assignee_id = new.id if new else None
    _note(
        conflict,
        actor,
        "assigned",
        now,
        visibility=INTERNAL,
        data={
            "before": before.name if before else None,
            "after": new.name if new else None,
            "after_id": new.id if new else None,
        },
    )
    db.session.commit()
    return conflict


def change_fields(
    actor: User,
    conflict_id: int,
    *,
    now: datetime,
    severity: str | None = None,
    category: str | None = None,
) -> Conflict:
    """Correct severity or category; each change is recorded with before and after."""
    _require_staff(actor)
    conflict = _locked_conflict(actor, conflict_id)
    if not conflict.is_active:
        raise StateConflict(N_("A closed conflict cannot be edited; reopen it first."))
    changes = {}
    if severity is not None and severity != conflict.severity:
        changes["severity"] = (
            conflict.severity,
            _choice(severity, "severity", workflow.SEVERITIES),
        )
    if category is not None and category != conflict.category:
        changes["category"] = (
            conflict.category,
            _choice(category, "category", workflow.CATEGORIES),
        )
    for field, (before, after) in changes.items():
        setattr(conflict, field, after)
        _note(
            conflict,
            actor,
            "field_changed",
            now,
            data={"field": field, "before": before, "after": after},
        )
    if "severity" in changes:
        messagebus.publish([SeverityChanged(conflict.id)], now)
    db.session.commit()
    return conflict


def link_repeat(actor: User, conflict_id: int, earlier_ref: str, *, now: datetime) -> Conflict:
    """Mark a conflict as a repeat of an earlier one of the same partner."""
    _require_staff(actor)
    conflict = _locked_conflict(actor, conflict_id)
    ref = (earlier_ref or "").strip().upper()
    earlier = db.session.scalar(select(Conflict).where(Conflict.ref == ref)) if ref else None
    problem = None
    if earlier is None:
        problem = f"No conflict with reference {ref or '(empty)'}."
    elif earlier.id == conflict.id:
        problem = "A conflict cannot repeat itself."
    elif earlier.partner_id != conflict.partner_id:
        problem = "Only a conflict of the same partner can be linked as a repeat."
    elif earlier.created_at > conflict.created_at:
        problem = "The repeated conflict must be the earlier one."
    if problem:
        raise InvalidInput(problem, field_errors={"earlier_ref": problem})
    if conflict.repeat_of_id is None:  # a repeat counts once, on the day it was raised
        trust_counts.add(conflict.partner_id, conflict.created_at, period.REPEAT)
    conflict.repeat_of_id = earlier.id
    repeat = {"repeat_of": earlier.ref, "repeat_of_id": earlier.id}
    _note(conflict, actor, "linked", now, visibility=INTERNAL, data=repeat, announce=False)
    repeated = {"repeated_by": conflict.ref, "repeated_by_id": conflict.id}
    _note(earlier, actor, "linked", now, visibility=INTERNAL, data=repeated, announce=False)
    db.session.commit()
    return conflict


def bulk(
    actor: User,
    conflict_ids: Iterable[int],
    *,
    now: datetime,
    assignee_id: int | None = None,
    triage: Mapping[str, Any] | None = None,
) -> tuple[list[str], list[str]]:
    """Assign or triage several conflicts; returns (done refs, "ref: why not" messages).

    For triage, a severity or category left blank keeps each conflict's own.
    """
    _require_staff(actor)
    done: list[str] = []
    failed: list[str] = []
    for conflict_id in conflict_ids:
        try:
            if triage is not None:
                current = db.session.get(Conflict, conflict_id)
                if current is not None and current.status != workflow.OPEN:
                    raise StateConflict(
                        f"already {workflow.STATE_LABELS[current.status].lower()}; "
                        "bulk triage applies to open conflicts only."
                    )
                fields = {  # a blank choice keeps each conflict's own value
                    "severity": triage.get("severity") or (current and current.severity),
                    "category": triage.get("category") or (current and current.category),
                    "assignee_id": triage.get("assignee_id"),
                }
                conflict = act(actor, conflict_id, "triage", fields, now=now)
            else:
                conflict = assign(actor, conflict_id, assignee_id, now=now)
            done.append(conflict.ref or str(conflict_id))
        except (InvalidInput, StateConflict, NotFound) as exc:
            db.session.rollback()
            found = db.session.get(Conflict, conflict_id)
            failed.append(f"{found.ref if found else conflict_id}: {exc.message}")
    return done, failed


def _require_staff(actor: User) -> None:
    if not actor.is_staff:
        raise NotFound(N_("No such conflict."))
