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
from typing import Any

from flask import current_app

from tracker.domain import escalation as esc
from tracker.domain import workflow
from tracker.domain.calendar import add_business_time
from tracker.domain.events import LevelPassed
from tracker.domain.text import N_
from tracker.extensions import db
from tracker.i18n import format_local
from tracker.i18n import gettext as _
from tracker.models import Conflict, ConflictEvent, Escalation, User
from tracker.services import links, preferences, sla


def _mail_template(name: str, **context: object) -> str:
    """A mail body from its template: no request, so none of the pages' context processors
    (a sweep renders hundreds; each costs a page's worth of globals)."""
    return current_app.jinja_env.get_template(name).render(context)


YOUR_TEAM = N_("your alliance team")


# The fields a "changed" entry names, and the label tables of their values.
FIELD_NAMES = {"severity": N_("severity"), "category": N_("category")}
FIELD_LABELS = {"severity": workflow.SEVERITIES, "category": workflow.CATEGORIES}


def _label(table: dict[str, str], key: str | None) -> str:
    """A domain label in the reader's language; the raw value when the table lacks it."""
    if not key:
        return ""
    return _(table[key]) if key in table else key


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
    """An instant as the reader's clock shows it, in their language, with the zone's name."""
    if value is None:
        return ""
    return format_local(value, timezone, fmt)


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
        text=_mail_template("email/_notice.txt", **context),
        html=_mail_template("email/_notice.html", **context),
    )


def _actor(entry: ConflictEvent, reader: User) -> str:
    """Who did it, as this reader may know: partners read "your alliance team" for staff."""
    actor = entry.actor
    if actor is None:
        return "Trustomer"
    if actor.is_staff and not reader.is_staff:
        return _(YOUR_TEAM).capitalize()
    return actor.name


