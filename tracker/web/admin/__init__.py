"""Administration: users, partners and the settings in force."""

from tracker.web.admin import agreements, audit, inbound, outbox, routes  # noqa: F401  (routes attach to bp)
from tracker.web.admin.blueprint import bp

__all__ = ["bp"]
