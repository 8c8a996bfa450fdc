"""Plain helper factories: the smallest valid objects, overridable by keyword."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from tracker.domain.accounts import ADMIN, MANAGER, PARTNER
from tracker.models import Partner, User
from tracker.services import accounts, partners

PASSWORD = "correct-horse-battery"
WHEN = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
_seq = itertools.count(1)


def make_partner(**overrides) -> Partner:  # type: ignore[no-untyped-def]
    n = next(_seq)
    values = {"name": f"Partner {n}", "tier": "standard", "timezone": "Europe/Berlin", "now": WHEN}
    values.update(overrides)
    return partners.create_partner(**values)


def make_user(role: str = MANAGER, *, partner: Partner | None = None, **overrides) -> User:  # type: ignore[no-untyped-def]
    n = next(_seq)
    if role == PARTNER and partner is None:
        partner = make_partner()
    values = {
        "email": f"{role}{n}@example.com",
        "name": f"{role.capitalize()} {n}",
        "role": role,
        "partner_id": partner.id if partner else None,
        "password": PASSWORD,
        "now": WHEN,
    }
    values.update(overrides)
    return accounts.create_user(**values)


def make_admin(**overrides) -> User:  # type: ignore[no-untyped-def]
    return make_user(ADMIN, **overrides)


def make_manager(**overrides) -> User:  # type: ignore[no-untyped-def]
    return make_user(MANAGER, **overrides)


def make_partner_user(partner: Partner | None = None, **overrides) -> User:  # type: ignore[no-untyped-def]
    return make_user(PARTNER, partner=partner, **overrides)


def make_conflict(partner_user: User | None = None, *, now: datetime = WHEN, **overrides):  # type: ignore[no-untyped-def]
    """A conflict raised by a partner user (one is made when not given)."""
    from tracker.services import conflicts

    author = partner_user or make_partner_user()
    values = {
        "title": "Invoice 4711 paid 20 days late",
        "description": "Payment terms are 30 days; invoice 4711 was paid after 50.",
        "category": "payment_terms",
        "severity": "high",
        "now": now,
    }
    values.update(overrides)
    return conflicts.submit(author, **values)


def triage(conflict, manager: User, *, now: datetime = WHEN, **fields):  # type: ignore[no-untyped-def]
    from tracker.services import conflicts

    values = {
        "severity": conflict.severity,
        "category": conflict.category,
        "assignee_id": manager.id,
    }
    values.update(fields)
    return conflicts.act(manager, conflict.id, "triage", values, now=now)


RESOLUTION = {
    "summary": "Paid with interest; the payment run now checks terms.",
    "root_cause": "process_gap",
    "accountable_side": "us",
}
