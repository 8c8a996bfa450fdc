"""Email over SMTP: build a safe message and say whether a failed send is worth retrying."""

from __future__ import annotations

import re
import smtplib
import ssl
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid, parseaddr

from tracker.channels import DeliveryError
from tracker.clock import utcnow

# Everything str.splitlines() breaks on: a header value must stay on one line.
_LINE_BREAK = re.compile(r"[\r\n\v\f\x1c\x1d\x1e\x85\u2028\u2029]")


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to reach the SMTP relay; the password stays out of repr() and logs."""

    host: str
    port: int = 25
    user: str = ""
    password: str = field(default="", repr=False)
    starttls: bool = False
    timeout: float = 10.0


@dataclass(frozen=True)
class OutgoingEmail:
    """One email to one recipient; `message_id` makes a retried send recognisable."""

    to: str
    subject: str
    text: str
    html: str | None = None
    reply_to: str | None = None
    message_id: str | None = None
    # Further single-line headers (In-Reply-To, References, Auto-Submitted), in order.
    headers: tuple[tuple[str, str], ...] = ()


_ANGLE_ADDRESS = re.compile(r"(?P<name>.*)<(?P<address>[^<>]*)>\s*", re.DOTALL)


def _header_value(name: str, value: str) -> str:
    if _LINE_BREAK.search(value):
        raise ValueError(f"{name} header must not contain line breaks (header injection)")
    return value


def one_line(text: str) -> str:
    """Text for one header line: line breaks and other control characters become one space.

    Subjects and display names carry what people typed (a conflict's title, a partner's
    name), possibly stored before it was checked; one line keeps such a mail sendable.
    """
    kept = "".join(
        " " if unicodedata.category(ch)[0] == "C" or _LINE_BREAK.match(ch) else ch for ch in text
    )
    return " ".join(kept.split())


def _address_header(name: str, value: str) -> str:
    """An address header: its display name put on one line, the address itself left strict."""
    match = _ANGLE_ADDRESS.fullmatch(value)
    if match is None:
        return _header_value(name, value)
    address = _header_value(name, match.group("address").strip())
    display = one_line(match.group("name")).strip().strip('"').strip()
    return formataddr((display, address)) if display else address


def build_message(
    mail_from: str, email: OutgoingEmail, *, now: datetime | None = None
) -> EmailMessage:
    """Plain text, plus an HTML alternative when given.

    Subject and display names are put on one line; a line break in an address or the
    Message-ID is refused (header injection).
    """
    message = EmailMessage()
    message["From"] = _address_header("From", mail_from)
    message["To"] = _address_header("To", email.to)
    message["Subject"] = one_line(email.subject)
    message["Date"] = format_datetime(now or utcnow())
    if email.message_id is not None:
        message["Message-ID"] = _header_value("Message-ID", email.message_id)
    else:
        # An explicit domain: make_msgid's default asks DNS for this host's FQDN.
        domain = parseaddr(str(message["From"]))[1].rpartition("@")[2] or "trustomer.invalid"
        message["Message-ID"] = make_msgid(domain=domain)
    if email.reply_to is not None:
        message["Reply-To"] = _address_header("Reply-To", email.reply_to)
    for name, value in email.headers:
        message[name] = _header_value(name, value)
    message.set_content(email.text)
    if email.html is not None:
        message.add_alternative(email.html, subtype="html")
    return message


def send_email(settings: SmtpSettings, mail_from: str, email: OutgoingEmail) -> None:
    """Hand one email to the relay; raises DeliveryError saying whether a retry can help."""
    message = build_message(mail_from, email)
    where = f"SMTP server {settings.host}:{settings.port}"
    try:
        refused = _transmit(settings, message, where)
    except DeliveryError:
        raise
    except smtplib.SMTPServerDisconnected as exc:  # includes a reply that timed out
        raise _failure(settings, f"{where} dropped the connection: {exc}", True) from exc
    except smtplib.SMTPRecipientsRefused as exc:
        detail = "; ".join(
            f"{rcpt}: {code} {_text(reply)}" for rcpt, (code, reply) in exc.recipients.items()
        )
        permanent = any(_is_permanent(code) for code, _ in exc.recipients.values())
        raise _failure(
            settings, f"{where} refused the recipient ({detail})", not permanent
        ) from exc
    except smtplib.SMTPResponseException as exc:
        # Sender refused, DATA refused, bad greeting, HELO or AUTH failure: 5xx is final.
        reply = f"{exc.smtp_code} {_text(exc.smtp_error)}"
        kind = type(exc).__name__
        retryable = not _is_permanent(exc.smtp_code)
        raise _failure(settings, f"{where} answered {reply} ({kind})", retryable) from exc
    except smtplib.SMTPException as exc:
        # e.g. no AUTH mechanism in common: a configuration problem, not a passing one.
        raise _failure(settings, f"{where}: {exc}", False) from exc
    except ssl.SSLCertVerificationError as exc:
        raise _failure(settings, f"{where} has an untrusted TLS certificate: {exc}", False) from exc
    except OSError as exc:  # refused, reset, timed out, DNS: the relay may be back later
        reason = "timed out" if isinstance(exc, TimeoutError) else str(exc) or type(exc).__name__
        raise _failure(settings, f"{where} unreachable: {reason}", True) from exc
    if refused:
        # Others on the same message were accepted, so a retry would send it to them twice.
        detail = ", ".join(sorted(refused))
        raise _failure(settings, f"{where} refused some recipients: {detail}", False)


def _transmit(
    settings: SmtpSettings, message: EmailMessage, where: str
) -> dict[str, tuple[int, bytes]]:
    smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    try:
        smtp.ehlo_or_helo_if_needed()
        if settings.starttls:
            if not smtp.has_extn("starttls"):
                raise DeliveryError(
                    f"{where} does not offer STARTTLS; not sending in clear text",
                    retryable=False,
                )
            smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo_or_helo_if_needed()
        if settings.user:
            if not smtp.has_extn("auth"):
                raise DeliveryError(
                    f"{where} does not offer AUTH (does it require STARTTLS?)", retryable=False
                )
            smtp.login(settings.user, settings.password)
        refused = smtp.send_message(message)
    except BaseException:
        smtp.close()  # not QUIT: a stalled server would make us wait a second timeout
        raise
    _quit_quietly(smtp)
    return refused


def _quit_quietly(smtp: smtplib.SMTP) -> None:
    # The mail is already accepted; a failed QUIT must not turn it into a retry (a duplicate).
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


def _is_permanent(code: int) -> bool:
    return 500 <= code < 600


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply


def _redact(message: str, settings: SmtpSettings) -> str:
    return message.replace(settings.password, "***") if settings.password else message


def _failure(settings: SmtpSettings, message: str, retryable: bool) -> DeliveryError:
    return DeliveryError(_redact(message, settings), retryable=retryable)
