"""Partner organisations: creating and editing them."""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Final

from sqlalchemy import func, select, update

from tracker.clock import utcnow
from tracker.domain import accounts as rules
from tracker.extensions import db
from tracker.models import Partner, User
from tracker.services import agreements, api_tokens
from tracker.services.errors import InvalidInput, NotFound

KEEP: Final = object()  # update_partner(sla_policy_id=KEEP): leave the partner's agreement as is


def _is_one_line(text: str) -> bool:
    """No line breaks (CR, LF, U+2028, ...) or other control characters."""
    return not any(unicodedata.category(ch) in ("Cc", "Zl", "Zp") for ch in text)


def _validated(
    name: str, tier: str, timezone: str, country: str | None, owner_id: int | None
) -> dict:
    errors: dict[str, str] = {}
    clean: dict = {}
    clean["name"] = (name or "").strip()
    if not clean["name"]:
        errors["name"] = "A name is required."
    elif len(clean["name"]) > 120:
        errors["name"] = "At most 120 characters."
    elif not _is_one_line(clean["name"]):
        # The name goes into mail subjects: a line break there makes the mail unsendable.
        errors["name"] = "Write the name on one line, without line breaks or control characters."
    for field, check, value in (
        ("tier", rules.check_tier, tier),
        ("timezone", rules.check_timezone, timezone),
        ("country", rules.check_country, country),
    ):
        try:
            clean[field] = check(value)
        except rules.AccountRuleError as exc:
            errors[field] = str(exc)
    if owner_id is not None:
        owner = db.session.get(User, owner_id)
        if owner is None or not owner.is_staff:
            errors["owner_id"] = "The relationship owner must be an alliance manager or admin."
    clean["owner_id"] = owner_id
    if errors:
        raise InvalidInput("Please correct the highlighted fields.", field_errors=errors)
    return clean


def create_partner(
    *,
    name: str,
    tier: str,
    timezone: str,
    now: datetime,
    country: str | None = None,
    owner_id: int | None = None,
    sla_policy_id: int | None = None,
) -> Partner:
    """A new partner; `sla_policy_id` gives it its own agreement instead of its tier's."""
    clean = _validated(name, tier, timezone, country, owner_id)
    if db.session.scalar(
        select(Partner.id).where(func.lower(Partner.name) == clean["name"].lower())
    ):
        raise InvalidInput(
            "A partner with this name already exists.", field_errors={"name": "Already in use."}
        )
    partner = Partner(created_at=now, active=True, **clean)
    agreements.assign_policy(partner, sla_policy_id)
    db.session.add(partner)
    db.session.commit()
    return partner


def update_partner(
    partner_id: int,
    *,
    name: str,
    tier: str,
    timezone: str,
    country: str | None,
    owner_id: int | None,
    active: bool = True,
    sla_policy_id: int | None | object = KEEP,
    now: datetime | None = None,
) -> Partner:
    """Change a partner; `sla_policy_id` None goes back to the tier's agreement.

    Deactivating a partner signs its users out at once and revokes their API tokens for
    good; they cannot sign in until it is active again, and then with new tokens only.
    """
    partner = get_partner(partner_id)
    clean = _validated(name, tier, timezone, country, owner_id)
    clash = db.session.scalar(
        select(Partner.id).where(
            func.lower(Partner.name) == clean["name"].lower(), Partner.id != partner_id
        )
    )
    if clash:
        raise InvalidInput(
            "A partner with this name already exists.", field_errors={"name": "Already in use."}
        )
    if sla_policy_id is not KEEP:
        agreements.assign_policy(partner, sla_policy_id)  # type: ignore[arg-type]
    for key, value in clean.items():
        setattr(partner, key, value)
    if partner.active and not active:
        _end_sessions_of(partner, now or utcnow())
    partner.active = active
    db.session.commit()
    return partner


def _end_sessions_of(partner: Partner, now: datetime) -> None:
    """Sign out every user of a partner being deactivated (their session ids stop matching)
    and revoke their API tokens, which reactivating the partner must not bring back."""
    db.session.execute(
        update(User)
        .where(User.partner_id == partner.id)
        .values(session_version=User.session_version + 1)
        .execution_options(synchronize_session="fetch")
    )
    for user_id in db.session.scalars(select(User.id).where(User.partner_id == partner.id)):
        api_tokens.revoke_all(user_id, now=now)


def get_partner(partner_id: int) -> Partner:
    partner = db.session.get(Partner, partner_id)
    if partner is None:
        raise NotFound("No such partner.")
    return partner


def find_partner_by_name(name: str) -> Partner | None:
    return db.session.scalar(
        select(Partner).where(func.lower(Partner.name) == name.strip().lower())
    )