def _promise(conflict: Conflict, reader: User) -> str | None:
    """The resolution clock's deadline in the reader's zone, while it runs."""
    due = conflict.resolution_due_at
    if due is None or conflict.resolution_running_since is None:
        return None
    when = local_time(due, reader.display_timezone)
    if reader.is_staff:
        return _("Resolution due %(when)s (your time).", when=when)
    return _("We will resolve this by %(when)s your time.", when=when)


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
                headline=_("New conflict from %(partner)s", partner=partner),
                conflict=conflict,
                reader=reader,
                said=_(
                    "%(who)s of %(partner)s raised a %(severity)s conflict.",
                    who=who,
                    partner=partner,
                    severity=_(workflow.SEVERITIES.get(conflict.severity, "")).lower(),
                ),
                quote=entry.body,
                facts=[(_("Category"), _label(workflow.CATEGORIES, conflict.category))],
            )
        return _render(
            kind="submitted",
            headline=_("Received"),
            conflict=conflict,
            reader=reader,
            said=_("%(who)s raised this conflict; your alliance team will triage it.", who=who),
            quote=entry.body,
            facts=[(_("Reference"), conflict.ref or "")],
            promise=_promise(conflict, reader),
        )
    if entry.kind == "comment":
        return _render(
            kind="comment",
            headline=_("New comment from %(who)s", who=who)
            if staff
            else _("%(who)s commented", who=who),
            conflict=conflict,
            reader=reader,
            said=_("%(who)s (%(partner)s) wrote:", who=who, partner=partner)
            if staff
            else _("%(who)s wrote:", who=who),
            quote=entry.body,
        )
    if entry.kind == "reply":
        return _render(
            kind="reply",
            headline=_("Reply from %(who)s", who=who)
            if staff
            else _("Reply from your alliance team"),
            conflict=conflict,
            reader=reader,
            said=_("%(who)s replied to %(partner)s:", who=who, partner=partner)
            if staff
            else _("%(who)s replied:", who=who),
            quote=entry.body,
            promise=_promise(conflict, reader),
        )
    if entry.kind == "internal_note":
        return _render(
            kind="internal_note",
            headline=_("Internal note by %(who)s", who=who),
            conflict=conflict,
            reader=reader,
            said=_("%(who)s wrote an internal note (the partner does not see it):", who=who),
            quote=entry.body,
        )
    if entry.kind == "assigned":
        data = entry.data or {}
        after = data.get("after") or _("nobody")
        before = data.get("before") or _("nobody")
        return _render(
            kind="assigned",
            headline=_("Assigned to %(after)s", after=after),
            conflict=conflict,
            reader=reader,
            said=_(
                "%(who)s assigned this conflict to %(after)s (before: %(before)s).",
                who=who,
                after=after,
                before=before,
            ),
        )
    if entry.kind == "field_changed":
        data = entry.data or {}
        field = str(data.get("field", "details"))
        labels = FIELD_LABELS.get(field, {})
        field_name = _(FIELD_NAMES.get(field, field))
        return _render(
            kind="field_changed",
            headline=_("%(field)s changed", field=field_name.capitalize()),
            conflict=conflict,
            reader=reader,
            said=_(
                "%(who)s changed the %(field)s from %(before)s to %(after)s.",
                who=who,
                field=field_name,
                before=_label(labels, str(data.get("before"))),
                after=_label(labels, str(data.get("after"))),
            ),
            promise=_promise(conflict, reader),
        )
    if entry.kind == "status_changed":
        return _status_notice(conflict, entry, reader, now, who)
    if entry.kind == "escalated":
        data = entry.data or {}
        said = _(esc.PUBLIC_NOTICE.get(data.get("level", ""), esc.PUBLIC_NOTICE[esc.BREACH]))
        clock = _label(esc.CLOCK_LABELS, data.get("clock", ""))
        return _render(
            kind="escalated",
            headline=said[0].upper() + said[1:] + (f" ({clock})" if clock else ""),
            conflict=conflict,
            reader=reader,
            said=_("This conflict has been %(what)s; we are on it.", what=said),
            promise=_promise(conflict, reader),
        )
    return _render(
        kind=entry.kind,
        headline=_("Updated"),
        conflict=conflict,
        reader=reader,
        said=_("%(who)s updated this conflict.", who=who),
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
    common = {"kind": notice_kind(entry), "conflict": conflict, "reader": reader}
    if action == "triage":
        return _render(
            headline=_("Triaged"),
            said=_(
                "%(who)s triaged this conflict as %(severity)s.",
                who=who,
                severity=_label(
                    workflow.SEVERITIES, data.get("severity_now", conflict.severity)
                ).lower(),
            ),
            facts=[(_("Category"), _label(workflow.CATEGORIES, conflict.category))],
            promise=_promise(conflict, reader),
            **common,
        )
    if action == "wait_on_partner":
        expected = _answer_expected(conflict, now, reader)
        if staff:
            return _render(
                headline=_("Waiting on %(partner)s", partner=partner),
                said=_(
                    "%(who)s asked %(partner)s (the resolution clock is paused):",
                    who=who,
                    partner=partner,
                ),
                quote=entry.body,
                facts=[(_("Answer expected by"), expected)],
                **common,
            )
        return _render(
            headline=_("We need your answer"),
            said=_("%(who)s needs an answer from you before we can go on:", who=who),
            quote=entry.body,
            facts=[(_("Please answer by"), _("%(when)s your time", when=expected))],
            **common,
        )
    if action == "resume":
        if automatic:  # the partner's answer resumed it (recorded without an actor)
            said = (
                _(
                    "%(partner)s's answer resumed this conflict; the resolution clock runs again.",
                    partner=partner,
                )
                if staff
                else _(
                    "Your organisation's answer resumed this conflict; the resolution clock runs"
                    " again."
                )
            )
        else:
            said = _("%(who)s resumed work on this conflict.", who=who)
        return _render(
            headline=_("Resumed"), said=said, promise=_promise(conflict, reader), **common
        )
    if action == "resolve":
        return _render(
            headline=_("Resolved"),
            said=_("%(who)s resolved this conflict:", who=who),
            quote=entry.body or conflict.resolution_summary,
            facts=[
                (_("Root cause"), _label(workflow.ROOT_CAUSES, conflict.root_cause)),
                (_("Accountable"), _label(workflow.ACCOUNTABLE_SIDES, conflict.accountable_side)),
            ],
            promise=None if staff else _("Accept the resolution, or dispute it with a reason."),
            **common,
        )
    if action == "accept":
        return _render(
            headline=_("Accepted"), said=_("%(who)s accepted the resolution.", who=who), **common
        )
    if action == "dispute":
        return _render(
            headline=_("Disputed"),
            said=_("%(who)s disputed the resolution:", who=who),
            quote=entry.body,
            promise=_promise(conflict, reader),
            **common,
        )
    if action == "reopen":
        return _render(
            headline=_("Reopened"),
            said=_("%(who)s reopened this conflict:", who=who),
            quote=entry.body,
            promise=_promise(conflict, reader),
            **common,
        )
    if action == "withdraw":
        reason = _label(workflow.WITHDRAW_REASONS, str(data.get("reason", "")))
        return _render(
            headline=_("Withdrawn"),
            said=_("%(who)s withdrew this conflict.", who=who),
            facts=[(_("Reason"), reason)],
            **common,
        )
    if action == "auto_close":
        return _render(
            headline=_("Closed"),
            said=_("The resolution was not answered within 7 days, so it counts as accepted."),
            **common,
        )
    label = _label(workflow.STATE_LABELS, str(data.get("to", ""))) or _("Updated")
    return _render(
        headline=label,
        said=_("%(who)s changed the status to %(state)s.", who=who, state=label.lower()),
        **common,
    )


LEVEL_PHRASES = {
    esc.WARNING: N_("%(clock)s at risk"),
    esc.BREACH: N_("%(clock)s breached"),
    esc.CRITICAL: N_("%(clock)s breached (critical)"),
}


def escalation_headline(escalation: Escalation, sequence: int) -> str:
    """ "Time to triage breached (critical)": the clock and how far past it we are."""
    clock = _(esc.CLOCK_LABELS[escalation.clock])
    headline = _(LEVEL_PHRASES[escalation.level], clock=clock)
    headline = headline[0].upper() + headline[1:]
    if sequence:
        return _("Reminder %(num)s: %(headline)s", num=sequence, headline=headline.lower())
    return headline


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
        "clock_label": _(esc.CLOCK_LABELS[escalation.clock]),
        "level_label": _(esc.LEVEL_LABELS[escalation.level]),
        "passed": [(_(label), local_time(at, timezone)) for label, at in passed],
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
        text=_mail_template("email/_escalation.txt", **context),
        html=_mail_template("email/_escalation.html", **context),
    )


