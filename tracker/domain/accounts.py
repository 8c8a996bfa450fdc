"""Roles, partner tiers and the validation rules for accounts and partners."""

from __future__ import annotations

import re
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from tracker.domain.text import N_

ADMIN = "admin"
MANAGER = "manager"
PARTNER = "partner"
ROLES = (ADMIN, MANAGER, PARTNER)
STAFF_ROLES = (ADMIN, MANAGER)

TIERS = ("strategic", "preferred", "standard")
TIER_LABELS = {
    "strategic": N_("Strategic"),
    "preferred": N_("Preferred"),
    "standard": N_("Standard"),
}

MIN_PASSWORD_LENGTH = 10
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class AccountRuleError(ValueError):
    """A rule about accounts or partners was broken; the message is for people."""


def normalise_email(email: str) -> str:
    """Emails compare case-insensitively; store them one way."""
    value = (email or "").strip().lower()
    if not _EMAIL_RE.match(value) or len(value) > 254:
        raise AccountRuleError(f"{email!r} is not a valid email address.")
    return value


def check_role(role: str) -> str:
    if role not in ROLES:
        raise AccountRuleError(f"Role must be one of {', '.join(ROLES)}.")
    return role


def check_tier(tier: str) -> str:
    if tier not in TIERS:
        raise AccountRuleError(f"Tier must be one of {', '.join(TIERS)}.")
    return tier


def check_timezone(name: str) -> str:
    """Only IANA names: abbreviations like EST are ambiguous across DST."""
    if name not in _timezones():
        raise AccountRuleError(
            f"{name!r} is not a known IANA timezone (for example Europe/Berlin)."
        )
    ZoneInfo(name)
    return name


# The languages the pages and mail are translated into; the first is the fallback.
LOCALES: dict[str, str] = {"en": "English", "de": "Deutsch", "fr": "Français"}
DEFAULT_LOCALE = "en"


def check_locale(code: str | None) -> str | None:
    """None or one of LOCALES (a language a catalog exists for)."""
    if code is None or code == "":
        return None
    if code not in LOCALES:
        raise AccountRuleError(f"Language must be one of {', '.join(LOCALES)}.")
    return code


def preferred_locale(chosen: str | None, browser: str | None, partner_default: str | None) -> str:
    """The person's own choice, else the browser's best match, else the partner's, else English."""
    for code in (chosen, browser, partner_default):
        if code in LOCALES:
            return code  # type: ignore[return-value]
    return DEFAULT_LOCALE


def check_country(code: str | None) -> str | None:
    if code is None or code == "":
        return None
    value = code.strip().upper()
    if not re.fullmatch(r"[A-Z]{2}", value):
        raise AccountRuleError(N_("Country must be a two-letter ISO code such as DE or US."))
    if value not in _countries():
        raise AccountRuleError(
            f"{value}: unknown holiday country. Use the country's ISO code, such as DE, GB or US."
        )
    return value


@lru_cache(maxsize=1)
def _countries() -> frozenset[str]:
    """Countries with a public-holiday calendar: a partner's country decides its days off.
    The holidays package (about 4 MiB) loads here, when a country is first checked, not
    in every web worker at start-up."""
    import holidays

    return frozenset(holidays.list_supported_countries())


def check_password(password: str) -> str:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise AccountRuleError(f"Password must be at least {MIN_PASSWORD_LENGTH} characters long.")
    if len(password) > 256:
        raise AccountRuleError(N_("Password must be at most 256 characters long."))
    return password


def check_role_partner(role: str, has_partner: bool) -> None:
    """Partner users belong to exactly one partner; staff belong to none."""
    if role == PARTNER and not has_partner:
        raise AccountRuleError(N_("A partner user must belong to a partner organisation."))
    if role != PARTNER and has_partner:
        raise AccountRuleError(N_("Only partner users belong to a partner organisation."))


_TZ_CACHE: frozenset[str] | None = None


def _timezones() -> frozenset[str]:
    global _TZ_CACHE
    if _TZ_CACHE is None:
        _TZ_CACHE = frozenset(available_timezones())
    return _TZ_CACHE


def timezone_choices() -> list[str]:
    """Sorted IANA names, for select boxes."""
    return sorted(
        z for z in _timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/"))
    ) + ["UTC"]
