"""Bearer-token authentication for the API: who is calling, and may they do this."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import g, request
from flask_limiter.util import get_remote_address

from tracker.api.errors import ApiError
from tracker.clock import utcnow
from tracker.models import ApiToken, User
from tracker.models.api import WRITE
from tracker.services import api_tokens

_CHALLENGE = 'Bearer realm="trustomer"'


def bearer_token() -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or None."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def rate_limit_key() -> str:
    """One bucket per token (its hash identifies it without a lookup); else per address."""
    raw = bearer_token()
    if raw:
        return "api-token:" + api_tokens.hash_token(raw)
    return "api-address:" + (get_remote_address() or "unknown")


def authenticate(scope: str) -> ApiToken:
    """The request's usable token with `scope`; 401 without one, 403 when read-only."""
    raw = bearer_token()
    token = api_tokens.authenticate(raw, utcnow()) if raw else None
    if token is None:
        challenge = _CHALLENGE + (', error="invalid_token"' if raw else "")
        detail = (
            "The token is unknown, revoked or expired, or its user is deactivated."
            if raw
            else "Send a personal API token: Authorization: Bearer <token>."
        )
        raise ApiError(401, detail, headers={"WWW-Authenticate": challenge})
    if scope == WRITE and not token.may_write:
        raise ApiError(403, "This token is read-only; use a token with the write scope.")
    g.api_token = token
    return token


def token_required(scope: str = "read") -> Callable:
    """Decorator: the view runs with `user=` the token's user, when the token allows `scope`."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            token = authenticate(scope)
            return view(*args, user=token.user, **kwargs)

        return wrapped

    return decorator


def staff_only(user: User) -> None:
    if not user.is_staff:
        raise ApiError(403, "Only alliance managers and admins may use this.")
