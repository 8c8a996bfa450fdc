"""Opaque cursors for keyset pagination by id, and the `next` link that carries them.

A cursor is `<base64url("after:<id>")>.<base64url(HMAC-SHA256 of that, keyed by SECRET_KEY)>`:
only cursors this API made are accepted, and their content is checked strictly.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re

from flask import current_app, request, url_for

from tracker.api.schemas import MAX_ID
from tracker.services.errors import InvalidInput

_PREFIX = "after:"
_PAYLOAD = re.compile(r"after:[1-9][0-9]{0,9}")
_SKIP = "skip:"
_SKIP_PAYLOAD = re.compile(r"skip:[1-9][0-9]{0,9}")
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")
_SIGNATURE_BYTES = 16


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    """Strict base64url without padding: only its alphabet, and only the canonical form."""
    if not _BASE64URL.fullmatch(text):
        raise ValueError("not base64url")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if _b64(data) != text:
        raise ValueError("not canonical")
    return data


def _signature(payload: bytes) -> bytes:
    key = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(key, b"api-cursor:" + payload, hashlib.sha256).digest()
    return digest[:_SIGNATURE_BYTES]


def encode(last_id: int) -> str:
    payload = f"{_PREFIX}{last_id}".encode()
    return f"{_b64(payload)}.{_b64(_signature(payload))}"


def decode(cursor: str | None) -> int | None:
    """The id the page continues after; a cursor we did not make is a 422."""
    return _read(cursor, _PREFIX, _PAYLOAD)


def decode_offset(cursor: str | None) -> int:
    """How many ranked results the page skips (a search's cursor); 0 without a cursor."""
    return _read(cursor, _SKIP, _SKIP_PAYLOAD) or 0


def _read(cursor: str | None, prefix: str, pattern: re.Pattern[str]) -> int | None:
    if not cursor:
        return None
    value = None
    try:
        encoded, dot, signed = cursor.partition(".")
        payload, signature = _unb64(encoded), _unb64(signed) if dot else b""
        text = payload.decode("ascii")
        if pattern.fullmatch(text) and hmac.compare_digest(signature, _signature(payload)):
            value = int(text.removeprefix(prefix))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        value = None
    if value is None or not 0 < value <= MAX_ID:
        message = "Not a cursor from this API; use the previous page's next link."
        raise InvalidInput(message, field_errors={"cursor": message})
    return value


def _link(cursor: str) -> str:
    args = request.args.to_dict()
    args["cursor"] = cursor
    path = url_for(request.endpoint or "", **(request.view_args or {}), **args)
    path = path.removeprefix(request.script_root)  # BASE_URL includes any mount point
    return current_app.config["BASE_URL"].rstrip("/") + path


def next_offset_link(items: list, limit: int, offset: int) -> str | None:
    """The next page of ranked results (fetched with limit + 1), or None on the last page.

    Ranked results have no order by id to continue after, so the cursor counts what was
    shown; it is signed like the id cursors and read only as a count."""
    if len(items) <= limit:
        return None
    payload = f"{_SKIP}{offset + limit}".encode()
    return _link(f"{_b64(payload)}.{_b64(_signature(payload))}")


def next_link(items: list, limit: int) -> str | None:
    """The URL of the page after `items` (fetched with limit + 1), or None on the last page.

    Absolute on the configured BASE_URL, never on the request's Host header (which a client
    or a proxy may set to anything).
    """
    if len(items) <= limit:
        return None
    return _link(encode(items[limit - 1].id))
