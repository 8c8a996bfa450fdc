"""The one place that reads the wall clock; everything else takes `now`."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    """The current instant as a timezone-aware UTC datetime."""
    return datetime.now(UTC)
