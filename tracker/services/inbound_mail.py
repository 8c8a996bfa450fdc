"""Mail coming in, by IMAP or the MTA's pipe: one service decides and acts for both.

A reply to a notice becomes a comment (a note, for the internal address) through the same
use case the portal calls; a message to the intake address opens a conflict through the
submission use case. Each message is claimed by its Message-ID in the same transaction as
what it makes, so a repeat is harmless, and every message seen is recorded, refused ones
too, with nothing else written for them but, at most, one polite answer.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesHeaderParser, BytesParser
from email.utils import getaddresses, parseaddr
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import Select, func, select, update
from sqlalchemy.exc import SQLAlchemyError

from tracker.channels import imap
from tracker.database import insert_returning_id_if_absent, one_transaction
from tracker.domain import mail_text, workflow
from tracker.domain.text import N_
from tracker.extensions import db
from tracker.models import Conflict, InboundMessage, OutboxMessage, User
from tracker.services import accounts, conflicts, links, mail_threads, outbox, sla
from tracker.services import attachments as files
from tracker.services.conflict_access import may_see
from tracker.services.errors import InvalidInput, ServiceError

log = logging.getLogger("tracker.mail")

COMMENTED, NOTED, OPENED, REFUSED, DROPPED, DUPLICATE = (
    "commented",
    "noted",
    "opened",
    "refused",
    "dropped",
    "duplicate",
)
OUTCOMES = (COMMENTED, NOTED, OPENED, REFUSED, DROPPED)
PIPE, IMAP = "pipe", "imap"
DEFAULT_MAX_BYTES = 25 * 1024 * 1024
DEFAULT_BOUNCE_MINUTES = 60
EX_OK, EX_DATAERR, EX_TEMPFAIL = 0, 65, 75

# Subject tags a partner may use on a new conflict: severity and category.
SEVERITY_TAGS = {key: key for key in workflow.SEVERITIES}
CATEGORY_TAGS = {
    **{key: key for key in workflow.CATEGORIES},
    "payment": "payment_terms",
    "handover": "customer_handover",
}
DEFAULT_SEVERITY = "medium"  # until triage sets the real one
DEFAULT_CATEGORY = "other"
_TAG = re.compile(r"\[\s*([a-z_ ]{2,30})\s*\]", re.IGNORECASE)
_REPLY_PREFIX = re.compile(r"^\s*(?:(?:re|aw|fw|fwd|wg|tr|sv)\s*:\s*)+", re.IGNORECASE)
_RECIPIENT_HEADERS = ("To", "Cc", "Delivered-To", "X-Original-To", "Envelope-To")
_AUTH_FAILURE = re.compile(r"\b(spf|dkim|dmarc)\s*=\s*fail\b", re.IGNORECASE)
_DAEMON = re.compile(r"^(?:mailer-daemon|postmaster|mail-daemon|noreply-dmarc-support)@", re.I)

# What a refused sender is told: enough to act on, never whether a conflict exists.
_UNKNOWN_SENDER = (
    "The address you wrote from does not belong to an active Trustomer account. "
    "Write from the address your notices are sent to, or ask your alliance manager."
)
_NO_MATCH = (
    "Your message did not match a conflict you can reply to. Reply to a notice from the "
    "address it was sent to, or use the portal."
)
_MALFORMED = (
    "Your message could not be read (its MIME structure is malformed); nothing was recorded."
)


class Unparseable(ValueError):
    """The input is not an RFC 5322 message at all (no header fields)."""


@dataclass
class InboundResult:
    """What became of one message; `line` is its one log line."""

    outcome: str
    message_id: str
    sender: str
    detail: str = ""
    conflict_id: int | None = None
    answered: bool = False
    exit_code: int = EX_OK

    @property
    def line(self) -> str:
        parts = [self.outcome, self.message_id, f"from {self.sender or '(none)'}"]
        if self.conflict_id is not None:
            parts.append(f"conflict #{self.conflict_id}")
        if self.detail:
            parts.append(self.detail)
        if self.answered:
            parts.append("answered")
        return " · ".join(parts)


@dataclass
class _Mail:
    """The parts of a message the decision needs, read once."""

    message: Message
    message_id: str
    sender: str
    subject: str
    size: int
    oversized: bool
    return_path: str | None
    references: list[str] = field(default_factory=list)


# --- reading the message ---------------------------------------------------------------------


def _max_bytes() -> int:
    return int(current_app.config.get("MAIL_MAX_BYTES", DEFAULT_MAX_BYTES))


def _header(message: Message, name: str) -> str:
    try:
        value = message.get(name)
    except Exception:  # noqa: BLE001 - a header too broken to decode counts as absent
        return ""
    return str(value or "").strip()


def _headers(message: Message, name: str) -> list[str]:
    try:
        return [str(value) for value in message.get_all(name) or []]
    except Exception:  # noqa: BLE001
        return []


def _read(raw: bytes, size: int | None) -> _Mail:
    size = len(raw) if size is None else size
    oversized = size > _max_bytes()
    parser = BytesHeaderParser if oversized else BytesParser
    message = parser(policy=policy.default).parsebytes(raw)
    if not message.keys():
        raise Unparseable(N_("not an RFC 5322 message: no header fields"))
    message_id = _header(message, "Message-ID")
    if not message_id or len(message_id) > 400 or not message_id.isprintable():
        message_id = "sha256:" + hashlib.sha256(raw).hexdigest()
    sender = parseaddr(_header(message, "From"))[1].strip().lower()
    return_path = _header(message, "Return-Path") if "Return-Path" in message else None
    return _Mail(
        message=message,
        message_id=message_id,
        sender=sender[:320],
        subject=mail_text_line(_header(message, "Subject"))[:300],
        size=size,
        oversized=oversized,
        return_path=return_path,
        references=[_header(message, "In-Reply-To"), _header(message, "References")],
    )


def mail_text_line(value: str) -> str:
    """A header value on one line (what the admin page and the titles show)."""
    return " ".join(value.split())


def _own_addresses() -> set[str]:
    config = current_app.config
    ours = {parseaddr(config.get("MAIL_FROM") or "")[1].lower(), mail_threads.intake_address()}
    return {address.lower() for address in ours if address}


def _is_ours(address: str) -> bool:
    local, _, domain = address.lower().partition("@")
    intake_local, _, intake_domain = mail_threads.intake_address().lower().partition("@")
    if domain == intake_domain and local.partition("+")[0] == intake_local:
        return True
    return address.lower() in _own_addresses()


def _automatic(mail: _Mail) -> str | None:
    """Why this message is an auto-reply, a bounce or our own mail coming back, if it is."""
    message = mail.message
    auto_submitted = _header(message, "Auto-Submitted").lower()
    if auto_submitted and auto_submitted != "no":
        return f"auto-submitted ({auto_submitted.split(';')[0]})"
    precedence = _header(message, "Precedence").lower()
    if precedence in ("bulk", "junk", "list"):
        return f"precedence {precedence}"
    for name in ("X-Autoreply", "X-Autorespond", "X-Auto-Reply"):
        if name in message:
            return f"{name} header"
    if mail.return_path is not None and mail.return_path.strip() in ("<>", ""):
        return "empty Return-Path (a bounce)"
    if message.get_content_type() == "multipart/report":
        return "delivery status report"
    if _DAEMON.match(mail.sender):
        return "from a mail daemon"
    if _is_ours(mail.sender):
        return "from our own address (a loop)"
    own_id = outbox.email_message_id(0).partition(".")[2]  # "<installation>@<domain>>"
    message_id = _header(message, "Message-ID")
    if message_id.endswith(own_id) or mail_threads.conflict_from_references([message_id]):
        return "our own Message-ID (a loop)"
    return None


def _failed_authentication(message: Message) -> str | None:
    if not current_app.config.get("MAIL_REQUIRE_AUTH_PASS"):
        return None
    for value in _headers(message, "Authentication-Results"):
        match = _AUTH_FAILURE.search(value)
        if match:
            return f"Authentication-Results reports {match.group(1).lower()}=fail"
    return None


def _recipients(message: Message) -> list[str]:
    values = [value for name in _RECIPIENT_HEADERS for value in _headers(message, name)]
    return [address for _, address in getaddresses(values) if address]


def _body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    text = _decoded(part)
    if part.get_content_type() == "text/html":
        text = mail_text.html_to_text(text)
    return mail_text.strip_reply(text)


def _decoded(part: Message) -> str:
    try:
        content = part.get_content()  # type: ignore[attr-defined]
    except (LookupError, UnicodeError):  # an unknown or lying charset
        payload = part.get_payload(decode=True) or b""
        return payload.decode("utf-8", "replace")
    return content if isinstance(content, str) else content.decode("utf-8", "replace")


def _uploads(message: EmailMessage, body: Message | None) -> list[files.Upload]:
    """Attached files; images embedded in the HTML (a Content-ID, not "attachment") are a
    signature's logo, not something the sender attached."""
    uploads = []
    for part in message.walk():
        if part.is_multipart() or part is body:
            continue
        filename = part.get_filename()
        disposition = part.get_content_disposition()
        if not filename or (disposition != "attachment" and "Content-ID" in part):
            continue
        uploads.append(files.Upload(filename=filename, data=part.get_payload(decode=True) or b""))
    return uploads


