"""The `admin` blueprint object, apart from its views so they can import it."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")
