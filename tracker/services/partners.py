"""Partner organisations: creating, editing and listing them, each reader seeing its own."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Final, ParamSpec, TypeVar

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import func, select, update

from tracker.clock import utcnow
from tracker.domain import accounts as rules
from tracker.domain.text import N_
from tracker.extensions import db
from tracker.models import Partner, User
from tracker.services import admin_audit, agreements, api_tokens, messagebus, paging
from tracker.services.errors import InvalidInput, NotFound, ServiceError

P = ParamSpec("P")
R = TypeVar("R")
KEEP: Final = object()  # update_partner(sla_policy_id=KEEP): leave the partner's agreement as is


def _is_one_line(text: str) -> bool:
    """No line breaks (CR, LF, U+2028, ...) or other control characters."""
    return not any(unicodedata.category(ch) in ("Cc", "Zl", "Zp") for ch in text)


def _validated(
    name: str,
    tier: str,
    timezone: str,
    country: str | None,
    owner_id: int | None,
    default_locale: str | None = None,
) -> dict:
    errors: dict[str, str] = {}
    clean: dict = {}
    clean["name"] = (name or "").strip()
    if not clean["name"]:
        errors["name"] = N_("A name is required.")
    elif len(clean["name"]) > 120:
        errors["name"] = N_("At most 120 characters.")
    elif not _is_one_line(clean["name"]):
        # The name goes into mail subjects: a line break there makes the mail unsendable.
        errors["name"] = N_(
            "Write the name on one line, without line breaks or control characters."
        )
    for field, check, value in (
        ("tier", rules.check_tier, tier),
        ("timezone", rules.check_timezone, timezone),
        ("country", rules.check_country, country),
        ("default_locale", rules.check_locale, default_locale),
    ):
        try:
            clean[field] = check(value)
        except rules.AccountRuleError as exc:
            errors[field] = str(exc)
    if owner_id is not None:
        owner = db.session.get(User, owner_id)
        if owner is None or not owner.is_staff:
            errors["owner_id"] = N_("The relationship owner must be an alliance manager or admin.")
    clean["owner_id"] = owner_id
    if errors:
        raise InvalidInput(N_("Please correct the highlighted fields."), field_errors=errors)
    return clean


def _undone_when_refused(use_case: Callable[P, R]) -> Callable[P, R]:
    """A use case that rolls the session back when it refuses, so nothing half-set lingers."""

    @wraps(use_case)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return use_case(*args, **kwargs)
        except ServiceError:
            db.session.rollback()
            raise

    return wrapped


def create_partner(
    *,
    name: str,
    tier: str,
    timezone: str,
    now: datetime,
    country: str | None = None,
    owner_id: int | None = None,
    sla_policy_id: int | None = None,
    default_locale: str | None = None,
    actor: User | None = None,
) -> Partner:
    """A new partner; `sla_policy_id` gives it its own agreement instead of its tier's;
    `default_locale` is its people's language when neither they nor their browser choose.

    Recorded in the admin audit log as `actor`'s change (None: the command line)."""
    clean = _validated(name, tier, timezone, country, owner_id, default_locale)
    if db.session.scalar(
        select(Partner.id).where(func.lower(Partner.name) == clean["name"].lower())
    ):
        raise InvalidInput(
            N_("A partner with this name already exists."),
            field_errors={"name": N_("Already in use.")},
        )
    partner = Partner(created_at=now, active=True, **clean)
    agreements.assign_policy(partner, sla_policy_id)
    db.session.add(partner)
    db.session.flush()
    audit = admin_audit.changed(
        actor, "partner.created", _subject(partner), after=audited_values(partner)
    )
    messagebus.publish([audit], now)
    db.session.commit()
    return partner


def audited_values(partner: Partner) -> dict[str, object]:
    """What the admin audit log keeps of a partner, before and after a change."""
    return {
        "name": partner.name,
        "tier": partner.tier,
        "timezone": partner.timezone,
        "country": partner.country,
        "owner_id": partner.owner_id,
        "sla_policy_id": partner.sla_policy_id,
        "default_locale": partner.default_locale,
        "active": partner.active,
    }


def _subject(partner: Partner) -> str:
    return f"partner:{partner.id} {partner.name}"


@_undone_when_refused
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
    default_locale: str | None | object = KEEP,
    now: datetime | None = None,
    actor: User | None = None,
) -> Partner:
    """Change a partner; `sla_policy_id` None goes back to the tier's agreement.

    Deactivating a partner signs its users out at once and revokes their API tokens for
    good; they cannot sign in until it is active again, and then with new tokens only.
    A refused change leaves nothing behind in the session.
    """
    partner = get_partner(partner_id)
    before = audited_values(partner)
    locale = partner.default_locale if default_locale is KEEP else default_locale
    clean = _validated(name, tier, timezone, country, owner_id, locale)  # type: ignore[arg-type]
    clash = db.session.scalar(
        select(Partner.id).where(
            func.lower(Partner.name) == clean["name"].lower(), Partner.id != partner_id
        )
    )
    if clash:
        raise InvalidInput(
            N_("A partner with this name already exists."),
            field_errors={"name": N_("Already in use.")},
        )
    if sla_policy_id is not KEEP:
        agreements.assign_policy(partner, sla_policy_id)  # type: ignore[arg-type]
    for key, value in clean.items():
        setattr(partner, key, value)
    if partner.active and not active:
        _end_sessions_of(partner, now or utcnow())
    partner.active = active
    audit = admin_audit.changed(
        actor, "partner.updated", _subject(partner), before=before, after=audited_values(partner)
    )
    messagebus.publish([audit], now or utcnow())
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
        raise NotFound(N_("No such partner."))
    return partner


def visible_partner(user: User, partner_id: int) -> Partner:
    """The partner if `user` may read it (staff: any; a partner's people: their own)."""
    if not user.is_staff and user.partner_id != partner_id:
        raise NotFound(N_("No such partner."))
    return get_partner(partner_id)


def visible_partners(user: User) -> list[Partner]:
    """By name: staff see every partner; a partner's user sees only their own organisation."""
    query = select(Partner).order_by(Partner.name)
    if not user.is_staff:
        query = query.where(Partner.id == user.partner_id)
    return list(db.session.scalars(query))


def partners_page(tier: str | None, page: int, per_page: int) -> Pagination:
    """Every partner (or those of `tier`; unknown tiers mean all) by name, for managers."""
    query = select(Partner).order_by(Partner.name)
    if tier in rules.TIERS:
        query = query.where(Partner.tier == tier)
    return paging.numbered(query, page, per_page)


_CHOICES = select(Partner.id, Partner.name).order_by(Partner.name)  # built once (the queue's)


def choices() -> list[tuple[int, str]]:
    """Every partner as (id, name) by name, for forms and filters."""
    return [(partner_id, name) for partner_id, name in db.session.execute(_CHOICES)]


def find_partner_by_name(name: str) -> Partner | None:
    return db.session.scalar(
        select(Partner).where(func.lower(Partner.name) == name.strip().lower())
    )
