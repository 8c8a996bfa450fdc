"""The transactional outbox: messages written with what caused them, delivered later, retried."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from email.utils import parseaddr
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import Select, and_, func, or_, select, update
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal

from tracker.channels import DeliveryError
from tracker.channels.email import OutgoingEmail, SmtpSettings, send_email
from tracker.channels.webhook import ANY_ADDRESS, Targets, post_json
from tracker.database import defer_insert
from tracker.domain.events import AdminChanged
from tracker.domain.text import N_
from tracker.extensions import db
from tracker.models import OutboxMessage, User
from tracker.models.types import UTCDateTime
from tracker.services import messagebus
from tracker.services.errors import InvalidInput, NotFound

log = logging.getLogger(__name__)

EMAIL = "email"
WEBHOOK = "webhook"
PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
STATUSES = (PENDING, SENDING, SENT, FAILED)
ESCALATION_SECRET_REF = "escalation"  # noqa: S105 - a name, not the secret

DEFAULT_MAX_ATTEMPTS = 8
DEFAULT_BACKOFF_SECONDS = 30
DEFAULT_LEASE_SECONDS = 300
BACKOFF_CAP_SECONDS = 3600
_ERROR_LIMIT = 1000
_BATCH = 20
_MESSAGE_ID_DOMAIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")

SecretResolver = Callable[[str], str | None]
_secret_resolvers: dict[str, SecretResolver] = {}
_suppressed: ContextVar[bool] = ContextVar("tracker_emails_suppressed", default=False)
_targets: dict[str, Targets] = {}


# --- writing -------------------------------------------------------------------------------


def enqueue_email(
    *,
    dedupe_key: str,
    address: str,
    subject: str,
    text: str,
    html: str | None,
    now: datetime,
    recipient_id: int | None = None,
    conflict_id: int | None = None,
    headers: dict[str, str] | None = None,
) -> None:
    """Add a pending email to the caller's transaction (no commit); a key already written
    is a no-op (`ON CONFLICT DO NOTHING`), so a repeat never sends twice.

    `headers`: Reply-To and the extra headers `channels.email` allows (threading, List-*).
    Inside `emails_suppressed()` nothing is written (seeding demo history)."""
    if _suppressed.get():
        return
    _enqueue(
        {
            "dedupe_key": dedupe_key,
            "channel": EMAIL,
            "address": address,
            "subject": subject,
            "body_text": text,
            "body_html": html,
            "headers": dict(headers) if headers else None,
            "recipient_id": recipient_id,
            "conflict_id": conflict_id,
        },
        now,
    )


def enqueue_composed_email(
    *,
    dedupe_key: str,
    address: str,
    subject: str,
    compose: dict[str, Any],
    due_at: datetime,
    now: datetime,
    recipient_id: int | None = None,
    conflict_id: int | None = None,
) -> None:
    """An email whose body is written when it is first claimed, by the composer registered
    for `compose["compose"]` (see `register_composer`), due at `due_at`.

    Several writers may enqueue the same key at once (one message per window): the first
    row stands, the others are no-ops; the composer then gathers what they all wrote.
    `subject` is what the Outbox page shows until the message is composed.
    """
    if _suppressed.get():
        return
    values = {
        "dedupe_key": dedupe_key,
        "channel": EMAIL,
        "address": address,
        "subject": subject,
        "payload": compose,
        "recipient_id": recipient_id,
        "conflict_id": conflict_id,
    }
    _enqueue(values, now, due_at=due_at)


def emails_suppressed() -> bool:
    """True inside `suppress_emails()`: callers skip preparing mail nobody will get."""
    return _suppressed.get()


@contextmanager
def suppress_emails() -> Iterator[None]:
    """Write no email while inside (the demo seed tells a year of history through the
    services: nobody should be mailed about the past)."""
    token = _suppressed.set(True)
    try:
        yield
    finally:
        _suppressed.reset(token)


@dataclass(frozen=True)
class Composed:
    """What a composer made of a message: its subject, bodies and extra headers."""

    subject: str
    text: str
    html: str | None
    headers: dict[str, str] | None = None


Composer = Callable[[str, dict[str, Any], datetime], "Composed | None"]
_composers: dict[str, Composer] = {}


def register_composer(name: str, composer: Composer) -> None:
    """`composer(dedupe_key, compose, now)` writes the message claimed under `dedupe_key`, in
    the claim's transaction; None when nothing is left to say (the message is then dropped)."""
    _composers[name] = composer


