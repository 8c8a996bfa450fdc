"""Notices of a conflict's timeline: who hears of an entry, in the app and by e-mail, and
what they have read."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Integer, and_, bindparam, func, or_, select, update

from tracker.database import defer_insert, grouped_once, transaction_memo
from tracker.domain import escalation as esc
from tracker.domain import workflow
from tracker.domain.events import TimelineRecorded
from tracker.extensions import db
from tracker.models import Conflict, ConflictEvent, Notification, User
from tracker.models.conflict import PUBLIC
from tracker.services import mail_notices, messagebus, notice_content, preferences, timeline

_KIND_TITLES = {
    "submitted": "New conflict {ref}: {title}",
    "comment": "{ref}: new comment from {partner}",
    "reply": "{ref}: new reply from the alliance team",
    "internal_note": "{ref}: internal note",
    "assigned": "{ref}: assignment changed",
    "field_changed": "{ref}: details changed",
}


def _title(conflict: Conflict, event: ConflictEvent, *, staff: bool = True) -> str:
    """The bell's line for an entry; partners read their own words for the new state."""
    if event.kind == "status_changed" and event.data:
        label = workflow.state_label(event.data.get("to", ""), staff=staff)
        return f"{conflict.ref}: now {label.lower()}"
    if event.kind == "escalated" and event.data:
        said = esc.PUBLIC_NOTICE.get(event.data.get("level", ""), "escalated")
        clock = esc.CLOCK_LABELS.get(event.data.get("clock", ""), "")
        return f"{conflict.ref}: {said}" + (f" ({clock})" if clock else "")
    template = _KIND_TITLES.get(event.kind, "{ref}: updated")
    return template.format(ref=conflict.ref, title=conflict.title, partner=conflict.partner.name)[
        :300
    ]


def recipients(conflict: Conflict, event: ConflictEvent) -> list[User]:
    """Staff who own or handle the conflict; the partner's people for public events only.

    The partner's line "escalated within the alliance team" is for the partner: staff hear
    of the same escalation from its own notice, which names the clock and the levels.
    """
    staff_ids = (
        [] if event.kind == "escalated" else [conflict.assignee_id, conflict.partner.owner_id]
    )
    staff_ids = [i for i in staff_ids if i]
    partner_ids = [conflict.partner_id] if event.visibility == PUBLIC else []
    _read_people_once(staff_ids, partner_ids)
    people = users_by_id(staff_ids)
    if partner_ids:
        people = [*people, *partner_people(conflict.partner_id)]
    # is_active, not the column: invites never accepted and users of inactive partners hear nothing.
    return [p for p in dict.fromkeys(people) if p.id != event.actor_id and p.is_active]


def _read_people_once(staff_ids: list[int], partner_ids: list[int]) -> None:
    """The staff and the partners' active people not yet read this transaction, in one
    statement (each fan-out needs both), into the memos users_by_id and partner_people read."""
    known: dict[int, User] = transaction_memo(db.session, ("users",), dict)
    groups: dict[int, list[User]] = transaction_memo(db.session, ("partner_people",), dict)
    staff = [i for i in dict.fromkeys(staff_ids) if i not in known]
    partners = [i for i in dict.fromkeys(partner_ids) if i not in groups]
    if not (staff and partners):
        return  # one kind or none missing: their own reader takes it in one statement
    query = (
        select(User)
        .where(
            or_(
                User.id.in_(staff),
                and_(User.partner_id.in_(partners), User.active.is_(True)),
            )
        )
        .order_by(User.id)
    )
    for partner_id in partners:
        groups[partner_id] = []
    # Their choices of updates come in the same statement: on_timeline asks for them next.
    for user in preferences.read_with_choices(query, preferences.UPDATES):
        if user.id in staff:
            known[user.id] = user
        if user.partner_id in groups and user.partner_id in partners and user.active:
            groups[user.partner_id].append(user)


def users_by_id(ids: Iterable[int]) -> list[User]:
    """These users, read at most once per transaction (a sweep's batch names the same
    owners and assignees again and again)."""
    known: dict[int, User] = transaction_memo(db.session, ("users",), dict)
    wanted = list(dict.fromkeys(ids))
    missing = [i for i in wanted if i not in known]
    if missing:
        for user in db.session.scalars(select(User).where(User.id.in_(missing))):
            known[user.id] = user
    return [known[i] for i in wanted if i in known]