# --- deciding --------------------------------------------------------------------------------


@dataclass
class _Decision:
    outcome: str
    detail: str = ""
    user: User | None = None
    conflict_id: int | None = None
    internal: bool = False
    bounce: str | None = None  # the reason a refused sender is told


def _sender_user(mail: _Mail) -> User | None:
    if not mail.sender:
        return None
    user = accounts.find_user_by_email(mail.sender)
    return user if user is not None and user.is_active else None


def _target(mail: _Mail) -> tuple[mail_threads.ReplyTarget | None, bool, bool]:
    """(the signed reply address, whether a forged one was seen, whether the bare intake
    address was written to)."""
    intake = mail_threads.intake_address().lower()
    intake_local, _, intake_domain = intake.partition("@")
    forged, to_intake = False, False
    for address in _recipients(mail.message):
        lowered = address.lower()
        if lowered == intake:
            to_intake = True
            continue
        target = mail_threads.parse_reply_address(address)
        if target is not None:
            return target, False, to_intake
        local, _, domain = lowered.partition("@")
        if domain == intake_domain and local.partition("+")[0] == intake_local:
            forged = True
    return None, forged, to_intake


def _issued_to_sender(target: mail_threads.ReplyTarget, user: User) -> bool:
    """A reply address speaks for the one it was issued to. A colleague of the same partner
    may answer a forwarded notice publicly; nobody else, and never for the team or for an
    internal note (the From header alone proves nothing: see the README on SPF/DKIM)."""
    if target.user_id == user.id:
        return True
    issued = db.session.get(User, target.user_id)
    return (
        not target.internal
        and issued is not None
        and issued.is_partner
        and user.is_partner
        and issued.partner_id == user.partner_id
    )


