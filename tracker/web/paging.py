"""Numbers from the query string and forms (ids, page numbers), parsed strictly and bounded."""

from __future__ import annotations

from flask import request

MAX_ID = 2**31 - 1  # the largest id a route or filter accepts (INTEGER on every engine)
MAX_PAGE = 100_000


def _digits(value: str | None) -> str:
    """`value` when it is plain ASCII digits, else "" (str.isdigit() alone accepts "²")."""
    return value if value and value.isascii() and value.isdigit() else ""


def strict_int(value: str | None, *, high: int = MAX_ID) -> int | None:
    """`value` as an int in 1..high when it is plain ASCII digits, else None."""
    digits = _digits(value)
    if not digits or len(digits) > len(str(high)):
        return None
    number = int(digits)
    return number if 1 <= number <= high else None


def page_arg() -> int:
    """`?page=` clamped to 1..MAX_PAGE; missing or malformed means the first page."""
    digits = _digits(request.args.get("page"))
    if not digits:
        return 1
    if len(digits) > len(str(MAX_PAGE)):
        return MAX_PAGE
    return min(max(int(digits), 1), MAX_PAGE)
