"""Demo data for a first start: partners, people and (later issues) their history."""

from __future__ import annotations

from datetime import datetime

from tracker.domain.accounts import ADMIN, MANAGER, PARTNER
from tracker.extensions import db
from tracker.services import accounts, partners

DEMO_PASSWORD = "trustomer-demo"  # noqa: S105  (published demo logins, see README)

STAFF = (
    ("admin@trustomer.example", "Ada Admin", ADMIN),
    ("maya@trustomer.example", "Maya Okafor", MANAGER),
    ("leo@trustomer.example", "Leo Brandt", MANAGER),
)

PARTNERS = (
    # name, tier, timezone, country, owner email, users
    (
        "Northwind Logistics",
        "strategic",
        "Europe/Berlin",
        "DE",
        "maya@trustomer.example",
        (("anna@northwind.example", "Anna Keller"), ("jonas@northwind.example", "Jonas Weber")),
    ),
    (
        "Bluefin Systems",
        "preferred",
        "America/New_York",
        "US",
        "leo@trustomer.example",
        (("sam@bluefin.example", "Sam Rivera"), ("kate@bluefin.example", "Kate Lin")),
    ),
    (
        "Kestrel Components",
        "standard",
        "Asia/Kolkata",
        "IN",
        "maya@trustomer.example",
        (("priya@kestrel.example", "Priya Nair"), ("arjun@kestrel.example", "Arjun Mehta")),
    ),
)


def seed(now: datetime) -> str:
    """Create whatever of the demo set is missing; running it twice changes nothing."""
    created = {"users": 0, "partners": 0}
    for email, name, role in STAFF:
        if accounts.find_user_by_email(email) is None:
            accounts.create_user(email=email, name=name, role=role, password=DEMO_PASSWORD, now=now)
            created["users"] += 1
    for name, tier, tz, country, owner_email, users in PARTNERS:
        partner = partners.find_partner_by_name(name)
        if partner is None:
            owner = accounts.find_user_by_email(owner_email)
            partner = partners.create_partner(
                name=name,
                tier=tier,
                timezone=tz,
                country=country,
                owner_id=owner.id if owner else None,
                now=now,
            )
            created["partners"] += 1
        for email, user_name in users:
            if accounts.find_user_by_email(email) is None:
                accounts.create_user(
                    email=email,
                    name=user_name,
                    role=PARTNER,
                    partner_id=partner.id,
                    password=DEMO_PASSWORD,
                    now=now,
                )
                created["users"] += 1
    db.session.commit()
    return f"demo seed: {created['partners']} partners and {created['users']} users created"