def _decide(mail: _Mail) -> _Decision:
    automatic = _automatic(mail)
    if automatic:
        return _Decision(DROPPED, automatic)
    if mail.oversized:
        limit = _max_bytes() // (1024 * 1024)
        return _Decision(
            REFUSED,
            f"larger than {limit} MB",
            bounce=f"Messages larger than {limit} MB are not accepted (attachments may be at "
            f"most {files.MAX_ATTACHMENT_BYTES // (1024 * 1024)} MB each); nothing was recorded.",
        )
    failed = _failed_authentication(mail.message)
    if failed:  # a forged sender: an answer would go to someone who never wrote
        return _Decision(REFUSED, failed)
    user = _sender_user(mail)
    if user is None:
        return _Decision(REFUSED, "unknown or deactivated sender", bounce=_UNKNOWN_SENDER)
    target, forged, to_intake = _target(mail)
    if target is not None:
        if not _issued_to_sender(target, user):
            return _Decision(
                REFUSED, "reply address issued to someone else", user=user, bounce=_NO_MATCH
            )
        conflict_id, internal = target.conflict_id, target.internal
    elif forged:
        return _Decision(REFUSED, "forged reply address", user=user, bounce=_NO_MATCH)
    else:
        conflict_id, internal = mail_threads.conflict_from_references(mail.references), False
        if conflict_id is not None and not user.is_partner:
            # Every notice names its thread: staff write through the reply address issued
            # to them, so a forged From cannot speak for the team.
            return _Decision(
                REFUSED, "staff reply without their reply address", user=user, bounce=_NO_MATCH
            )
    if conflict_id is None:
        if not to_intake:
            return _Decision(REFUSED, "no conflict matched", user=user, bounce=_NO_MATCH)
        if not user.is_partner:
            return _Decision(
                REFUSED,
                "staff cannot open conflicts by mail",
                user=user,
                bounce="Conflicts are opened by mail by partner contacts only; raise it in "
                "the console on the partner's behalf.",
            )
        return _Decision(OPENED, user=user)
    conflict = db.session.get(Conflict, conflict_id)
    if conflict is None or not may_see(user, conflict):
        return _Decision(REFUSED, "sender may not see that conflict", user=user, bounce=_NO_MATCH)
    return _Decision(NOTED if internal else COMMENTED, user=user, conflict_id=conflict_id,
                     internal=internal)  # fmt: skip