def enqueue_webhook(
    *,
    dedupe_key: str,
    url: str,
    payload: dict[str, Any],
    now: datetime,
    secret_ref: str | None = ESCALATION_SECRET_REF,
    conflict_id: int | None = None,
) -> None:
    """Add a pending webhook call to the caller's transaction (no commit); a key already
    written is a no-op.

    `secret_ref` names the signing secret, resolved at delivery time so it is never stored:
    "escalation" is TRACKER_WEBHOOK_SECRET, None sends unsigned, other values go to the
    resolver registered for their prefix (see `register_secret_resolver`).
    """
    _enqueue(
        {
            "dedupe_key": dedupe_key,
            "channel": WEBHOOK,
            "address": url,
            "payload": payload,
            "secret_ref": secret_ref,
            "conflict_id": conflict_id,
        },
        now,
    )


def _enqueue(values: dict[str, Any], now: datetime, *, due_at: datetime | None = None) -> None:
    # Written with the rest of the fan-out as one INSERT … ON CONFLICT DO NOTHING: the
    # unique dedupe_key, not a look-up first, keeps a message to one row.
    values.update(status=PENDING, attempts=0, created_at=now, next_attempt_at=due_at or now)
    defer_insert(db.session, OutboxMessage, values)


def register_secret_resolver(
    prefix: str, resolver: SecretResolver, *, targets: Targets = ANY_ADDRESS
) -> None:
    """Resolve webhook secret_refs starting with `prefix` (e.g. "partner_webhook:") at send time.

    `resolver(secret_ref)` returns the secret, or None when it no longer exists (the message
    then fails for good). It runs inside the delivery job's app context. `targets` says which
    addresses those webhooks may reach (checked on the one lookup the connection then uses).
    """
    if not prefix or prefix == ESCALATION_SECRET_REF:
        raise ValueError(f"cannot register a secret resolver for {prefix!r}")
    _secret_resolvers[prefix] = resolver
    _targets[prefix] = targets


# --- delivering ------------------------------------------------------------------------------


@dataclass
class DeliveryReport:
    """What one `deliver_due` pass did; `lines` has one short line per message handled."""

    sent: int = 0
    retried: int = 0
    gave_up: int = 0
    skipped: int = 0
    dropped: int = 0
    waiting_for_smtp: int | None = None  # e-mails held back: no SMTP host is configured
    lines: list[str] = field(default_factory=list)

    @property
    def summary_line(self) -> str:
        line = f"delivered {self.sent}, retried {self.retried}, gave up {self.gave_up}"
        return line + (f", skipped {self.skipped}" if self.skipped else "")


@dataclass(frozen=True)
class _Claimed:
    """A claimed row's content, copied out so no transaction stays open while sending."""

    id: int
    channel: str
    address: str
    subject: str | None
    body_text: str | None
    body_html: str | None
    payload: dict[str, Any] | None
    secret_ref: str | None
    attempts: int
    lease: datetime
    headers: dict[str, str] | None = None


def backoff(
    attempts: int,
    base_seconds: int = DEFAULT_BACKOFF_SECONDS,
    cap_seconds: int = BACKOFF_CAP_SECONDS,
) -> timedelta:
    """The wait after the `attempts`-th failure: base, 2*base, 4*base, ... capped."""
    exponent = min(max(0, attempts - 1), 32)  # 2**32 waits already exceed any sane cap
    return timedelta(seconds=min(base_seconds * 2**exponent, cap_seconds))


class database_time(ColumnElement[datetime]):  # noqa: N801 - reads like the SQL function it is
    """The database server's clock, plus `seconds`: the one clock every deliverer shares.

    Leases are judged by it, never by a caller's `now`: two hosts whose clocks (or whose
    `--now`) disagree by more than a lease would otherwise each take the other's claim.
    """

    type = UTCDateTime()
    inherit_cache = True
    _traverse_internals = [("seconds", InternalTraversal.dp_plain_obj)]

    def __init__(self, seconds: int = 0) -> None:
        self.seconds = int(seconds)  # an int: safe to render into the SQL text


@compiles(database_time)
def _database_time(element: database_time, compiler: SQLCompiler, **kw: Any) -> str:
    # clock_timestamp(), not now(): now() is frozen at the start of the transaction.
    return f"(clock_timestamp() + make_interval(secs => {element.seconds}))"


