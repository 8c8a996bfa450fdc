"""The landing page: each role starts where its work is."""

from flask import Blueprint

bp = Blueprint("main", __name__)

from tracker.web.main import routes  # noqa: E402,F401
