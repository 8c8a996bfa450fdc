"""Trust history pages: a partnership's scores and ledger, the portfolio, exports."""

from tracker.web.trust import routes  # noqa: F401  (their routes attach to bp)
from tracker.web.trust.blueprint import bp

__all__ = ["bp"]