@compiles(database_time, "sqlite")
def _database_time_sqlite(element: database_time, compiler: SQLCompiler, **kw: Any) -> str:
    # UTCDateTime stores "YYYY-MM-DD HH:MM:SS.ffffff" (UTC, six fraction digits) on SQLite and
    # compares as text, so produce exactly that; strftime's %f gives "SS.sss", hence "000".
    return f"(strftime('%Y-%m-%d %H:%M:%f', 'now', '{element.seconds:+d} seconds') || '000')"


def _due(now: datetime):  # type: ignore[no-untyped-def]
    # Scheduling (next_attempt_at) follows the caller's `now`; leases follow the database.
    return or_(
        and_(OutboxMessage.status == PENDING, OutboxMessage.next_attempt_at <= now),
        and_(OutboxMessage.status == SENDING, OutboxMessage.claimed_until < database_time()),
    )


def deliver_due(now: datetime, *, limit: int = 100, worker: str | None = None) -> DeliveryReport:
    """Send up to `limit` due messages; safe to run in several processes at once.

    Each row is claimed by a conditional UPDATE committed before sending, so only one
    process sends it; the claim is a lease (DELIVERY_LEASE_SECONDS, counted on the database's
    clock) that another process may take over once it has run out, should this one die
    mid-send. `now` decides what is due and when to retry, not whose lease has run out.
    Commits as it goes: call it with nothing of the caller's pending in the session.
    """
    config = current_app.config
    max_attempts = max(1, int(config.get("DELIVERY_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS)))
    base = int(config.get("DELIVERY_BACKOFF_SECONDS", DEFAULT_BACKOFF_SECONDS))
    lease_seconds = max(1, int(config.get("DELIVERY_LEASE_SECONDS", DEFAULT_LEASE_SECONDS)))
    # A pass that ran on (slow relays time out one by one) would hold rows others could send:
    # stop claiming after half a lease and let the next pass go on.
    stop_claiming_at = time.monotonic() + lease_seconds / 2
    worker = worker or f"{socket.gethostname()}:{os.getpid()}"
    report = DeliveryReport()
    handled, after_id = 0, 0
    while handled < limit:
        if time.monotonic() >= stop_claiming_at:
            report.lines.append(f"stopped after {lease_seconds // 2}s; the rest waits a pass")
            break
        query = select(OutboxMessage.id).where(_due(now), OutboxMessage.id > after_id)
        if not config.get("SMTP_HOST"):
            # Without a mail server, mail waits (no attempt is spent) until one is configured.
            query = query.where(OutboxMessage.channel != EMAIL)
        candidates = db.session.scalars(
            query.order_by(OutboxMessage.id).limit(min(_BATCH, limit - handled))
        ).all()
        db.session.commit()
        if not candidates:
            break
        for message_id in candidates:
            if time.monotonic() >= stop_claiming_at:
                break
            after_id = message_id
            handled += 1
            claimed = _claim(message_id, now, lease_seconds)
            if claimed is None:
                report.skipped += 1
                report.lines.append(f"skipped #{message_id}: taken by another deliverer")
                continue
            if claimed is _COMPOSE_FAILED:
                report.gave_up += 1
                report.lines.append(f"gave up #{message_id}: it could not be composed")
                continue
            if claimed is _NOTHING_TO_SAY:
                report.dropped += 1
                report.lines.append(f"dropped #{message_id}: its notices went out already")
                continue
            _deliver(claimed, now, max_attempts, base, report)
    if not config.get("SMTP_HOST"):
        report.waiting_for_smtp = waiting_for_smtp()
        report.lines.append(
            f"{report.waiting_for_smtp} e-mail(s) wait for an SMTP host: "
            "set TRACKER_SMTP_HOST to send them"
        )
    if handled:
        log.info("outbox delivery by %s: %s", worker, report.summary_line)
    return report


def waiting_for_smtp() -> int:
    """E-mails not yet sent (pending or mid-send), whenever due: what a relay would send."""
    return (
        db.session.scalar(
            select(func.count(OutboxMessage.id)).where(
                OutboxMessage.channel == EMAIL, OutboxMessage.status.in_((PENDING, SENDING))
            )
        )
        or 0
    )


_NOTHING_TO_SAY = object()
_COMPOSE_FAILED = object()


def _give_up(message_id: int, error: str) -> None:
    """Mark a message failed outright (an admin may retry it from *Outbox*)."""
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status.in_((PENDING, SENDING)))
        .values(status=FAILED, last_error=error[:_ERROR_LIMIT], claimed_until=None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def _claim(message_id: int, now: datetime, lease_seconds: int):  # type: ignore[no-untyped-def]
    """The claimed message (composed now if it is written at claim time), None when another
    deliverer has it, `_NOTHING_TO_SAY` when its composer found nothing left to send,
    `_COMPOSE_FAILED` when composing raised (the message is then marked failed)."""
    result = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, _due(now))
        .values(status=SENDING, claimed_until=database_time(lease_seconds))
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.rollback()
        return None
    row = db.session.execute(
        select(
            OutboxMessage.channel,
            OutboxMessage.address,
            OutboxMessage.subject,
            OutboxMessage.body_text,
            OutboxMessage.body_html,
            OutboxMessage.payload,
            OutboxMessage.secret_ref,
            OutboxMessage.attempts,
            OutboxMessage.claimed_until,  # as the database wrote it: the fence compares it
            OutboxMessage.headers,
            OutboxMessage.dedupe_key,
        ).where(OutboxMessage.id == message_id)
    ).one()
    *fields, dedupe_key = row
    claimed = _Claimed(message_id, *fields)
    compose = claimed.payload or {}
    if claimed.channel == EMAIL and claimed.body_text is None and compose.get("compose"):
        # Composed in the claim's transaction: the notices it takes and the text it writes
        # commit together, and a deliverer taking over a dead one's lease sends the same text.
        try:
            composed = _composers[compose["compose"]](dedupe_key, compose, now)
        except Exception as exc:  # one message that cannot be written must not stall the rest
            log.exception("outbox message %s could not be composed", message_id)
            db.session.rollback()
            _give_up(message_id, f"could not be composed: {type(exc).__name__}: {exc}")
            return _COMPOSE_FAILED
        if composed is None:
            db.session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == message_id)
                .values(status=SENT, sent_at=now, claimed_until=None, subject="(nothing to send)")
                .execution_options(synchronize_session=False)
            )
            db.session.commit()
            return _NOTHING_TO_SAY
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id)
            .values(
                subject=composed.subject[:300],
                body_text=composed.text,
                body_html=composed.html,
                headers=composed.headers,
            )
            .execution_options(synchronize_session=False)
        )
        claimed = replace(
            claimed,
            subject=composed.subject[:300],
            body_text=composed.text,
            body_html=composed.html,
            headers=composed.headers,
        )
    db.session.commit()
    return claimed


