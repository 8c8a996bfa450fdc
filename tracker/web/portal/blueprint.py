"""The `portal` blueprint object, apart from its views so they can import it."""

from flask import Blueprint

bp = Blueprint("portal", __name__, url_prefix="/portal")
