"""The `console` blueprint object, apart from its views so they can import it."""

from flask import Blueprint

bp = Blueprint("console", __name__, url_prefix="/console")
