"""E-mail notices, coalesced: one message per person, conflict and window, or a daily digest.

Each notice is a row (`MailNotice`), written in the transaction of what caused it, holding
what to say (`facts`: the timeline entry, or the escalation and the levels passed). Its
words are rendered for its reader when its message is composed, and kept on the row: a
sweep writes hundreds of notices a batch, and rendering them there, in every reader's
language and timezone, was a quarter of its time. A reader who wants mail at once also gets
one outbox message per (reader, conflict, window), keyed on the window, written `ON
CONFLICT DO NOTHING` and due when the window ends: any number of processes may add notices
to the same window at once, and the unique key leaves one message. Windows are fixed slots
of MAIL_COALESCE_SECONDS counted from the epoch, so every writer derives the same key
without reading anything; notices on either side of a slot's edge make two messages, never
more than one per slot.

The message's text is composed when a deliverer first claims it, in the claim's
transaction, from the notices of its reader and conflict not yet carried (`outbox_key`
NULL) and older than the window's end. Composing at claim rather than at each write keeps
the write path to two blind inserts (the sweep's statement budget; no row is locked and
read back per recipient), and the conditional claim already guarantees that one deliverer
composes; a notice that committed after its window's message went out is carried by the
next message about the conflict. With a window of 0 each notice is its own message,
composed at once. Readers who chose the daily digest get nothing per window: `send_digests`
gathers their notices once a day, in their timezone.

A person never reads the same words twice: a notice's dedupe key is unique per event and
reader, and identical notices (same subject and text) inside one message are shown once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, render_template
from flask_babel import format_date
from sqlalchemy import select, update

from tracker.database import defer_insert
from tracker.domain import workflow
from tracker.extensions import db
from tracker.i18n import ngettext, speaking
from tracker.models import Conflict, MailNotice, User
from tracker.services import mail_threads, notice_content, outbox, unsubscribe

COMPOSE_CONFLICT = "conflict_notices"
COMPOSE_DIGEST = "digest"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def window_seconds() -> int:
    return max(0, int(current_app.config.get("MAIL_COALESCE_SECONDS", 120)))


# A window's message goes out this long after the window ends, so that a transaction whose
# `now` lay in the window but which committed a little later (it waited for SQLite's write
# lock, up to its 15 s busy timeout) still rides in it instead of waiting for a next notice.
LATE_COMMIT_GRACE = timedelta(seconds=45)


def window_of(now: datetime, seconds: int) -> tuple[int, datetime]:
    """The fixed slot `now` falls in, and when it ends."""
    slot = int((now - _EPOCH).total_seconds() // seconds)
    return slot, _EPOCH + timedelta(seconds=(slot + 1) * seconds)


def add(
    user: User,
    conflict: Conflict,
    *,
    kind: str,
    category: str,
    facts: dict[str, Any],
    dedupe_key: str,
    digest: bool,
    now: datetime,
) -> None:
    """Tell `user` by e-mail of what `facts` say (`notice_content.entry_facts` or
    `escalation_facts`), in the caller's transaction (no commit). The words are written
    when the message is composed, in the reader's language then.

    `digest`: the reader chose the daily digest (ask `preferences.digest_readers` once for
    the whole fan-out). A repeat (same key) is a no-op in the database. Nothing is written
    while e-mails are suppressed (the demo seed).
    """
    if outbox.emails_suppressed():
        return
    seconds = window_seconds()
    values: dict[str, Any] = {
        "dedupe_key": dedupe_key,
        "recipient_id": user.id,
        "conflict_id": conflict.id,
        "kind": kind,
        "category": category,
        "facts": facts,
        "subject": None,
        "body_text": None,
        "body_html": None,
        "digest": digest,
        "created_at": now,
        "outbox_key": None,
    }
    if digest:
        defer_insert(db.session, MailNotice, values)
        return
    if seconds == 0:
        # No window: the notice is its message, composed now.
        key = f"notice:{dedupe_key}"
        notice = _as_row(values)
        composed = compose_message(user, conflict, [notice])
        words = {
            "subject": notice.subject,
            "body_text": notice.body_text,
            "body_html": notice.body_html,
        }
        defer_insert(db.session, MailNotice, {**values, **words, "outbox_key": key})
        outbox.enqueue_email(
            dedupe_key=key,
            address=user.email,
            subject=composed.subject,
            text=composed.text,
            html=composed.html,
            headers=composed.headers,
            recipient_id=user.id,
            conflict_id=conflict.id,
            now=now,
        )
        return
    defer_insert(db.session, MailNotice, values)
    slot, ends = window_of(now, seconds)
    outbox.enqueue_composed_email(
        dedupe_key=f"notices:{user.id}:{conflict.id}:{seconds}:{slot}",
        address=user.email,
        subject=workflow.one_line(f"{conflict.ref} {conflict.title}")[:300],
        compose={
            "compose": COMPOSE_CONFLICT,
            "recipient_id": user.id,
            "conflict_id": conflict.id,
            "until": ends.isoformat(),
        },
        due_at=ends + LATE_COMMIT_GRACE,
        recipient_id=user.id,
        conflict_id=conflict.id,
        now=now,
    )


def _as_row(values: dict[str, Any]) -> MailNotice:
    return MailNotice(**{k: v for k, v in values.items() if k != "outbox_key"})


def tell(notices: Iterable[MailNotice], reader: User) -> None:
    """Write the words of the notices that have none yet, for their reader, in the language
    being spoken; they stay on the rows (what the reader was told)."""
    for notice in notices:
        if notice.body_text is None and notice.facts is not None:
            words = notice_content.from_facts(notice.facts, reader, notice.created_at)
            notice.subject = words.subject
            notice.body_text = words.text
            notice.body_html = words.html


def distinct(notices: Iterable[MailNotice]) -> list[MailNotice]:
    """Each distinct notice once, oldest first: the same words are never read twice."""
    seen: set[tuple[str, str]] = set()
    kept = []
    for notice in notices:
        said = (notice.subject, notice.body_text)
        if said not in seen:
            seen.add(said)
            kept.append(notice)
    return kept


def thread_headers(user: User, conflict: Conflict, categories: Iterable[str]) -> dict[str, str]:
    """Threading, replies and unsubscribing: the headers of every notice about a conflict.

    Each message has its own Message-ID (the outbox's); the conflict's root id is only the
    anchor that In-Reply-To and References name, so every client threads them together.
    """
    root = mail_threads.thread_root_id(conflict.id)
    return {
        "Reply-To": mail_threads.reply_address(conflict.id, user.id),
        "In-Reply-To": root,
        "References": root,
        **list_headers(user, categories),
    }


def list_headers(user: User, categories: Iterable[str]) -> dict[str, str]:
    """Auto-Submitted (no auto-replies to us), List-Id and RFC 8058 one-click unsubscribe."""
    link = unsubscribe.url(user, sorted(set(categories)))
    return {
        "Auto-Submitted": "auto-generated",
        "X-Auto-Response-Suppress": "All",
        "List-Id": f"Trustomer notices <notices.{mail_threads.mail_domain()}>",
        "List-Unsubscribe": f"<{link}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def compose_message(
    user: User, conflict: Conflict, notices: Sequence[MailNotice]
) -> outbox.Composed:
    """One message about one conflict for one reader, from their notices (at least one),
    in the reader's language."""
    with speaking(user.mail_locale):
        return _compose_message(user, conflict, notices)


def _compose_message(
    user: User, conflict: Conflict, notices: Sequence[MailNotice]
) -> outbox.Composed:
    tell(notices, user)
    kept = distinct(notices)
    headlines = list(dict.fromkeys(n.subject.split(f": {conflict.ref} ", 1)[0] for n in kept))
    if len(kept) == 1:
        subject = kept[0].subject
    else:
        subject = f"{' · '.join(headlines)}: {conflict.ref} {conflict.title}"
    categories = {n.category for n in kept}
    context = {
        "user": user,
        "conflict": conflict,
        "notices": kept,
        "reply_address": mail_threads.reply_address(conflict.id, user.id),
        "note_address": (
            mail_threads.reply_address(conflict.id, user.id, internal=True)
            if user.is_staff
            else None
        ),
        "unsubscribe_url": unsubscribe.url(user, sorted(categories)),
        "preferences_url": unsubscribe.preferences_url(),
    }
    return outbox.Composed(
        subject=workflow.one_line(f"[Trustomer] {subject}")[:300],
        text=render_template("email/notices.txt", **context),
        html=render_template("email/notices.html", **context),
        headers=thread_headers(user, conflict, categories),
    )


def _take(key: str, *conditions: Any) -> list[MailNotice]:
    """Mark the waiting notices matching `conditions` as carried by message `key`; return
    them. A conditional UPDATE: a notice is taken by one message, whoever runs at once."""
    db.session.execute(
        update(MailNotice)
        .where(MailNotice.outbox_key.is_(None), *conditions)
        .values(outbox_key=key)
        .execution_options(synchronize_session=False)
    )
    return list(
        db.session.scalars(
            select(MailNotice)
            .where(MailNotice.outbox_key == key)
            .order_by(MailNotice.created_at, MailNotice.id)
        )
    )


def compose_conflict_notices(
    key: str, spec: dict[str, Any], now: datetime
) -> outbox.Composed | None:
    """The outbox composer of a window's message (runs when a deliverer claims it)."""
    user = db.session.get(User, spec["recipient_id"])
    conflict = db.session.get(Conflict, spec["conflict_id"])
    if user is None or conflict is None or not user.is_active:
        return None  # deactivated since: they hear nothing more
    notices = _take(
        key,
        MailNotice.recipient_id == user.id,
        MailNotice.conflict_id == conflict.id,
        MailNotice.digest.is_(False),
        MailNotice.created_at < datetime.fromisoformat(spec["until"]),
    )
    return compose_message(user, conflict, notices) if notices else None


# --- the daily digest ------------------------------------------------------------------


def digest_day(user: User, now: datetime) -> date | None:
    """The reader's local date if their digest hour has come today, else None."""
    local = now.astimezone(ZoneInfo(user.display_timezone))
    hour = int(current_app.config.get("MAIL_DIGEST_HOUR", 8))
    return local.date() if local.hour >= hour else None


def send_digests(now: datetime) -> int:
    """Queue today's digest for every reader whose digest hour has come and who has notices
    waiting: one message per reader per local day (the key says which day), composed when
    delivered. Safe to run in several processes: the key makes the second a no-op."""
    waiting = db.session.scalars(
        select(MailNotice.recipient_id)
        .where(
            MailNotice.digest.is_(True),
            MailNotice.outbox_key.is_(None),
            MailNotice.created_at <= now,
        )
        .distinct()
    ).all()
    readers = db.session.scalars(select(User).where(User.id.in_(waiting))).all() if waiting else []
    queued = 0
    for user in readers:
        day = digest_day(user, now)
        if day is None or not user.is_active:
            continue
        outbox.enqueue_composed_email(
            dedupe_key=f"digest:{user.id}:{day.isoformat()}",
            address=user.email,
            subject=f"[Trustomer] Your daily digest for {day:%a %d %b %Y}",
            compose={
                "compose": COMPOSE_DIGEST,
                "recipient_id": user.id,
                "day": day.isoformat(),
                "until": now.isoformat(),
            },
            due_at=now,
            recipient_id=user.id,
            now=now,
        )
        queued += 1
    db.session.commit()
    return queued


def compose_digest(key: str, spec: dict[str, Any], now: datetime) -> outbox.Composed | None:
    """The outbox composer of a daily digest: every waiting digest notice of the reader."""
    user = db.session.get(User, spec["recipient_id"])
    if user is None or not user.is_active:
        return None
    notices = _take(
        key,
        MailNotice.recipient_id == user.id,
        MailNotice.digest.is_(True),
        MailNotice.created_at <= datetime.fromisoformat(spec["until"]),
    )
    if not notices:
        return None
    with speaking(user.mail_locale):
        tell(notices, user)
        by_conflict: dict[int | None, list[MailNotice]] = {}
        for notice in distinct(notices):
            by_conflict.setdefault(notice.conflict_id, []).append(notice)
        ids = [i for i in by_conflict if i is not None]
        found = db.session.scalars(select(Conflict).where(Conflict.id.in_(ids)))
        conflicts = {c.id: c for c in found}
        groups = [(conflicts.get(cid), items) for cid, items in by_conflict.items()]
        day = date.fromisoformat(spec["day"])
        count = sum(len(items) for _unused, items in groups)
        return _digest_message(user, day, groups, count, notices)


def _digest_message(
    user: User,
    day: date,
    groups: list[tuple[Conflict | None, list[MailNotice]]],
    count: int,
    notices: list[MailNotice],
) -> outbox.Composed:
    """The digest's words in the reader's language."""
    context = {
        "user": user,
        "day": day,
        "groups": groups,
        "count": count,
        "unsubscribe_url": unsubscribe.url(user, sorted({n.category for n in notices})),
        "preferences_url": unsubscribe.preferences_url(),
    }
    return outbox.Composed(
        subject=workflow.one_line(
            "[Trustomer] "
            + ngettext(
                "Daily digest %(day)s: %(num)d update",
                "Daily digest %(day)s: %(num)d updates",
                count,
                day=format_date(day, "EEE d MMM"),
            )
            + " "
            + ngettext("on %(num)d conflict", "on %(num)d conflicts", len(groups))
        ),
        text=render_template("email/digest.txt", **context),
        html=render_template("email/digest.html", **context),
        headers=list_headers(user, {n.category for n in notices}),
    )


def register() -> None:
    """Install the composers in the outbox (create_app calls this once)."""
    outbox.register_composer(COMPOSE_CONFLICT, compose_conflict_notices)
    outbox.register_composer(COMPOSE_DIGEST, compose_digest)
