"""JSON API v1: the same services and rules as the pages, for partners' and managers' systems.

Tokens, not cookies, authenticate here, so CSRF protection does not apply; every error is
RFC 9457 problem+json; the OpenAPI document is built from the routes' own declarations.
"""

from __future__ import annotations

from flask import Flask

from tracker.api.blueprint import DEFAULT_MAX_CONTENT_LENGTH, DEFAULT_RATE_LIMIT, bp
from tracker.api.routes import (  # noqa: F401  (each attaches its routes to bp)
    audit,
    comments,
    conflicts,
    docs,
    escalations,
    estimates,
    notifications,
    partners,
    webhooks,
)


def register_api(app: Flask) -> None:
    """Mount the API at /api/v1, with problem+json errors for everything under /api/."""
    from tracker.api.errors import register_fallback
    from tracker.services import partner_webhooks  # noqa: F401  (registers its secret resolver)

    app.config.setdefault("API_RATE_LIMIT", DEFAULT_RATE_LIMIT)  # config.py reads the env
    app.config.setdefault("API_MAX_CONTENT_LENGTH", DEFAULT_MAX_CONTENT_LENGTH)
    app.register_blueprint(bp)
    register_fallback(app)
