"""A conflict's timeline as plain values: who, what, when, each entry worked out in Python.

The timeline macro called two more macros per entry, and the summary's chain of tests and
label tables went through Jinja's context machinery for each of fifty entries: a fifth of
a conflict page's CPU. The words are the macro's, in the same order of tests; Jinja still
escapes every text when it prints it (the body is the Markdown renderer's safe Markup).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from tracker.domain import workflow
from tracker.domain.escalation import CLOCK_LABELS, LEVEL_LABELS
from tracker.i18n import gettext
from tracker.services import notice_content
from tracker.web.conflict_rows import link_prefix
from tracker.web.markdown import render_markdown
from tracker.web.templating import decimal, localtime

if TYPE_CHECKING:
    from tracker.models import ConflictEvent, User


@dataclass(frozen=True, slots=True)
class AttachmentLink:
    href: str
    filename: str
    size: str  # "12.5 KB" in the reader's notation


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One entry as shown; every text is plain except `body` (sanitised Markup or None)."""

    id: int
    kind: str
    internal: bool
    actor: str
    summary: str
    created_iso: str
    created_text: str
    accountability: str  # "" unless a resolution
    body: Markup | None
    attachments: tuple[AttachmentLink, ...]


def _label(table: Mapping[str, str], key: Any, default: Any) -> Any:
    """`wf.TABLE.get(key, default)` of the templates: the label translated, else the default."""
    return gettext(table[key]) if key in table else default


def actor_name(event: ConflictEvent) -> str:
    if event.actor is None:
        return "Trustomer"
    if event.actor.is_staff:
        return gettext("%(name)s (alliance team)", name=event.actor.name)
    return event.actor.name


def summary(event: ConflictEvent) -> str:  # noqa: C901, PLR0911, PLR0912  (one test per kind)
    """What the entry says happened, after the actor's name."""
    d = event.data or {}
    kind = event.kind
    if kind == "submitted":
        return gettext("raised the conflict")
    if kind == "comment":
        return gettext("commented")
    if kind == "reply":
        return gettext("replied")
    if kind == "internal_note":
        return gettext("wrote an internal note")
    if kind == "assigned":
        after = d.get("after") or gettext("nobody")
        if d.get("before"):
            return gettext(
                "assigned it to %(after)s (was %(before)s)", after=after, before=d.get("before")
            )
        return gettext("assigned it to %(after)s", after=after)
    if kind == "field_changed":
        field = d.get("field")
        table = notice_content.FIELD_LABELS.get(field, {})
        name = notice_content.FIELD_NAMES.get(field)
        return gettext(
            "changed %(field)s from %(before)s to %(after)s",
            field=gettext(name) if name else field,
            before=_label(table, d.get("before"), d.get("before")),
            after=_label(table, d.get("after"), d.get("after")),
        )
    if kind == "escalated":
        if d.get("level") == "critical":
            return gettext("escalated to senior management")
        return gettext("escalated within the alliance team")
    if kind == "escalated_internal":
        return gettext(
            "%(level)s escalation of %(clock)s clock",
            level=_label(LEVEL_LABELS, d.get("level"), d.get("level")),
            clock=_label(CLOCK_LABELS, d.get("clock"), d.get("clock")),
        )
    if kind == "escalation_acknowledged":
        level = _label(LEVEL_LABELS, d.get("level"), d.get("level"))
        return gettext("acknowledged the %(level)s escalation", level=str(level).lower())
    if kind == "sla_reapplied":
        return gettext("re-applied the agreement %(policy)s", policy=d.get("policy"))
    if kind == "linked":
        if d.get("repeat_of"):
            return gettext("linked it as a repeat of %(ref)s", ref=d.get("repeat_of"))
        return gettext("noted a repeat: %(ref)s", ref=d.get("repeated_by"))
    if kind == "status_changed":
        return _status_summary(d)
    return kind.replace("_", " ")


def _status_summary(d: Mapping[str, Any]) -> str:  # noqa: PLR0911  (one per action)
    action = d.get("action")
    if action == "triage":
        severity = _label(workflow.SEVERITIES, d.get("severity_now", ""), "")
        return gettext("triaged it (%(severity)s severity)", severity=str(severity).lower())
    if action == "wait_on_partner":
        return gettext("asked the partner for information")
    if action == "resume":
        if d.get("automatic"):
            return gettext("resumed work after the partner's reply")
        return gettext("resumed work")
    if action == "resolve":
        return gettext("resolved it")
    if action == "accept":
        return gettext("accepted the resolution")
    if action == "dispute":
        return gettext("disputed the resolution")
    if action == "reopen":
        return gettext("reopened it")
    if action == "withdraw":
        reason = _label(workflow.WITHDRAW_REASONS, d.get("reason", ""), "")
        return gettext("withdrew it (%(reason)s)", reason=str(reason).lower())
    if action == "auto_close":
        return gettext(
            "closed it after %(days)s days without answer (accepted by default)",
            days=workflow.AUTO_CLOSE_AFTER.days,
        )
    state = _label(workflow.STATE_LABELS, d.get("to"), d.get("to"))
    return gettext("moved it to %(state)s", state=str(state).lower())


def _accountability(event: ConflictEvent) -> str:
    d = event.data or {}
    if event.kind != "status_changed" or d.get("action") != "resolve":
        return ""
    return gettext(
        "Root cause: %(cause)s · Accountable: %(side)s",
        cause=_label(workflow.ROOT_CAUSES, d.get("root_cause"), "—"),
        side=_label(workflow.ACCOUNTABLE_SIDES, d.get("accountable_side"), "—"),
    )


def entries(events: Iterable[ConflictEvent], viewer: User) -> list[TimelineEntry]:
    """The entries of `events` (already filtered for `viewer` by the service) as shown."""
    timezone = viewer.display_timezone
    download = link_prefix("shared.attachment", "attachment_id")
    result = []
    for event in events:
        result.append(
            TimelineEntry(
                id=event.id,
                kind=event.kind,
                internal=event.is_internal,
                actor=actor_name(event),
                summary=summary(event),
                created_iso=event.created_at.isoformat(),
                created_text=localtime(event.created_at, tz=timezone),
                accountability=_accountability(event),
                body=render_markdown(event.body)
                if event.body and event.kind != "submitted"
                else None,
                attachments=tuple(
                    AttachmentLink(
                        href=f"{download}{file.id}",
                        filename=file.filename,
                        size=gettext("%(size)s KB", size=decimal(file.size_bytes / 1024, 1)),
                    )
                    for file in event.attachments
                ),
            )
        )
    return result
