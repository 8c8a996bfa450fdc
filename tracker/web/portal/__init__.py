"""The partner portal: a partner organisation's own conflicts."""

from tracker.web.portal import routes  # noqa: F401  (their routes attach to bp)
from tracker.web.portal.blueprint import bp

__all__ = ["bp"]
