"""Who may enter a route: decorators stacked on views."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort
from flask_login import current_user, login_required

from tracker.services import conflict_access
from tracker.services.errors import NotFound


def role_required(*roles: str) -> Callable:
    """Signed in and holding one of `roles`; anyone else gets 403."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def conflict_or_404(conflict_id: int):  # type: ignore[no-untyped-def]
    """The conflict if the signed-in user may see it; 404 otherwise (never say it exists)."""
    try:
        return conflict_access.visible_conflict(current_user, conflict_id)
    except NotFound:
        abort(404)
