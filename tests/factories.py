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
