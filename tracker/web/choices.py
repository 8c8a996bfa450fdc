"""Choice lists for forms and filters, read from the services once per request."""

from __future__ import annotations

from collections.abc import Callable

from flask import request

from tracker.services import accounts, partners


def _once_per_request(
    name: str, read: Callable[[], list[tuple[int, str]]]
) -> list[tuple[int, str]]:
    # On the request, not on `g`: an application context (and its `g`) can outlive requests.
    cache = request.__dict__.setdefault("_tracker_choices", {})
    if name not in cache:
        cache[name] = read()
    return cache[name]


def staff() -> list[tuple[int, str]]:
    """Active alliance managers and admins as (id, name): however many forms need them."""
    return _once_per_request("staff", accounts.staff_choices)


def partner_names() -> list[tuple[int, str]]:
    """Every partner as (id, name), by name."""
    return _once_per_request("partners", partners.choices)