# --- acting ----------------------------------------------------------------------------------


def receive(raw: bytes, *, now: datetime, source: str, size: int | None = None) -> InboundResult:
    """Handle one raw RFC 5322 message (or, when `size` says it is oversized, its header).

    Input that is no message at all is recorded and answered with EX_DATAERR. A database
    outage propagates, with nothing kept, so the caller can try again later.
    """
    try:
        mail = _read(raw, size)
    except Exception as exc:  # noqa: BLE001 - a message this broken is still recorded
        mail = _Mail(
            message=EmailMessage(),
            message_id="sha256:" + hashlib.sha256(raw).hexdigest(),
            sender="",
            subject="",
            size=len(raw) if size is None else size,
            oversized=False,
            return_path=None,
        )
        result = _record(mail, _Decision(REFUSED, f"unparseable: {exc}"), now, source)
        result.exit_code = EX_DATAERR
        return result
    try:
        decision = _decide(mail)
    except Exception as exc:  # noqa: BLE001 - malformed headers must not crash the poller
        if isinstance(exc, SQLAlchemyError):
            raise
        log.warning("inbound mail %s: malformed: %s", mail.message_id, exc)
        decision = _Decision(REFUSED, "malformed message", bounce=_MALFORMED)
    if decision.outcome in (COMMENTED, NOTED, OPENED):
        return _accept(mail, decision, now, source)
    return _record(mail, decision, now, source)


class _AlreadySeen(Exception):
    pass


def _claim(mail: _Mail, decision: _Decision, now: datetime, source: str) -> bool:
    values = {
        "message_id": mail.message_id,
        "received_at": now,
        "source": source,
        "sender": mail.sender,
        "subject": mail.subject or None,
        "outcome": decision.outcome,
        "detail": decision.detail[:500] or None,
        "size_bytes": mail.size,
        "user_id": decision.user.id if decision.user else None,
        "conflict_id": decision.conflict_id,
        "answered": False,
    }
    claimed = insert_returning_id_if_absent(db.session, InboundMessage, values, ["message_id"])
    return claimed is not None