def _deliver(
    message: _Claimed, now: datetime, max_attempts: int, base: int, report: DeliveryReport
) -> None:
    where = f"#{message.id} {message.channel} to {shown_address(message.channel, message.address)}"
    try:
        _send(message)
    except DeliveryError as exc:
        error, retryable = str(exc), exc.retryable
    except Exception as exc:  # a malformed row must not stall the rest of the batch
        log.exception("outbox message %s could not be sent", message.id)
        error, retryable = f"{type(exc).__name__}: {exc}", False
    else:
        _mark_sent(message, now)
        report.sent += 1
        report.lines.append(f"sent {where}")
        return
    attempts = message.attempts + 1
    if retryable and attempts < max_attempts:
        wait = backoff(attempts, base)
        if _mark_failed_attempt(message, now, attempts, error, PENDING, now + wait):
            report.retried += 1
            report.lines.append(f"retry {where} in {_seconds(wait)} (attempt {attempts}): {error}")
    elif _mark_failed_attempt(message, now, attempts, error, FAILED, None):
        report.gave_up += 1
        report.lines.append(f"gave up {where} after {attempts} attempt(s): {error}")


def _send(message: _Claimed) -> None:
    config = current_app.config
    if message.channel == EMAIL:
        if not config.get("SMTP_HOST"):
            raise DeliveryError(N_("SMTP is not configured"), retryable=True)
        settings = SmtpSettings(
            host=config["SMTP_HOST"],
            port=int(config.get("SMTP_PORT", 25)),
            user=config.get("SMTP_USER", ""),
            password=config.get("SMTP_PASSWORD", ""),
            starttls=bool(config.get("SMTP_STARTTLS", False)),
        )
        headers = dict(message.headers or {})
        email = OutgoingEmail(
            to=message.address,
            subject=message.subject or "",
            text=message.body_text or "",
            html=message.body_html,
            reply_to=headers.pop("Reply-To", None),
            message_id=email_message_id(message.id),
            headers=headers,
        )
        send_email(settings, config["MAIL_FROM"], email)
    elif message.channel == WEBHOOK:
        secret = _resolve_secret(message.secret_ref)
        db.session.rollback()  # end the secret's read: no transaction stays open over the wire
        post_json(
            message.address,
            message.payload or {},
            secret=secret,
            delivery_id=email_message_id(message.id).strip("<>").split("@")[0],
            targets=_targets_for(message.secret_ref),
        )
    else:
        raise DeliveryError(f"unknown channel {message.channel!r}", retryable=False)


