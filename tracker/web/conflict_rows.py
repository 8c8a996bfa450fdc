"""Rows of a conflict list as plain values, each cell worked out once in Python.

The queue and the partner's list used to call five macros per row (badges, the SLA
countdown, the snippet), each reading the signed-in user and the catalog through context
proxies: about 2,000 function calls a row, most of a page's CPU. A row is now a frozen
record of strings that the template prints as it is (Jinja still escapes every one), and
what does not change within a page (label tables, the link prefix, the viewer's zone and
role) is looked up once per page.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from flask import url_for

from tracker.domain import workflow
from tracker.domain.clock import SLA_STATE_LABELS
from tracker.i18n import gettext
from tracker.services.search_index import Snippet
from tracker.services.sla import live_state
from tracker.web.templating import age, countdown, localtime

if TYPE_CHECKING:
    from tracker.models import Conflict, User


@dataclass(frozen=True, slots=True)
class ConflictRow:
    """What one list row shows; every text is plain (the template escapes it)."""

    id: int
    ref: str
    title: str
    href: str
    status: str
    status_label: str
    severity: str
    severity_label: str
    sla_state: str
    sla_label: str
    sla_title: str
    due_iso: str  # "" without a deadline
    countdown: str
    snippet: Snippet | None
    # Staff lists only:
    partner: str = ""
    assignee: str = ""
    age: str = ""
    select_label: str = ""
    # Partner lists only:
    updated: str = ""


def _translated(labels: Mapping[str, str]) -> dict[str, str]:
    return {key: gettext(label) for key, label in labels.items()}


def link_prefix(endpoint: str, key: str = "conflict_id") -> str:
    """The URL of `endpoint` for id 1 without the id: url_for once per page, not per row."""
    url = url_for(endpoint, **{key: 1})
    if not url.endswith("/1"):  # a rule whose id is not last would need url_for per row
        raise ValueError(f"{endpoint}: the {key} is not the last part of its URL")
    return url[:-1]


def rows(
    viewer: User,
    conflicts: Iterable[Conflict],
    now: datetime,
    *,
    endpoint: str,
    snippets: Mapping[int, Snippet] | None = None,
    partner_names: Mapping[int, str] | None = None,
) -> list[ConflictRow]:
    """The rows of a list page for `viewer`: staff see the queue's words, the partner, the
    assignee and the age; partners their own state names and when it last changed.

    `partner_names`: id -> name of the partners, when the page has read them already (the
    queue's filter), instead of each conflict's partner."""
    staff = viewer.is_staff
    timezone = viewer.display_timezone
    states = _translated(workflow.STATE_LABELS if staff else workflow.PARTNER_STATE_LABELS)
    severities = _translated(workflow.SEVERITIES)
    sla_labels = _translated(SLA_STATE_LABELS)
    due_title = gettext("SLA: %(state)s, due %(when)s")
    plain_title = gettext("SLA: %(state)s")
    select = gettext("Select %(ref)s")
    prefix = link_prefix(endpoint)
    found = snippets or {}
    names = partner_names or {}
    result = []
    for c in conflicts:
        state = live_state(c, now)
        sla_label = sla_labels.get(state, state)
        due = c.sla_due_at
        if due is not None:
            when = localtime(due, tz=timezone)
            title = due_title % {"state": sla_label, "when": when}
        else:
            title = plain_title % {"state": sla_label}
        common = {
            "id": c.id,
            "ref": c.ref or "",
            "title": c.title,
            "href": f"{prefix}{c.id}",
            "status": c.status,
            "status_label": states.get(c.status, c.status),
            "severity": c.severity,
            "severity_label": severities.get(c.severity, c.severity),
            "sla_state": state,
            "sla_label": sla_label,
            "sla_title": title,
            "due_iso": due.isoformat() if due is not None else "",
            "countdown": countdown(due, now) if due is not None else "",
            "snippet": found.get(c.id),
        }
        if staff:
            row = ConflictRow(
                **common,
                partner=names.get(c.partner_id) or c.partner.name,
                assignee=c.assignee.name if c.assignee else "—",
                age=age(c.created_at, now),
                select_label=select % {"ref": c.ref},
            )
        else:
            row = ConflictRow(
                **common, updated=localtime(c.public_updated_at or c.created_at, tz=timezone)
            )
        result.append(row)
    return result
