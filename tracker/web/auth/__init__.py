"""Signing in and out, passwords and invitations."""

from tracker.web.auth import routes  # noqa: F401  (their routes attach to bp)
from tracker.web.auth.blueprint import bp

__all__ = ["bp"]