def email_message_id(message_id: int) -> str:
    """`<outbox-{id}.{installation}@{domain}>`: unique across installations sharing a mailbox.

    Outbox ids restart at 1 in every database, so the installation (a short hash of its
    SECRET_KEY) and the sender's domain (from MAIL_FROM) keep two installations' ids apart.
    """
    config = current_app.config
    installation = hashlib.sha256(str(config["SECRET_KEY"]).encode()).hexdigest()[:8]
    _, at, domain = parseaddr(config.get("MAIL_FROM") or "")[1].rpartition("@")
    if not at or not _MESSAGE_ID_DOMAIN.fullmatch(domain):
        domain = "trustomer.invalid"
    return f"<outbox-{message_id}.{installation}@{domain}>"


def _targets_for(secret_ref: str | None) -> Targets:
    for prefix, targets in _targets.items():
        if secret_ref and secret_ref.startswith(prefix):
            return targets
    return ANY_ADDRESS  # the admin-configured escalation webhook


def _resolve_secret(secret_ref: str | None) -> str:
    if secret_ref is None:
        return ""
    if secret_ref == ESCALATION_SECRET_REF:
        return current_app.config.get("WEBHOOK_SECRET", "")
    for prefix, resolver in _secret_resolvers.items():
        if secret_ref.startswith(prefix):
            secret = resolver(secret_ref)
            if secret:
                return secret
            break
    raise DeliveryError(f"no webhook secret known for {secret_ref!r}", retryable=False)


def _mark_sent(message: _Claimed, now: datetime) -> None:
    # Not fenced by the lease: the message did go out, whoever holds the row now.
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message.id, OutboxMessage.status != SENT)
        .values(status=SENT, sent_at=now, claimed_until=None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def _mark_failed_attempt(
    message: _Claimed,
    now: datetime,
    attempts: int,
    error: str,
    status: str,
    next_attempt_at: datetime | None,
) -> bool:
    # Fenced by our lease: if another deliverer took the row over, its outcome stands.
    result = db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message.id,
            OutboxMessage.status == SENDING,
            OutboxMessage.claimed_until == message.lease,
        )
        .values(
            status=status,
            attempts=attempts,
            last_error=error[:_ERROR_LIMIT],
            next_attempt_at=next_attempt_at,
            claimed_until=None,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount == 1


def _seconds(wait: timedelta) -> str:
    return f"{int(wait.total_seconds())}s"


def shown_address(channel: str, address: str) -> str:
    """The address as pages and logs show it: a webhook's host only (URLs often hold tokens)."""
    if channel != WEBHOOK:
        return address
    parts = urlsplit(address)
    return f"{parts.scheme}://{parts.netloc}/…" if parts.netloc else "(invalid URL)"


# --- administration ----------------------------------------------------------------------------


def retry(message_id: int, now: datetime, *, actor: User | None = None) -> OutboxMessage:
    """Put a failed message back in the queue, due now, with a fresh count of attempts.

    Recorded in the admin audit log (an `AdminChanged`: this module sits below the log)."""
    message = db.session.get(OutboxMessage, message_id, populate_existing=True)
    if message is None:
        raise NotFound(N_("No such outbox message."))
    result = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status == FAILED)
        .values(status=PENDING, attempts=0, next_attempt_at=now, claimed_until=None)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.rollback()
        raise InvalidInput(f"Only failed messages can be retried; this one is {message.status}.")
    shown = shown_address(message.channel, message.address)
    audit = AdminChanged(
        actor_id=actor.id if actor is not None else None,
        kind="outbox.retried",
        subject=f"outbox:{message.id} {message.channel} to {shown}"[:120],
        before={"status": FAILED, "attempts": message.attempts},
        after={"status": PENDING, "attempts": 0},
    )
    messagebus.publish([audit], now)
    db.session.commit()
    return message


def summary() -> dict[str, int]:
    """How many messages are in each status (every status present, zero included)."""
    counts = dict.fromkeys(STATUSES, 0)
    rows = db.session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    )
    for status, count in rows:
        counts[status] = count
    return counts


def messages_query(status: str | None = None) -> Select:
    """Messages newest first, optionally of one status (unknown statuses mean all)."""
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc())
    if status in STATUSES:
        query = query.where(OutboxMessage.status == status)
    return query
