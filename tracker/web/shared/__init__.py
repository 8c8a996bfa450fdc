"""Pages every signed-in user has: attachments they may see, their notifications."""

from flask import Blueprint

bp = Blueprint("shared", __name__)

from tracker.web.shared import routes  # noqa: E402,F401
