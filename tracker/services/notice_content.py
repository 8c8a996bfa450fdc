"""What a mail notice says: in words, with the public text itself, in the reader's timezone.

One function per kind of news; each returns a `Notice` rendered for one reader. What a
partner reads comes only from public facts (the entry's own text, the resolution, the
clocks); staff names and internal entries never enter a partner's notice, because the
partner's wording is chosen here and never falls back to the staff wording.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import render_template

from tracker.domain import escalation as esc
from tracker.domain import workflow
from tracker.domain.calendar import add_business_time
from tracker.models import Conflict, ConflictEvent, Escalation, User
from tracker.services import links, preferences, sla

YOUR_TEAM = "your alliance team"


@dataclass(frozen=True)
class Notice:
    """One thing one reader is told: a subject that says what happened, and its text."""

    kind: str
    category: str  # preferences.UPDATES | preferences.ESCALATIONS
    headline: str  # "Resolved", "We need your answer": what the subject starts with
    subject: str
    text: str
    html: str


def local_time(value: datetime | None, timezone: str, fmt: str = "%a %d %b %H:%M") -> str:
    """An instant as the reader's clock shows it, with the zone's abbreviation."""
    if value is None:
        return ""
    local = value.astimezone(ZoneInfo(timezone))
    return f"{local.strftime(fmt)} {local.tzname()}"


def subject_line(headline: str, conflict: Conflict) -> str:
    """What happened, the reference, the title: "Resolved: TR-2026-00042 Pallets …"."""
    return workflow.one_line(f"{headline}: {conflict.ref} {conflict.title}")[:300]


def _render(
    *,
    kind: str,
    headline: str,
    conflict: Conflict,
    reader: User,
    said: str,
    quote: str | None = None,
    facts: Sequence[tuple[str, str]] = (),
    promise: str | None = None,
    category: str = preferences.UPDATES,
) -> Notice:
    context = {
        "said": said,
        "quote": quote,
        "facts": [(label, value) for label, value in facts if value],
        "promise": promise,
        "conflict": conflict,
        "status_label": workflow.state_label(conflict.status, staff=reader.is_staff),
        "url": links.conflict_url(conflict, staff=reader.is_staff),
    }
    return Notice(
        kind=kind,
        category=category,
        headline=headline,
        subject=subject_line(headline, conflict),
        text=render_template("email/_notice.txt", **context),
        html=render_template("email/_notice.html", **context),
    )


def _actor(entry: ConflictEvent, reader: User) -> str:
    """Who did it, as this reader may know: partners read "your alliance team" for staff."""
    actor = entry.actor
    if actor is None:
        return "Trustomer"
    if actor.is_staff and not reader.is_staff:
        return YOUR_TEAM.capitalize()
    return actor.name


def _promise(conflict: Conflict, reader: User) -> str | None:
    """The resolution clock's deadline in the reader's zone, while it runs."""
    due = conflict.resolution_due_at
    if due is None or conflict.resolution_running_since is None:
        return None
    when = local_time(due, reader.display_timezone)
    if reader.is_staff:
        return f"Resolution due {when} (your time)."
    return f"We will resolve this by {when} your time."


def answer_expected_by(conflict: Conflict, asked_at: datetime) -> datetime:
    """When an answer to a question asked at `asked_at` is expected: the agreement's
    response expectation in business time (the notice and the partner's page agree)."""
    policy = sla.snapshot_policy(conflict)
    return add_business_time(asked_at, policy.response_expectation, policy.calendar)


def _answer_expected(conflict: Conflict, now: datetime, reader: User) -> str:
    return local_time(answer_expected_by(conflict, now), reader.display_timezone)


def for_entry(conflict: Conflict, entry: ConflictEvent, reader: User, now: datetime) -> Notice:
    """The notice of one timeline entry for one reader (the caller has checked that the
    reader may see it: partners get public entries only)."""
    staff = reader.is_staff
    who = _actor(entry, reader)
    partner = conflict.partner.name
    if entry.kind == "submitted":
        if staff:
            return _render(
                kind="submitted",
                headline=f"New conflict from {partner}",
                conflict=conflict,
                reader=reader,
                said=f"{who} of {partner} raised a {conflict.severity} conflict.",
                quote=entry.body,
                facts=[("Category", workflow.CATEGORIES.get(conflict.category, ""))],
            )
        return _render(
            kind="submitted",
            headline="Received",
            conflict=conflict,
            reader=reader,
            said=f"{who} raised this conflict; {YOUR_TEAM} will triage it.",
            quote=entry.body,
            facts=[("Reference", conflict.ref or "")],
            promise=_promise(conflict, reader),
        )
    if entry.kind == "comment":
        return _render(
            kind="comment",
            headline=f"New comment from {who}" if staff else f"{who} commented",
            conflict=conflict,
            reader=reader,
            said=f"{who} ({partner}) wrote:" if staff else f"{who} wrote:",
            quote=entry.body,
        )
    if entry.kind == "reply":
        return _render(
            kind="reply",
            headline=f"Reply from {who}" if staff else "Reply from your alliance team",
            conflict=conflict,
            reader=reader,
            said=f"{who} replied to {partner}:" if staff else f"{who} replied:",
            quote=entry.body,
            promise=_promise(conflict, reader),
        )
    if entry.kind == "internal_note":
        return _render(
            kind="internal_note",
            headline=f"Internal note by {who}",
            conflict=conflict,
            reader=reader,
            said=f"{who} wrote an internal note (the partner does not see it):",
            quote=entry.body,
        )
    if entry.kind == "assigned":
        data = entry.data or {}
        after = data.get("after") or "nobody"
        before = data.get("before") or "nobody"
        return _render(
            kind="assigned",
            headline=f"Assigned to {after}",
            conflict=conflict,
            reader=reader,
            said=f"{who} assigned this conflict to {after} (before: {before}).",
        )
    if entry.kind == "field_changed":
        data = entry.data or {}
        field = str(data.get("field", "details"))
        return _render(
            kind="field_changed",
            headline=f"{field.capitalize()} changed",
            conflict=conflict,
            reader=reader,
            said=f"{who} changed the {field} from {data.get('before')} to {data.get('after')}.",
            promise=_promise(conflict, reader),
        )
    if entry.kind == "status_changed":
        return _status_notice(conflict, entry, reader, now, who)
    if entry.kind == "escalated":
        data = entry.data or {}
        said = esc.PUBLIC_NOTICE.get(data.get("level", ""), "escalated within the alliance team")
        clock = esc.CLOCK_LABELS.get(data.get("clock", ""), "")
        return _render(
            kind="escalated",
            headline=said[0].upper() + said[1:] + (f" ({clock})" if clock else ""),
            conflict=conflict,
            reader=reader,
            said=f"This conflict has been {said}; we are on it.",
            promise=_promise(conflict, reader),
        )
    return _render(
        kind=entry.kind,
        headline="Updated",
        conflict=conflict,
        reader=reader,
        said=f"{who} updated this conflict.",
        quote=entry.body,
    )


def _status_notice(
    conflict: Conflict, entry: ConflictEvent, reader: User, now: datetime, who: str
) -> Notice:
    data = entry.data or {}
    action = data.get("action", "")
    staff = reader.is_staff
    partner = conflict.partner.name
    automatic = bool(data.get("automatic"))
    common = {"kind": f"status_{action or 'changed'}", "conflict": conflict, "reader": reader}
    if action == "triage":
        return _render(
            headline="Triaged",
            said=f"{who} triaged this conflict as {data.get('severity_now', conflict.severity)}.",
            facts=[("Category", workflow.CATEGORIES.get(conflict.category, ""))],
            promise=_promise(conflict, reader),
            **common,
        )
    if action == "wait_on_partner":
        expected = _answer_expected(conflict, now, reader)
        if staff:
            return _render(
                headline=f"Waiting on {partner}",
                said=f"{who} asked {partner} (the resolution clock is paused):",
                quote=entry.body,
                facts=[("Answer expected by", expected)],
                **common,
            )
        return _render(
            headline="We need your answer",
            said=f"{who} needs an answer from you before we can go on:",
            quote=entry.body,
            facts=[("Please answer by", f"{expected} your time")],
            **common,
        )
    if action == "resume":
        if automatic:  # the partner's answer resumed it (recorded without an actor)
            answered = f"{partner}'s answer" if staff else "Your organisation's answer"
            said = f"{answered} resumed this conflict; the resolution clock runs again."
        else:
            said = f"{who} resumed work on this conflict."
        return _render(headline="Resumed", said=said, promise=_promise(conflict, reader), **common)
    if action == "resolve":
        return _render(
            headline="Resolved",
            said=f"{who} resolved this conflict:",
            quote=entry.body or conflict.resolution_summary,
            facts=[
                ("Root cause", workflow.ROOT_CAUSES.get(conflict.root_cause or "", "")),
                (
                    "Accountable",
                    workflow.ACCOUNTABLE_SIDES.get(conflict.accountable_side or "", ""),
                ),
            ],
            promise=None if staff else "Accept the resolution, or dispute it with a reason.",
            **common,
        )
    if action == "accept":
        return _render(headline="Accepted", said=f"{who} accepted the resolution.", **common)
    if action == "dispute":
        return _render(
            headline="Disputed",
            said=f"{who} disputed the resolution:",
            quote=entry.body,
            promise=_promise(conflict, reader),
            **common,
        )
    if action == "reopen":
        return _render(
            headline="Reopened",
            said=f"{who} reopened this conflict:",
            quote=entry.body,
            promise=_promise(conflict, reader),
            **common,
        )
    if action == "withdraw":
        reason = workflow.WITHDRAW_REASONS.get(str(data.get("reason", "")), "")
        return _render(
            headline="Withdrawn",
            said=f"{who} withdrew this conflict.",
            facts=[("Reason", reason)],
            **common,
        )
    if action == "auto_close":
        return _render(
            headline="Closed",
            said="The resolution was not answered within 7 days, so it counts as accepted.",
            **common,
        )
    label = workflow.STATE_LABELS.get(str(data.get("to", "")), "updated")
    return _render(headline=label, said=f"{who} changed the status to {label.lower()}.", **common)


LEVEL_PHRASES = {
    esc.WARNING: "at risk",
    esc.BREACH: "breached",
    esc.CRITICAL: "breached (critical)",
}


def escalation_headline(escalation: Escalation, sequence: int) -> str:
    """ "Time to triage breached (critical)": the clock and how far past it we are."""
    clock = esc.CLOCK_LABELS[escalation.clock]
    headline = f"{clock[0].upper()}{clock[1:]} {LEVEL_PHRASES[escalation.level]}"
    return f"Reminder {sequence}: {headline.lower()}" if sequence else headline


def for_escalation(
    escalation: Escalation,
    passed: Sequence[tuple[str, datetime]],
    sequence: int,
    reader: User | None,
) -> Notice:
    """A staff escalation notice (or the mailing list's, `reader` None: in UTC)."""
    conflict = escalation.conflict
    timezone = reader.display_timezone if reader else "UTC"
    headline = escalation_headline(escalation, sequence)
    context = {
        "conflict": conflict,
        "headline": headline,
        "clock_label": esc.CLOCK_LABELS[escalation.clock],
        "level_label": esc.LEVEL_LABELS[escalation.level],
        "passed": [(label, local_time(at, timezone)) for label, at in passed],
        "reminder": sequence,
        "due_at": local_time(escalation.due_at, timezone),
        "url": links.conflict_url(conflict, staff=True),
    }
    return Notice(
        kind="escalation",
        category=preferences.ESCALATIONS,
        headline=headline,
        subject=workflow.one_line(
            f"{headline}: {conflict.ref} {conflict.title} · {conflict.partner.name}"
        )[:300],
        text=render_template("email/_escalation.txt", **context),
        html=render_template("email/_escalation.html", **context),
    )
