"""The `shared` blueprint object, apart from its views so they can import it."""

from flask import Blueprint

bp = Blueprint("shared", __name__)
