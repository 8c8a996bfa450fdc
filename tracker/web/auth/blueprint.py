"""The `auth` blueprint object, apart from its views so they can import it."""

from flask import Blueprint

bp = Blueprint("auth", __name__, url_prefix="/auth")
