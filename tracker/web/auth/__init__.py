"""Signing in and out, passwords and invitations."""

from flask import Blueprint

bp = Blueprint("auth", __name__, url_prefix="/auth")

from tracker.web.auth import routes  # noqa: E402,F401