def partner_people(partner_id: int) -> list[User]:
    """A partner organisation's active users, read once per transaction."""
    return _partner_people([partner_id])[partner_id]


def _partner_people(partner_ids: Iterable[int]) -> dict[int, list[User]]:
    """The active users of these partners; the ones not yet read, in one statement."""
    return grouped_once(db.session, "partner_people", User.partner_id, partner_ids, _ACTIVE)


_ACTIVE = User.active.is_(True)  # built once: a sweep asks for partners' people per entry


@messagebus.batched
def prime_followers(events: list[TimelineRecorded], now: datetime) -> None:
    """Read the followers of a run of entries at once (a sweep's batch announces many): the
    staff, the partners' people and their choices, so that on_timeline finds them at hand."""
    if len(events) < 2:
        return
    found = [timeline.entry(event.event_id).conflict for event in events]
    staff = users_by_id(i for c in found for i in (c.assignee_id, c.partner.owner_id) if i)
    people = [p for group in _partner_people(c.partner_id for c in found).values() for p in group]
    preferences.channels_for([*staff, *people], preferences.UPDATES)
    preferences.digest_readers([*staff, *people])


def add_in_app(
    *,
    user_id: int,
    conflict_id: int | None,
    kind: str,
    title: str,
    now: datetime,
    event_id: int | None = None,
    dedupe_key: str | None = None,
) -> None:
    """One in-app notice, written once: a repeat (same user and event, or same key) is a
    no-op in the database (`ON CONFLICT DO NOTHING`), never a second row or an error."""
    defer_insert(
        db.session,
        Notification,
        {
            "user_id": user_id,
            "conflict_id": conflict_id,
            "event_id": event_id,
            "dedupe_key": dedupe_key,
            "kind": kind,
            "title": title[:300],
            "created_at": now,
        },
    )


def on_timeline(event: TimelineRecorded, now: datetime) -> None:
    """Tell each follower of the conflict of a new timeline entry, in the app and/or by
    e-mail (their choice), in the caller's transaction.

    Partners are recipients of public entries only (see recipients()), so what reaches
    them, in the app or by mail, is what their own page shows.
    """
    entry = timeline.entry(event.event_id)
    conflict = entry.conflict
    titles = {staff: _title(conflict, entry, staff=staff) for staff in (True, False)}
    people = recipients(conflict, entry)
    wanted = preferences.channels_for(people, preferences.UPDATES)
    digest = preferences.digest_readers(people)
    for user in people:
        if preferences.IN_APP in wanted[user.id]:
            add_in_app(
                user_id=user.id,
                conflict_id=conflict.id,
                event_id=entry.id,
                kind=entry.kind,
                title=titles[user.is_staff],
                now=now,
            )
        if preferences.EMAIL in wanted[user.id]:
            # Written in the recipient's language (not the actor's) when the message is.
            mail_notices.add(
                user,
                conflict,
                kind=notice_content.notice_kind(entry),
                category=preferences.UPDATES,
                facts=notice_content.entry_facts(entry),
                dedupe_key=f"event:{entry.id}:email:{user.id}",
                digest=user.id in digest,
                now=now,
            )


BELL_SHOWS_AT_MOST = 99  # beyond, the bell says "99+"


# Built once (every page's bell runs it): built per call it cost more than it takes to run.
_UNREAD = select(func.count()).select_from(
    select(Notification.id)
    .where(Notification.user_id == bindparam("user_id"), Notification.read_at.is_(None))
    .limit(bindparam("at_most", type_=Integer))
    .subquery()
)


def unread_count(user: User, at_most: int = BELL_SHOWS_AT_MOST + 1) -> int:
    """The user's unread notices, counted up to `at_most`: the bell on every page shows
    "99+" beyond, so its count reads at most 100 index entries however large the backlog
    (a manager back from holiday may have thousands)."""
    return db.session.scalar(_UNREAD, {"user_id": user.id, "at_most": at_most}) or 0


def for_user(user: User):  # type: ignore[no-untyped-def]
    """Newest first; paged by the caller."""
    return (
        select(Notification).where(Notification.user_id == user.id).order_by(Notification.id.desc())
    )


def mark_read(user: User, now: datetime, notification_id: int | None = None) -> int:
    """Mark one (or all) of the user's notifications read; never someone else's."""
    statement = update(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)
    )
    if notification_id is not None:
        statement = statement.where(Notification.id == notification_id)
    result = db.session.execute(statement.values(read_at=now))
    db.session.commit()
    return result.rowcount or 0
