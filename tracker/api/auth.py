"""Bearer-token authentication for the API: who is calling, and may they do this."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any

from flask import g, request
from flask_limiter.util import get_remote_address

from tracker.api.errors import ApiError
from tracker.clock import utcnow
from tracker.domain.text import N_
from tracker.services import api_tokens

if TYPE_CHECKING:
    from tracker.models import ApiToken, User

_CHALLENGE = 'Bearer realm="trustomer"'


def bearer_token() -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or None."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


_UNSET = object()


def request_token() -> ApiToken | None:
    """The request's usable token, or None; looked up once per request (cached in `g`)."""
    cached = g.get("_api_bearer_token", _UNSET)
    if cached is not _UNSET:
        return cached  # type: ignore[return-value]
    raw = bearer_token()
    token = api_tokens.authenticate(raw, utcnow()) if raw else None
    g._api_bearer_token = token
    return token


def rate_limit_key() -> str:
    """One bucket per token that authenticates; anything else (no token, or an unknown,
    revoked or expired one) shares its client address's bucket, so that inventing tokens
    does not buy fresh buckets."""
    token = request_token()
    if token is not None:
        return f"api-token:{token.id}"
    return "api-address:" + (get_remote_address() or "unknown")


def authenticate(scope: str) -> ApiToken:
    """The request's usable token with `scope`; 401 without one, 403 when read-only."""
    raw = bearer_token()
    token = request_token()
    if token is None:
        challenge = _CHALLENGE + (', error="invalid_token"' if raw else "")
        detail = (
            "The token is unknown, revoked or expired, or its user is deactivated."
            if raw
            else "Send a personal API token: Authorization: Bearer <token>."
        )
        raise ApiError(401, detail, headers={"WWW-Authenticate": challenge})
    if not api_tokens.allows(token, scope):
        raise ApiError(403, N_("This token is read-only; use a token with the write scope."))
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
        raise ApiError(403, N_("Only alliance managers and admins may use this."))
