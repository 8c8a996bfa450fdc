"""Trust history pages: a partnership's scores and ledger, the portfolio, exports."""

from flask import Blueprint

bp = Blueprint("trust", __name__)

from tracker.web.trust import routes  # noqa: E402,F401
