"""The alliance managers' console: the triage queue and the working view of a conflict."""

from tracker.web.console import reports, routes  # noqa: F401  (their routes attach to bp)
from tracker.web.console.blueprint import bp

__all__ = ["bp"]
