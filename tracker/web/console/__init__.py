"""The alliance managers' console: the triage queue and the working view of a conflict."""

from flask import Blueprint

bp = Blueprint("console", __name__, url_prefix="/console")

from tracker.web.console import routes  # noqa: E402,F401
