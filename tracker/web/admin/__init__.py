"""Administration: users, partners and the settings in force."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from tracker.web.admin import agreements, outbox, routes  # noqa: E402,F401
