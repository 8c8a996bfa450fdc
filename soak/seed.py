"""Seed a soak database through the services: managers, partners, their users, API tokens.

Run with TRACKER_DATABASE_URL set; prints one JSON object (ids and raw tokens) on stdout.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tracker import create_app  # noqa: E402
from tracker.clock import utcnow  # noqa: E402
from tracker.services import accounts, api_tokens, partners  # noqa: E402

PASSWORD = "crimson-harbour-lantern-42"  # noqa: S105
PARTNERS = (
    ("Soak Strategic", "strategic", "Europe/Berlin"),
    ("Soak Preferred", "preferred", "UTC"),
)


def _token(user) -> str:  # type: ignore[no-untyped-def]
    return api_tokens.create(user, name="soak", scope="write", now=utcnow())[1]


def seed() -> dict:
    managers = []
    for n in (1, 2):
        user = accounts.create_user(
            email=f"manager{n}@soak.example", name=f"Soak Manager {n}", role="manager",
            partner_id=None, password=PASSWORD, now=utcnow(),
        )  # fmt: skip
        managers.append({"id": user.id, "token": _token(user)})
    seeded = []
    for index, (name, tier, timezone) in enumerate(PARTNERS):
        partner = partners.create_partner(
            name=name, tier=tier, timezone=timezone, owner_id=managers[index]["id"], now=utcnow()
        )
        users = []
        for n in (1, 2):
            user = accounts.create_user(
                email=f"user{n}@partner{partner.id}.soak.example", name=f"{name} user {n}",
                role="partner", partner_id=partner.id, password=PASSWORD, now=utcnow(),
            )  # fmt: skip
            users.append({"id": user.id, "token": _token(user)})
        seeded.append({"id": partner.id, "users": users})
    return {"managers": managers, "partners": seeded}


if __name__ == "__main__":
    with create_app().app_context():
        print(json.dumps(seed()))
