"""How a mail finds its conflict: signed reply addresses and stable thread Message-IDs.

Outgoing notices carry both (Reply-To and Message-ID/In-Reply-To/References); incoming mail
is matched by the reply address first and by the thread headers failing that. The token is
an HMAC, so nobody can forge a reply address for a conflict they were never sent; it is
lowercase base32 because some MTAs fold the local part's case.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass
from email.utils import parseaddr

from flask import current_app

_NOTE = "note"
_TOKEN = re.compile(r"^(?:(note)\.)?(\d{1,12})\.(\d{1,12})\.([a-z2-7]{16})$")
_THREAD = re.compile(r"<conflict-(\d{1,12})\.([a-z2-7]{10})@[^>]+>")


@dataclass(frozen=True)
class ReplyTarget:
    """What a reply address says: this user answers on this conflict, publicly or not."""

    conflict_id: int
    user_id: int
    internal: bool


def _mac(purpose: str, *parts: object, length: int) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    message = ":".join([purpose, *map(str, parts)]).encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.b32encode(digest).decode().lower()[:length]


def intake_address() -> str:
    """The mailbox that receives replies and new conflicts (TRACKER_MAIL_INTAKE_ADDRESS)."""
    return current_app.config["MAIL_INTAKE_ADDRESS"]


def mail_domain() -> str:
    """The domain of the intake address: the right-hand side of our Message-IDs."""
    return intake_address().rpartition("@")[2] or "localhost"


def reply_token(conflict_id: int, user_id: int, *, internal: bool = False) -> str:
    """The signed local-part tag for one reader of one conflict."""
    kind = _NOTE if internal else "public"
    mac = _mac("reply", kind, conflict_id, user_id, length=16)
    prefix = f"{_NOTE}." if internal else ""
    return f"{prefix}{conflict_id}.{user_id}.{mac}"


def reply_address(conflict_id: int, user_id: int, *, internal: bool = False) -> str:
    """`conflicts+<token>@domain`: where this user's answer on this conflict goes.

    `internal=True` is the documented staff address whose mail becomes an internal note.
    """
    local, _, domain = intake_address().partition("@")
    return f"{local}+{reply_token(conflict_id, user_id, internal=internal)}@{domain}"


def parse_reply_address(address: str) -> ReplyTarget | None:
    """The conflict and user an address was signed for, or None (not ours, or forged)."""
    _, bare = parseaddr(address)
    local, _, domain = bare.lower().partition("@")
    intake_local, _, intake_domain = intake_address().lower().partition("@")
    base, plus, tag = local.partition("+")
    if not plus or base != intake_local or domain != intake_domain:
        return None
    match = _TOKEN.match(tag)
    if match is None:
        return None
    note, conflict_id, user_id, mac = match.groups()
    internal = note is not None
    expected = reply_token(int(conflict_id), int(user_id), internal=internal).rpartition(".")[2]
    if not hmac.compare_digest(mac, expected):
        return None
    return ReplyTarget(int(conflict_id), int(user_id), internal)


def thread_root_id(conflict_id: int) -> str:
    """The conflict's stable root Message-ID: every notice refers to it, so each mail client
    shows one thread per conflict."""
    mac = _mac("thread", conflict_id, length=10)
    return f"<conflict-{conflict_id}.{mac}@{mail_domain()}>"


def conflict_from_references(values: Iterable[str | None]) -> int | None:
    """The conflict named by a thread root among In-Reply-To/References values, if genuine."""
    for value in values:
        for conflict_id, mac in _THREAD.findall(value or ""):
            if hmac.compare_digest(mac, _mac("thread", int(conflict_id), length=10)):
                return int(conflict_id)
    return None