# --- what to say, kept until the message is composed -----------------------------------


def notice_kind(entry: ConflictEvent) -> str:
    """The kind of the notice of a timeline entry ("reply", "status_resolve", …), known
    without rendering it: the notice row carries it from the start."""
    if entry.kind == "status_changed":
        return f"status_{(entry.data or {}).get('action') or 'changed'}"
    return entry.kind


def entry_facts(entry: ConflictEvent) -> dict[str, Any]:
    """What a notice of a timeline entry says: the entry (it never changes)."""
    return {"entry": entry.id}


def escalation_facts(
    escalation: Escalation, passed: Sequence[LevelPassed], sequence: int
) -> dict[str, Any]:
    """What an escalation notice says: the level, the lower levels passed with it (and since
    when), and which reminder it is."""
    return {
        "escalation": escalation.id,
        "passed": [[p.level, p.reached_at.isoformat()] for p in passed],
        "sequence": sequence,
    }


def from_facts(facts: dict[str, Any], reader: User | None, told_at: datetime) -> Notice:
    """The words of a kept notice for its reader, in the language being spoken (the caller
    speaks the reader's): the same words the reader would have read when it was written,
    with the conflict's present state where the notice names it ("now resolved")."""
    if "entry" in facts:
        entry = db.session.get(ConflictEvent, facts["entry"])
        if entry is None or reader is None:
            raise LookupError(f"the notice's entry {facts['entry']} is gone")
        return for_entry(entry.conflict, entry, reader, told_at)
    escalation = db.session.get(Escalation, facts["escalation"])
    if escalation is None:
        raise LookupError(f"the notice's escalation {facts['escalation']} is gone")
    passed = [
        (esc.LEVEL_LABELS[level], datetime.fromisoformat(at)) for level, at in facts["passed"]
    ]
    return for_escalation(escalation, passed, int(facts["sequence"]), reader)
