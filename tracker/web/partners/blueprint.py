"""The `partners` blueprint object, apart from its views so they can import it."""

from flask import Blueprint

bp = Blueprint("partners", __name__, url_prefix="/partners")
