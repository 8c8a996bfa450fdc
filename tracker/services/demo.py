"""Demo data for a first start: partners, people and (later issues) their history."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

from tracker.domain.accounts import ADMIN, MANAGER, PARTNER
from tracker.extensions import db
from tracker.models import Conflict
from tracker.services import accounts, conflicts, partners

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
    created["conflicts"] = _seed_conflicts(now)
    return (
        f"demo seed: {created['partners']} partners, {created['users']} users and "
        f"{created['conflicts']} conflicts created"
    )


# (author email, hours before now, title, description, category, severity, steps)
# A step is (hours after submission, actor email, action or "comment"/"note", fields).
RESOLVE_PROCESS = {
    "summary": "We paid the balance with interest and added a terms check to the payment run.",
    "root_cause": "process_gap",
    "accountable_side": "us",
}
SCENARIOS = (
    (
        "anna@northwind.example", 20 * 24,
        "Invoice NW-4711 paid 20 days after agreed terms",
        "Our agreement says **30 days net**. Invoice NW-4711 (EUR 48,200) was paid on day 50.\n\n"
        "We had to bridge the gap with our own credit line. Please confirm what happened and how "
        "it will be prevented.",
        "payment_terms", "high",
        (
            (2, "maya@trustomer.example", "triage", {"severity": "high", "category": "payment_terms"}),
            (3, "maya@trustomer.example", "note", {"body": "The batch run skipped partner invoices that week."}),
            (5, "maya@trustomer.example", "resolve", RESOLVE_PROCESS),
            (30, "anna@northwind.example", "accept", {}),
        ),
    ),
    (
        "jonas@northwind.example", 6 * 24,
        "Customer Brandt GmbH handed over without the service history",
        "The handover of Brandt GmbH arrived without the last 12 months of tickets. Our first "
        "call with them went badly because we did not know about the open warranty case.",
        "customer_handover", "medium",
        (
            (4, "maya@trustomer.example", "triage", {"severity": "medium", "category": "customer_handover"}),
            (6, "maya@trustomer.example", "wait_on_partner",
             {"message": "Could you tell us which warranty case it was, so we can pull its history?"}),
        ),
    ),
    (
        "sam@bluefin.example", 3 * 24,
        "Quarterly forecast shared two weeks late",
        "The Q3 joint forecast reached us two weeks after the planning deadline, so our "
        "capacity plan was built on last quarter's numbers.",
        "communication", "low",
        (
            (1, "leo@trustomer.example", "triage", {"severity": "low", "category": "communication"}),
            (3, "leo@trustomer.example", "comment",
             {"body": "Thank you for raising this. We are checking why the forecast was held back."}),
        ),
    ),
    (
        "kate@bluefin.example", 30,
        "Integration API returning errors for order sync",
        "Since yesterday the order sync endpoint answers 502 for about a third of calls. "
        "Orders are piling up on our side.",
        "quality", "critical",
        (),
    ),
    (
        "priya@kestrel.example", 10 * 24,
        "Shipment KC-118 delivered short by 40 units",
        "Shipment KC-118 arrived with 360 of 400 units. The delivery note says 400.",
        "delivery", "high",
        (
            (3, "maya@trustomer.example", "triage", {"severity": "high", "category": "delivery"}),
            (20, "maya@trustomer.example", "resolve",
             {"summary": "The carrier split the shipment; the remaining 40 units arrived on Friday.",
              "root_cause": "third_party_failure", "accountable_side": "third_party"}),
            (26, "priya@kestrel.example", "dispute",
             {"reason": "Nobody told us the shipment was split; we chased it for three days."}),
        ),
    ),
    (
        "arjun@kestrel.example", 2,
        "Contract renewal terms differ from what was agreed",
        "The renewal draft lists a 5% price increase that was not discussed in our review.",
        "contract", "medium",
        (),
    ),
)  # fmt: skip


def _seed_conflicts(now: datetime) -> int:
    """Conflicts in every state, told through the same services people use."""
    if db.session.scalar(select(func.count(Conflict.id))):
        return 0
    count = 0
    for author_email, hours_ago, title, description, category, severity, steps in SCENARIOS:
        author = accounts.find_user_by_email(author_email)
        if author is None:
            continue
        start = now - timedelta(hours=hours_ago)
        conflict = conflicts.submit(
            author,
            title=title,
            description=description,
            category=category,
            severity=severity,
            now=start,
        )
        count += 1
        for hours_after, actor_email, step, fields in steps:
            actor = accounts.find_user_by_email(actor_email)
            when = start + timedelta(hours=hours_after)
            if step in ("comment", "note"):
                conflicts.comment(
                    actor, conflict.id, fields["body"], internal=step == "note", now=when
                )
                continue
            if step == "triage":
                fields = {**fields, "assignee_id": actor.id}
            conflicts.act(actor, conflict.id, step, fields, now=when)
    return count