def _update(mail: _Mail, **values: object) -> None:
    db.session.execute(
        update(InboundMessage)
        .where(InboundMessage.message_id == mail.message_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def _accept(mail: _Mail, decision: _Decision, now: datetime, source: str) -> InboundResult:
    user = decision.user
    assert user is not None
    try:
        message = mail.message
        assert isinstance(message, EmailMessage)
        body_part = message.get_body(preferencelist=("plain", "html"))
        body = _body(message)
        uploads = _uploads(message, body_part)
        if not body and uploads:
            body = "(Files sent by e-mail, without a message.)"
    except Exception as exc:  # noqa: BLE001 - broken MIME is answered, never a crash
        log.warning("inbound mail %s: malformed body: %s", mail.message_id, exc)
        return _record(mail, _Decision(REFUSED, "malformed message", user=user,
                                       bounce=_MALFORMED), now, source)  # fmt: skip
    try:
        with one_transaction(db.session):
            if not _claim(mail, decision, now, source):
                raise _AlreadySeen
            if decision.outcome == OPENED:
                conflict = _open(user, mail, body, uploads, now)
                decision.conflict_id = conflict.id
                _update(mail, conflict_id=conflict.id, answered=True)
            else:
                assert decision.conflict_id is not None
                conflicts.comment(user, decision.conflict_id, body, now=now,
                                  internal=decision.internal, uploads=uploads)  # fmt: skip
    except _AlreadySeen:
        return InboundResult(DUPLICATE, mail.message_id, mail.sender, "seen before")
    except ServiceError as exc:
        refusal = _Decision(
            REFUSED, exc.message, user=user, conflict_id=decision.conflict_id, bounce=exc.message
        )
        return _record(mail, refusal, now, source)
    return InboundResult(
        decision.outcome,
        mail.message_id,
        mail.sender,
        conflict_id=decision.conflict_id,
        answered=decision.outcome == OPENED,
    )


def _record(mail: _Mail, decision: _Decision, now: datetime, source: str) -> InboundResult:
    """A refused or dropped message: its row, and (refused, at most once an interval per
    sender) a polite answer; nothing else."""
    answered = False
    with one_transaction(db.session):
        if not _claim(mail, decision, now, source):
            return InboundResult(DUPLICATE, mail.message_id, mail.sender, "seen before")
        if decision.bounce is not None:
            answered = _bounce(mail, decision.bounce, now)
            if answered:
                _update(mail, answered=True)
    return InboundResult(
        decision.outcome, mail.message_id, mail.sender, decision.detail, answered=answered
    )


def _answer_address(mail: _Mail) -> str | None:
    """Where an answer goes: the envelope sender (Return-Path) as RFC 3834 says, else From."""
    address = parseaddr(mail.return_path or "")[1] or mail.sender
    if not address or "@" not in address or _is_ours(address) or _DAEMON.match(address):
        return None
    return address


def _answer_headers(mail: _Mail, **more: str) -> dict[str, str]:
    headers = {"Auto-Submitted": "auto-replied"}
    if not mail.message_id.startswith("sha256:"):
        headers["In-Reply-To"] = mail.message_id
    headers.update(more)
    return headers


def _bounce(mail: _Mail, reason: str, now: datetime) -> bool:
    address = _answer_address(mail)
    if address is None:
        return False
    minutes = max(1, int(current_app.config.get("MAIL_BOUNCE_MINUTES", DEFAULT_BOUNCE_MINUTES)))
    bucket = int(now.timestamp() // (minutes * 60))
    key = f"mail-bounce:{hashlib.sha256(address.lower().encode()).hexdigest()[:32]}:{bucket}"
    if db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key)):
        return False  # this sender had their answer in this interval
    subject = f"Not delivered: {mail.subject}" if mail.subject else "Not delivered"
    text = (
        "Hello,\n\n"
        f"Trustomer could not accept your message{_quoted(mail.subject)}.\n\n"
        f"{reason}\n\n"
        "This answer is automatic; further refused messages from your address within "
        f"{minutes} minutes are not answered.\n"
    )
    outbox.enqueue_email(
        dedupe_key=key,
        address=address,
        subject=mail_text_line(subject)[:250],
        text=text,
        html=None,
        now=now,
        headers=_answer_headers(mail),
    )
    return True


def _quoted(subject: str) -> str:
    return f' "{subject}"' if subject else ""


# --- a new conflict by mail ------------------------------------------------------------------


def subject_tags(subject: str) -> tuple[str, str, str]:
    """(title, severity, category) from a subject: `[high]` or `[payment]` tags are taken
    out of the title; a reply or forward prefix is dropped."""
    severity, category = DEFAULT_SEVERITY, DEFAULT_CATEGORY

    def take(match: re.Match[str]) -> str:
        nonlocal severity, category
        tag = match.group(1).strip().lower().replace(" ", "_")
        if tag in SEVERITY_TAGS:
            severity = SEVERITY_TAGS[tag]
            return " "
        if tag in CATEGORY_TAGS:
            category = CATEGORY_TAGS[tag]
            return " "
        return match.group(0)

    title = _TAG.sub(take, _REPLY_PREFIX.sub("", subject))
    return mail_text_line(_REPLY_PREFIX.sub("", title)), severity, category


def _open(
    user: User, mail: _Mail, body: str, uploads: list[files.Upload], now: datetime
) -> Conflict:
    title, severity, category = subject_tags(mail.subject)
    conflict = conflicts.submit(
        user,
        title=title,
        description=body,
        category=category,
        severity=severity,
        now=now,
        uploads=uploads,
    )
    _receipt(user, conflict, mail, now)
    return conflict


def _local(moment: datetime | None, zone: str) -> str:
    if moment is None:
        return "—"
    return moment.astimezone(ZoneInfo(zone)).strftime("%a %d %b %Y %H:%M %Z")


def _receipt(user: User, conflict: Conflict, mail: _Mail, now: datetime) -> None:
    """The answer to a new conflict by mail: its reference, its link and the SLA promise,
    in the sender's timezone; replying to it comments on the conflict."""
    zone = user.display_timezone
    due = {view.name: view.due_at for view in sla.clock_views(conflict, now)}
    severity = workflow.SEVERITIES.get(conflict.severity, conflict.severity)
    text = (
        f"Hello {user.name},\n\n"
        f"we have recorded your conflict {conflict.ref}: {conflict.title}\n"
        f"{links.conflict_url(conflict, staff=False)}\n\n"
        f"Severity {severity}, category "
        f"{workflow.CATEGORIES.get(conflict.category, conflict.category)}"
        " (until an alliance manager triages it).\n"
        f"We will triage it by {_local(due.get('Time to triage'), zone)} and resolve it by "
        f"{_local(due.get('Time to resolution'), zone)} (your time).\n\n"
        "Reply to this message to add to the conflict.\n"
    )
    references = mail_threads.thread_root_id(conflict.id)
    if not mail.message_id.startswith("sha256:"):
        references = f"{references} {mail.message_id}"
    outbox.enqueue_email(
        dedupe_key=f"mail-receipt:{conflict.id}",
        address=user.email,
        subject=mail_text_line(f"Received: {conflict.ref} {conflict.title}")[:250],
        text=text,
        html=None,
        now=now,
        recipient_id=user.id,
        conflict_id=conflict.id,
        headers=_answer_headers(
            mail,
            **{
                "Reply-To": mail_threads.reply_address(conflict.id, user.id),
                "References": references,
            },
        ),
    )


# --- reading the record ------------------------------------------------------------------------


def messages_query(outcome: str | None = None, sender: str | None = None) -> Select:
    """Messages seen, newest first; optionally of one outcome and senders containing `sender`."""
    query = select(InboundMessage).order_by(InboundMessage.id.desc())
    if outcome in OUTCOMES:
        query = query.where(InboundMessage.outcome == outcome)
    needle = (sender or "").strip().lower()[:320]
    if needle:
        escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(InboundMessage.sender.like(f"%{escaped}%", escape="\\"))
    return query


def summary() -> dict[str, int]:
    """How many messages had each outcome (every outcome present, zero included)."""
    counts = dict.fromkeys(OUTCOMES, 0)
    rows = db.session.execute(
        select(InboundMessage.outcome, func.count()).group_by(InboundMessage.outcome)
    )
    for outcome, count in rows:
        counts[outcome] = count
    return counts


# --- the IMAP mailbox ------------------------------------------------------------------------


@dataclass
class FetchReport:
    """What one pass over the mailbox did; `lines` has one line per message."""

    lines: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    moved: int = 0
    stopped: str = ""

    def add(self, result: InboundResult) -> None:
        self.counts[result.outcome] = self.counts.get(result.outcome, 0) + 1
        self.lines.append(result.line)

    @property
    def handled(self) -> int:
        return sum(self.counts.values())

    @property
    def summary_line(self) -> str:
        counts = ", ".join(f"{name} {count}" for name, count in sorted(self.counts.items()))
        line = f"mail fetch: {self.handled} message(s)" + (f" ({counts})" if counts else "")
        line += f", {self.moved} moved"
        return line + (f"; stopped: {self.stopped}" if self.stopped else "")


def imap_settings() -> imap.ImapSettings:
    """The intake mailbox from TRACKER_IMAP_*; InvalidInput when no host is set."""
    config = current_app.config
    if not config.get("IMAP_HOST"):
        raise InvalidInput(N_("No IMAP mailbox is configured (TRACKER_IMAP_HOST)."))
    return imap.ImapSettings(
        host=config["IMAP_HOST"],
        port=int(config.get("IMAP_PORT", 993)),
        user=config.get("IMAP_USER", ""),
        password=config.get("IMAP_PASSWORD", ""),
        folder=config.get("IMAP_FOLDER") or "INBOX",
        processed_folder=config.get("IMAP_PROCESSED_FOLDER") or "Trustomer-processed",
        ca_file=config.get("IMAP_CA_FILE", ""),
    )


def fetch(
    now: datetime, *, limit: int = 200, may_continue: Callable[[], bool] | None = None
) -> FetchReport:
    """Handle the intake folder's messages, oldest first, moving each to the processed folder
    once handled. Safe in several processes: the Message-ID claim makes a message taken
    twice harmless, and one taken by another process first is skipped.

    `may_continue()` is asked before each message (the scheduler's job lock); False stops
    the pass. A database outage stops it too, leaving the message in the folder, and
    propagates. Raises MailboxError when the mailbox cannot be used.
    """
    settings = imap_settings()
    report = FetchReport()
    with imap.open_mailbox(settings) as box:
        for uid in box.uids()[:limit]:
            size = box.size(uid)
            raw = None if size is None else box.read(uid, header_only=size > _max_bytes())
            if raw is None:
                continue  # moved by another fetcher meanwhile
            if may_continue is not None and not may_continue():
                report.stopped = "another fetcher holds the lock"
                break
            result = receive(raw, now=now, source=IMAP, size=size)
            log.info("inbound mail (imap): %s", result.line)
            report.add(result)
            report.moved += box.move_to_processed(uid)
    return report
