"""JSON API v1: the same services and rules as the pages, for partners' and managers' systems.

Tokens, not cookies, authenticate here, so CSRF protection does not apply; every error is
RFC 9457 problem+json; the OpenAPI document is built from the routes' own declarations.
"""

from __future__ import annotations

from flask import Blueprint, Flask, current_app, request

from tracker.extensions import csrf, limiter

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

DEFAULT_RATE_LIMIT = "300/minute"
DEFAULT_MAX_CONTENT_LENGTH = 1024 * 1024


def _rate_limit() -> str:
    return current_app.config["API_RATE_LIMIT"]


@bp.before_request
def _limit_body_size() -> None:
    request.max_content_length = current_app.config["API_MAX_CONTENT_LENGTH"]


def register_api(app: Flask) -> None:
    """Mount the API at /api/v1, with problem+json errors for everything under /api/."""
    from tracker.api.errors import register_fallback
    from tracker.services import partner_webhooks  # noqa: F401  (registers its secret resolver)

    app.config.setdefault("API_RATE_LIMIT", DEFAULT_RATE_LIMIT)  # config.py reads the env
    app.config.setdefault("API_MAX_CONTENT_LENGTH", DEFAULT_MAX_CONTENT_LENGTH)
    app.register_blueprint(bp)
    register_fallback(app)


from tracker.api.auth import rate_limit_key  # noqa: E402
from tracker.api.errors import register_handlers  # noqa: E402

limiter.limit(_rate_limit, key_func=rate_limit_key)(bp)
register_handlers(bp)

from tracker.api.routes import (  # noqa: E402,F401
    comments,
    conflicts,
    docs,
    escalations,
    notifications,
    partners,
    webhooks,
)
