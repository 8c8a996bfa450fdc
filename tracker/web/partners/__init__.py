"""Partner organisations as staff see them."""

from flask import Blueprint

bp = Blueprint("partners", __name__, url_prefix="/partners")

from tracker.web.partners import routes  # noqa: E402,F401
