"""Opaque cursors for keyset pagination by id, and the `next` link that carries them."""

from __future__ import annotations

import base64
import binascii

from flask import request, url_for

from tracker.api.schemas import MAX_ID
from tracker.services.errors import InvalidInput

_PREFIX = "after:"


def encode(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"{_PREFIX}{last_id}".encode()).decode().rstrip("=")


def decode(cursor: str | None) -> int | None:
    """The id the page continues after; a cursor we did not make is a 422."""
    if not cursor:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        value = int(text.removeprefix(_PREFIX)) if text.startswith(_PREFIX) else None
    except (ValueError, binascii.Error, UnicodeDecodeError):
        value = None
    if value is None or not 0 < value <= MAX_ID:
        message = "Not a cursor from this API; use the previous page's next link."
        raise InvalidInput(message, field_errors={"cursor": message})
    return value


def next_link(items: list, limit: int) -> str | None:
    """The URL of the page after `items` (fetched with limit + 1), or None on the last page."""
    if len(items) <= limit:
        return None
    args = request.args.to_dict()
    args["cursor"] = encode(items[limit - 1].id)
    return url_for(request.endpoint or "", _external=True, **(request.view_args or {}), **args)
