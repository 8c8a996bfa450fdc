"""The `main` blueprint object, apart from its views so they can import it."""

from flask import Blueprint

bp = Blueprint("main", __name__)
