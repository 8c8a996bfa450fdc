"""The API blueprint: body-size and rate limits and problem+json errors, apart from its routes."""

from __future__ import annotations

from flask import Blueprint, current_app, request

from tracker.api.auth import rate_limit_key
from tracker.api.errors import register_handlers
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


limiter.limit(_rate_limit, key_func=rate_limit_key)(bp)
register_handlers(bp)
