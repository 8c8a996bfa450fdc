"""One-click unsubscribe (RFC 8058): a signed link per reader, usable without signing in.

The link carries the user id and the kinds of notice the message was about, signed with
SECRET_KEY (itsdangerous, as invitations are): the POST that
mail providers send needs neither a session nor a CSRF token, and it can only turn off
e-mail for that one user.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from tracker.domain.text import N_
from tracker.extensions import db
from tracker.models import User
from tracker.services import links, preferences
from tracker.services.errors import InvalidInput

SALT = "trustomer-unsubscribe"


@dataclass(frozen=True)
class Request:
    """Whom an unsubscribe link is for, and which kinds of notice it stops."""

    user: User
    kinds: list[str]

    @property
    def labels(self) -> list[str]:
        return [preferences.KINDS[k] for k in self.kinds if k in preferences.KINDS]


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def token(user: User, kinds: list[str]) -> str:
    return _serializer().dumps({"u": user.id, "k": list(kinds)})


def url(user: User, kinds: list[str]) -> str:
    """The absolute one-click link on BASE_URL."""
    return links.external_url("shared.unsubscribe_link", token=token(user, kinds))


def preferences_url() -> str:
    return links.external_url("shared.notification_preferences")


def read(value: str) -> Request:
    """What a link asks for; InvalidInput when it is not one of ours (forged or mangled)."""
    try:
        payload = _serializer().loads(value)
    except BadSignature as exc:
        raise InvalidInput(N_("This unsubscribe link is not valid.")) from exc
    if not isinstance(payload, dict):
        raise InvalidInput(N_("This unsubscribe link is not valid."))
    kinds = payload.get("k")
    user = db.session.get(User, payload.get("u")) if isinstance(payload.get("u"), int) else None
    if user is None or not isinstance(kinds, list):
        raise InvalidInput(N_("This unsubscribe link is not valid."))
    return Request(user, [k for k in kinds if k in preferences.KINDS])


def apply(value: str) -> Request:
    """Turn e-mail off for the link's user and kinds; the same link twice is harmless."""
    request = read(value)
    stopped = preferences.stop_email(request.user, request.kinds)
    return Request(request.user, stopped)
