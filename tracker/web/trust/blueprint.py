"""The `trust` blueprint object, apart from its views so they can import it."""

from flask import Blueprint

bp = Blueprint("trust", __name__)
