"""Partner organisations as staff see them."""

from tracker.web.partners import routes  # noqa: F401  (their routes attach to bp)
from tracker.web.partners.blueprint import bp

__all__ = ["bp"]
