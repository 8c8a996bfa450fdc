"""The partner portal: a partner organisation's own conflicts."""

from flask import Blueprint

bp = Blueprint("portal", __name__, url_prefix="/portal")

from tracker.web.portal import routes  # noqa: E402,F401
