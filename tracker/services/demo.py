"""Demo data for a first start: partners, people and (later issues) their history."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select, update

from tracker.domain.accounts import ADMIN, MANAGER, PARTNER
from tracker.extensions import db
from tracker.models import Conflict, Notification
from tracker.services import accounts, conflicts, outbox, partners

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
    """Create whatever of the demo set is missing; running it twice changes nothing.

    No e-mail is written: the seed tells a year of history through the services, and
    nobody should find the outbox full of mail about the past once SMTP is configured.
    """
    with outbox.suppress_emails():
        return _seed(now)


def _seed(now: datetime) -> str:
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
    count = _seed_history(now)
    # A year of history would greet everyone with hundreds of unread notices: the past is read.
    db.session.execute(
        update(Notification)
        .where(Notification.created_at < now - timedelta(days=2), Notification.read_at.is_(None))
        .values(read_at=now)
    )
    db.session.commit()
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


HISTORY_TITLES = {
    "payment_terms": [
        "Invoice paid after the agreed terms",
        "Credit note applied twice",
        "Rebate for Q{q} not paid",
    ],
    "delivery": [
        "Shipment arrived short",
        "Delivery missed the agreed window",
        "Wrong items in the pallet",
    ],
    "communication": [
        "Price change announced without notice",
        "Forecast shared late",
        "No answer to our escalation",
    ],
    "contract": [
        "Renewal draft differs from the agreement",
        "SLA terms read differently by both sides",
    ],
    "quality": ["Batch failed incoming inspection", "Integration errors after the update"],
    "customer_handover": [
        "Customer handed over without history",
        "Open tickets lost in the handover",
    ],
}
# name -> (how many conflicts in the past year, how late we tend to be, how slow they answer, rating bias)
HISTORY_PROFILES = {
    "Northwind Logistics": (30, 0.6, 0.5, 1),
    "Bluefin Systems": (26, 1.0, 1.0, 0),
    "Kestrel Components": (22, 1.5, 2.2, -1),
}


def _seed_history(now: datetime) -> int:
    """A year of closed loops per partner, told through the services at their past times.

    Deterministic (a fixed seed), chronological across partners, so the trust ledger and its
    history read as if the year had really happened.
    """
    import random

    rng = random.Random(2026)
    steps: list[tuple[datetime, int, object]] = []
    counter = 0
    for name, (count, lateness, slowness, rating_bias) in HISTORY_PROFILES.items():
        partner = partners.find_partner_by_name(name)
        if partner is None or partner.owner is None:
            continue
        people = [u for u in partner.users if u.password_hash]
        manager = partner.owner
        for _ in range(count):
            counter += 1
            start = now - timedelta(days=rng.uniform(21, 360), hours=rng.uniform(0, 8))
            if name == "Bluefin Systems" and rng.random() < 0.3:
                start = now - timedelta(days=rng.uniform(8, 20))  # a rough recent month
            category = rng.choice(list(HISTORY_TITLES))
            title = rng.choice(HISTORY_TITLES[category]).format(q=rng.randint(1, 4))
            severity = rng.choices(["low", "medium", "high", "critical"], [3, 5, 3, 1])[0]
            author = rng.choice(people)
            late = lateness * (
                2.0 if start > now - timedelta(days=30) and name == "Bluefin Systems" else 1.0
            )
            plan = {
                "triage": rng.uniform(0.2, 3.0) * late,
                "wait": rng.random() < 0.35,
                "answer": rng.uniform(2, 30) * slowness,
                "resolve": rng.uniform(2, 40) * late,
                "dispute": rng.random() < 0.15 * late,
                "accept": rng.uniform(1, 40),
                "rating": min(5, max(1, round(rng.gauss(4 + rating_bias * 0.7, 0.8)))),
                "rate": rng.random() < 0.5,
            }
            steps.append(
                (start, counter, (author, manager, title, category, severity, plan, start))
            )
    steps.sort(key=lambda item: (item[0], item[1]))
    made = 0
    for _, _, (author, manager, title, category, severity, plan, start) in steps:
        made += _replay_conflict(author, manager, title, category, severity, plan, start, now)
    return made


def _replay_conflict(author, manager, title, category, severity, plan, start, now) -> int:  # type: ignore[no-untyped-def]
    t = start
    conflict = conflicts.submit(
        author, title=title, description=f"{title}. Details were shared by email.",
        category=category, severity=severity, now=t,
    )  # fmt: skip
    t += timedelta(hours=plan["triage"])
    fields = {"severity": severity, "category": category, "assignee_id": manager.id}
    conflicts.act(manager, conflict.id, "triage", fields, now=t)
    if plan["wait"]:
        t += timedelta(hours=1)
        ask = {"message": "Could you send the documents for this case?"}
        conflicts.act(manager, conflict.id, "wait_on_partner", ask, now=t)
        t += timedelta(hours=plan["answer"])
        conflicts.comment(author, conflict.id, "Sent to your team just now.", now=t)
    t += timedelta(hours=plan["resolve"])
    conflicts.act(manager, conflict.id, "resolve", RESOLVE_PROCESS, now=t)
    if plan["dispute"]:
        t += timedelta(hours=4)
        conflicts.act(
            author, conflict.id, "dispute", {"reason": "This does not settle it yet."}, now=t
        )
        t += timedelta(hours=8)
        conflicts.act(manager, conflict.id, "resolve", RESOLVE_PROCESS, now=t)
    t += timedelta(hours=plan["accept"])
    if t >= now:
        return 1
    conflicts.act(author, conflict.id, "accept", {}, now=t)
    if plan["rate"] and t + timedelta(hours=2) < now:
        from tracker.services import trust

        trust.rate(author, conflict.id, plan["rating"], "", now=t + timedelta(hours=2))
    return 1
