"""Who hears of an escalation, and how: a consumer of EscalationsFired and ReminderDue.

People hear once per evaluation and clock, of the highest level reached; a late sweep
that finds warning, breach and critical reached together sends one notice that names the
levels passed and since when. Everything runs in the caller's transaction; the dedupe keys
(unique in the database) make a repeated sweep write nothing twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import select

from tracker.database import transaction_memo
from tracker.domain import escalation as esc
from tracker.domain import workflow
from tracker.domain.accounts import ADMIN, DEFAULT_LOCALE
from tracker.domain.events import EscalationsFired, LevelPassed, ReminderDue
from tracker.extensions import db
from tracker.i18n import speaking
from tracker.models import Conflict, Escalation, User
from tracker.services import (
    links,
    mail_notices,
    mail_threads,
    notice_content,
    notifications,
    outbox,
    preferences,
)

COMPOSE_LIST = "escalation_list"


def on_fired(event: EscalationsFired, now: datetime) -> None:
    escalation = db.session.get(Escalation, event.highest.escalation_id)
    _announce(escalation, event.passed[:-1], now, sequence=0)


def on_reminder(event: ReminderDue, now: datetime) -> None:
    escalation = db.session.get(Escalation, event.escalation_id)
    _announce(escalation, (), now, sequence=event.sequence)


def audience(conflict: Conflict, level: str) -> list[User]:
    """The people a level is for (active staff only), without duplicates."""
    partner = conflict.partner
    ids: list[int | None] = []
    for rule in esc.AUDIENCE[level]:
        if rule == "assignee_or_owner":
            ids.append(conflict.assignee_id or partner.owner_id)
        elif rule == "assignee":
            ids.append(conflict.assignee_id)
        elif rule == "owner":
            ids.append(partner.owner_id)
    admins = _admins() if "admins" in esc.AUDIENCE[level] else []
    named = notifications.users_by_id(i for i in ids if i is not None)
    people = [u for u in dict.fromkeys([*named, *admins]) if u.is_active and u.is_staff]
    if not people:
        # Nobody to hear of it (no assignee, owner gone or deactivated): admins, never silence.
        people = [u for u in _admins() if u.is_active]
    return people


def _admins() -> list[User]:
    return transaction_memo(
        db.session,
        ("admins",),
        lambda: list(db.session.scalars(select(User).where(User.role == ADMIN))),
    )


def _heading(
    conflict: Conflict, escalation: Escalation, passed: tuple[LevelPassed, ...], sequence: int
) -> str:
    label = esc.LEVEL_LABELS[escalation.level]
    reminder = f" (reminder {sequence})" if sequence else ""
    below = ", ".join(esc.LEVEL_LABELS[p.level].lower() for p in passed)
    caught_up = f" (also passed since the last check: {below})" if passed else ""
    return (
        f"{conflict.ref} {label.lower()}: {esc.CLOCK_LABELS[escalation.clock]} "
        f"for {conflict.partner.name}{reminder}{caught_up}"
    )


def _announce(
    escalation: Escalation, passed: tuple[LevelPassed, ...], now: datetime, *, sequence: int
) -> None:
    conflict = escalation.conflict
    level = escalation.level
    heading = _heading(conflict, escalation, passed, sequence)
    url = links.conflict_url(conflict, staff=True)
    key = f"esc:{escalation.id}:{sequence}"
    people = audience(conflict, level)
    wanted = preferences.channels_for(people, preferences.ESCALATIONS)
    digest = preferences.digest_readers(people)
    facts = notice_content.escalation_facts(escalation, passed, sequence)
    for user in people:
        if preferences.IN_APP in wanted[user.id]:
            notifications.add_in_app(
                user_id=user.id,
                conflict_id=conflict.id,
                kind="escalation",
                title=heading,
                dedupe_key=f"{key}:in_app:{user.id}",
                now=now,
            )
        if preferences.EMAIL in wanted[user.id]:
            mail_notices.add(
                user,
                conflict,
                kind="escalation",
                category=preferences.ESCALATIONS,
                facts=facts,
                dedupe_key=f"{key}:email:{user.id}",
                digest=user.id in digest,
                now=now,
            )
    mailing_list = current_app.config.get("ESCALATION_EMAIL")
    if "mailing_list" in esc.AUDIENCE[level] and mailing_list:
        _email_list(mailing_list, escalation, facts, f"{key}:email:list", now)
    webhook = current_app.config.get("WEBHOOK_URL")
    if webhook:
        outbox.enqueue_webhook(
            dedupe_key=f"{key}:webhook",
            url=webhook,
            payload={
                "event": "escalation.reminder" if sequence else f"escalation.{level}",
                "conflict": conflict.ref,
                "partner": conflict.partner.name,
                "title": conflict.title,
                "severity": conflict.severity,
                "clock": escalation.clock,
                "level": level,
                "passed": [
                    {"level": p.level, "reached_at": p.reached_at.isoformat()} for p in passed
                ],
                "reminder": sequence,
                "due_at": escalation.due_at.isoformat() if escalation.due_at else None,
                "url": url,
                "text": f"{_slack(heading)}: {_slack(conflict.title)} <{url}|open {conflict.ref}>",
            },
            conflict_id=conflict.id,
            now=now,
        )  # fmt: skip


def _slack(text: str) -> str:
    """Slack reads <...> as links and mentions (<!channel>): partner text must not."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _email_list(
    address: str, escalation: Escalation, facts: dict[str, Any], key: str, now: datetime
) -> None:
    """The escalation mailing list: no reader of its own, so its own message, composed when
    it is delivered (`compose_list_message`), threaded with the conflict's other notices."""
    outbox.enqueue_composed_email(
        dedupe_key=key,
        address=address,
        subject=workflow.one_line(f"[Trustomer] {escalation.conflict.ref} {escalation.level}"),
        compose={"compose": COMPOSE_LIST, "facts": facts},
        due_at=now,
        conflict_id=escalation.conflict_id,
        now=now,
    )


def compose_list_message(key: str, spec: dict[str, Any], now: datetime) -> outbox.Composed:
    """The outbox composer of a mailing-list message: the words a UTC reader gets, in English
    (the list has no reader of its own)."""
    with speaking(DEFAULT_LOCALE):
        notice = notice_content.from_facts(spec["facts"], None, now)
    escalation = db.session.get(Escalation, spec["facts"]["escalation"])
    root = mail_threads.thread_root_id(escalation.conflict_id)
    return outbox.Composed(
        subject=workflow.one_line(f"[Trustomer] {notice.subject}")[:300],
        text=notice.text + "\n-- Trustomer\n",
        html=f'<!doctype html><html lang="en"><body>{notice.html}</body></html>',
        headers={
            "In-Reply-To": root,
            "References": root,
            "Auto-Submitted": "auto-generated",
            "X-Auto-Response-Suppress": "All",
        },
    )


def register() -> None:
    """Install the mailing list's composer in the outbox (create_app calls this once)."""
    outbox.register_composer(COMPOSE_LIST, compose_list_message)
