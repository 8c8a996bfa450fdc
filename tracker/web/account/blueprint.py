"""The `account` blueprint object, apart from its views so they can import it."""

from flask import Blueprint

bp = Blueprint("account", __name__, url_prefix="/account")
