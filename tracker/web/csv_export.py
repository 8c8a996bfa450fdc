"""CSV cells a spreadsheet shows as text, never runs: the one rule for every CSV export."""

from __future__ import annotations

# OWASP CSV injection: spreadsheets read a cell starting with these as a formula (";" and "|"
# start DDE and separator tricks in some locales), also after leading spaces or tabs.
_FORMULA_STARTS = ("=", "+", "-", "@", ";", "|", "\t", "\r", "\n", "＝", "＋", "－", "＠")


def csv_safe(value: str) -> str:
    """A cell a spreadsheet shows as text: one that could start a formula gets a leading '."""
    if value[:1].isspace() or value.lstrip().startswith(_FORMULA_STARTS):
        return "'" + value
    return value
