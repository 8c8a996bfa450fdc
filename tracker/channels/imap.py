"""An IMAP mailbox over TLS: list its messages, read one, move it to the processed folder."""

from __future__ import annotations

import imaplib
import re
import ssl
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field

from tracker.channels import DeliveryError

_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")


@dataclass(frozen=True)
class ImapSettings:
    """Where the intake mailbox is; the password stays out of repr() and logs."""

    host: str
    port: int = 993
    user: str = ""
    password: str = field(default="", repr=False)
    folder: str = "INBOX"
    processed_folder: str = "Trustomer-processed"
    ca_file: str = ""
    timeout: float = 30.0


class MailboxError(DeliveryError):
    """The mailbox could not be reached or refused us; `retryable` says whether later may help."""


def tls_context(ca_file: str = "") -> ssl.SSLContext:
    """A verifying context: the system's CAs, or only `ca_file` for a private CA."""
    return ssl.create_default_context(cafile=ca_file or None)


def _quoted(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Mailbox:
    """One signed-in IMAP session on the intake folder."""

    def __init__(self, connection: imaplib.IMAP4_SSL, settings: ImapSettings) -> None:
        self._imap = connection
        self._settings = settings
        typ, data = connection.capability()
        words = b" ".join(item for item in data if isinstance(item, bytes)).upper().split()
        self.capabilities = {word.decode() for word in words}

    def uids(self) -> list[bytes]:
        """The folder's messages not yet marked deleted, oldest first."""
        typ, data = self._imap.uid("SEARCH", None, "UNDELETED")
        if typ != "OK":
            raise MailboxError(f"IMAP SEARCH failed: {data!r}", retryable=True)
        return (data[0] or b"").split()

    def size(self, uid: bytes) -> int | None:
        """The message's size, or None when it is gone (another process moved it)."""
        typ, data = self._imap.uid("FETCH", uid, "(RFC822.SIZE)")
        for item in data or []:
            raw = item[0] if isinstance(item, tuple) else item
            match = _SIZE.search(raw or b"")
            if typ == "OK" and match:
                return int(match.group(1))
        return None

    def read(self, uid: bytes, *, header_only: bool = False) -> bytes | None:
        """The raw message (or only its header), without setting \\Seen; None when gone."""
        section = "BODY.PEEK[HEADER]" if header_only else "BODY.PEEK[]"
        typ, data = self._imap.uid("FETCH", uid, f"({section})")
        if typ != "OK":
            return None
        for item in data or []:
            if isinstance(item, tuple) and len(item) == 2:
                return item[1]
        return None

    def move_to_processed(self, uid: bytes) -> bool:
        """UID MOVE, or COPY + \\Deleted + EXPUNGE where MOVE is missing; False when it was
        gone already (another process moved it first)."""
        target = _quoted(self._settings.processed_folder)
        if "MOVE" in self.capabilities:
            typ, data = self._imap.uid("MOVE", uid, target)
            return typ == "OK" and b"No messages" not in b" ".join(d or b"" for d in data)
        typ, _ = self._imap.uid("COPY", uid, target)
        if typ != "OK":
            return False
        self._imap.uid("STORE", uid, "+FLAGS.SILENT", r"(\Deleted)")
        if "UIDPLUS" in self.capabilities:
            self._imap.uid("EXPUNGE", uid)
        else:
            self._imap.expunge()
        return True


@contextmanager
def open_mailbox(settings: ImapSettings) -> Iterator[Mailbox]:
    """Sign in over TLS (certificate and host name verified), select the intake folder and
    make sure the processed folder exists; log out at the end."""
    try:
        connection = imaplib.IMAP4_SSL(
            settings.host,
            settings.port,
            ssl_context=tls_context(settings.ca_file),
            timeout=settings.timeout,
        )
    except ssl.SSLError as exc:
        raise MailboxError(f"IMAP {settings.host}: TLS failed: {exc}", retryable=False) from exc
    except OSError as exc:
        raise MailboxError(f"IMAP {settings.host}:{settings.port} unreachable: {exc}") from exc
    try:
        try:
            connection.login(settings.user, settings.password)
        except imaplib.IMAP4.error as exc:
            raise MailboxError(
                f"IMAP sign-in refused for {settings.user}", retryable=False
            ) from exc
        typ, data = connection.select(_quoted(settings.folder))
        if typ != "OK":
            raise MailboxError(f"IMAP folder {settings.folder!r}: {data!r}", retryable=False)
        connection.create(_quoted(settings.processed_folder))  # NO when it exists: fine
        yield Mailbox(connection, settings)
    except (imaplib.IMAP4.abort, OSError) as exc:
        raise MailboxError(f"IMAP {settings.host}: connection lost: {exc}") from exc
    finally:
        with suppress(imaplib.IMAP4.error, OSError):
            connection.logout()
