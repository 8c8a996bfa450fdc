"""The signed-in user's own API tokens and (partners) their organisation's webhooks."""

from flask import Blueprint

bp = Blueprint("account", __name__, url_prefix="/account")

from tracker.web.account import routes  # noqa: E402,F401
