"""The signed-in user's own API tokens and (partners) their organisation's webhooks."""

from tracker.web.account import routes  # noqa: F401  (their routes attach to bp)
from tracker.web.account.blueprint import bp

__all__ = ["bp"]
