"""The landing page: each role starts where its work is."""

from tracker.web.main import routes  # noqa: F401  (their routes attach to bp)
from tracker.web.main.blueprint import bp

__all__ = ["bp"]
