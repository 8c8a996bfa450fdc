"""Pages every signed-in user has: attachments they may see, their notifications."""

from tracker.web.shared import routes  # noqa: F401  (their routes attach to bp)
from tracker.web.shared.blueprint import bp

__all__ = ["bp"]
