"""Demo history in bulk: partners, people and years of conflicts, fast, with the values the
services would have written.

People and partners go through the services. The history (conflicts in every state, their
event trail, SLA pauses, ratings and the trust ledger with its tallies) is inserted in
bulk: clocks, deadlines and states come from tracker.domain.clock, trust weights from
tracker.domain.trust, tallies from replaying those weights in order, and every timeline
and ledger entry is linked into its audit chain with tracker.domain.audit_chain. Used by
`flask demo generate` and by the benchmarks.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import multiprocessing
import operator
import os
import random
import secrets
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Table, func, insert, select, text, update
from sqlalchemy.dialects import sqlite as sqlite_dialect

from tracker.database import refresh_statistics
from tracker.domain import audit_chain as chain
from tracker.domain import clock, workflow
from tracker.domain import escalation as esc
from tracker.domain import trust as trust_model
from tracker.domain.accounts import ADMIN, MANAGER, PARTNER, TIERS
from tracker.domain.calendar import add_business_time, business_time_between
from tracker.domain.text import N_
from tracker.extensions import db
from tracker.models import (
    ChainHead,
    Conflict,
    ConflictEvent,
    Partner,
    Rating,
    SlaPause,
    TrustEvent,
    TrustHistory,
    TrustScore,
)
from tracker.models.conflict import INTERNAL, PUBLIC
from tracker.models.types import UTCDateTime
from tracker.services import accounts, count_rebuild, reports, search_index, sla
from tracker.services import partners as partner_service
from tracker.services import trust as trust_service
from tracker.services.errors import InvalidInput

PASSWORD = "demo-history-2026"  # noqa: S105  (generated accounts; the README says so)
HISTORY_DAYS = 730
# European offices share one business day, so a benchmark's "now" is inside it for everyone.
OFFICES = (
    ("Europe/Berlin", "DE"),
    ("Europe/Paris", "FR"),
    ("Europe/Amsterdam", "NL"),
    ("Europe/Madrid", "ES"),
    ("Europe/Vienna", "AT"),
)
NAME_FIRST = (
    "Northwind",
    "Bluefin",
    "Kestrel",
    "Harbor",
    "Alpine",
    "Cobalt",
    "Meridian",
    "Juniper",
    "Granite",
    "Solstice",
)
NAME_SECOND = ("Logistics", "Systems", "Components", "Partners", "Retail")
SEVERITY_MIX = (("low", 3), ("medium", 5), ("high", 3), ("critical", 1))
TITLES = {
    "payment_terms": "Invoice {n} paid outside the agreed terms",
    "delivery": "Shipment {n} arrived late at the customer site",
    "communication": "No answer to escalation mail {n}",
    "contract": "Rebate clause {n} read differently by both sides",
    "quality": "Batch {n} failed incoming inspection",
    "customer_handover": "Customer {n} handed over without the order history",
    "other": "Shared forecast {n} missing for the quarter",
}


# --- people and partners, through the services -------------------------------------------


@dataclass
class PartnerInfo:
    id: int
    name: str
    user_id: int
    user_email: str
    owner_id: int
    policy: clock.Policy
    policy_id: int | None
    snapshot: dict[str, Any]

    def __reduce__(self):  # type: ignore[no-untyped-def]
        # To a builder process: the agreement as its stored snapshot (a Policy holds
        # read-only mappings, which do not pickle), parsed again on arrival.
        fields = (self.id, self.name, self.user_id, self.user_email, self.owner_id)
        return (_partner_info, (*fields, self.policy_id, self.snapshot))


def _partner_info(*values: Any) -> PartnerInfo:
    *head, policy_id, snapshot = values
    return PartnerInfo(*head, clock.Policy.from_json(snapshot), policy_id, snapshot)


@dataclass
class Cast:
    admin_id: int
    manager_ids: list[int]
    manager_email: str
    partners: list[PartnerInfo]
    password: str = PASSWORD


def create_cast(partner_count: int, now: datetime, *, domain: str = "bench.example") -> Cast:
    """An admin, three alliance managers, and partners with one user each (services only)."""
    admin = accounts.create_user(
        email=f"admin@{domain}", name="Ada Admin", role=ADMIN, now=now, password=PASSWORD
    )
    managers = [
        accounts.create_user(
            email=f"manager{i + 1}@{domain}",
            name=f"Manager {i + 1}",
            role=MANAGER,
            now=now,
            password=PASSWORD,
        )
        for i in range(3)
    ]
    infos = []
    for i in range(partner_count):
        first, second = NAME_FIRST[i % len(NAME_FIRST)], NAME_SECOND[i // len(NAME_FIRST) % 5]
        timezone, country = OFFICES[i % len(OFFICES)]
        partner = partner_service.create_partner(
            name=f"{first} {second} {i + 1:02d}",
            tier=TIERS[i % len(TIERS)],
            timezone=timezone,
            country=country,
            owner_id=managers[i % len(managers)].id,
            now=now,
        )
        user = accounts.create_user(
            email=f"ops@partner{i + 1:02d}.example",
            name=f"Ops lead {i + 1:02d}",
            role=PARTNER,
            partner_id=partner.id,
            now=now,
            password=PASSWORD,
        )
        row = sla.policy_row_for(partner)
        policy = sla.policy_from_row(row, partner)
        infos.append(
            PartnerInfo(
                id=partner.id,
                name=partner.name,
                user_id=user.id,
                user_email=user.email,
                owner_id=partner.owner_id,
                policy=policy,
                policy_id=row.id if row else None,
                snapshot=policy.to_json(),
            )
        )
    return Cast(
        admin_id=admin.id,
        manager_ids=[m.id for m in managers],
        manager_email=managers[0].email,
        partners=infos,
    )


# --- history, in bulk --------------------------------------------------------------------


@dataclass
class HistoryCounts:
    closed: int = 0
    active: int = 0
    conflict_events: int = 0
    sla_pauses: int = 0
    ratings: int = 0
    trust_events: int = 0
    trust_scores: int = 0
    trust_history: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass
class _Rows:
    conflicts: list[dict[str, Any]] | _Encoded = field(default_factory=list)
    events: list[dict[str, Any]] | _Encoded = field(default_factory=list)
    pauses: list[dict[str, Any]] | _Encoded = field(default_factory=list)
    ratings: list[dict[str, Any]] | _Encoded = field(default_factory=list)
    trust: list[dict[str, Any]] = field(default_factory=list)


def _hours(low: float, high: float, rng: random.Random) -> timedelta:
    return timedelta(hours=rng.uniform(low, high))


# The chain's canonical form (tracker.domain.audit_chain.canonical) for content that is
# already plain (text, numbers, flat dicts, times spelled by _rfc3339): the same bytes
# without its generic walk over every value, which was a quarter of the build.
# tests/test_demo_generate.py checks both agree and that every generated chain verifies.
_CANONICAL = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
).encode


def _rfc3339(moment: datetime) -> str:
    """chain.rfc3339, by isoformat (the strftime it uses costs three times as much)."""
    if moment.tzinfo is not UTC:
        return chain.rfc3339(moment)  # another zone (or naive: refused there)
    return moment.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def _link(prev_hash: str, seq: int, content: dict[str, Any]) -> chain.Link:
    """chain.append for plain content whose place is `seq`."""
    digest = hashlib.sha256(_CANONICAL(content).encode("utf-8")).hexdigest()
    return chain.Link(seq, prev_hash, chain.link_hash(prev_hash, digest))


def _business_seconds(start: datetime, end: datetime, policy: clock.Policy) -> int:
    return int(business_time_between(start, end, policy.calendar).total_seconds())


_TRUST_FACTS = (
    "triage_business_seconds",
    "resolution_business_seconds",
    "resolution_wall_seconds",
    "target_seconds",
    "sla_met",
    "overrun_seconds",
    "accountable_side",
)
CONTACT_KINDS = ("submitted", "comment", "reply")  # what services.trust.touch_contact follows


class _Trail:
    """One conflict's rows besides its own: events, pauses, rating and trust events."""

    def __init__(self, row: dict[str, Any], p: PartnerInfo, salt_key: str) -> None:
        self.row, self.p, self.salt_key = row, p, salt_key
        self.id, self.severity = row["id"], row["severity"]
        self.events: list[dict[str, Any]] = []
        self.pauses: list[dict[str, Any]] = []
        self.ratings: list[dict[str, Any]] = []
        self.trust: list[dict[str, Any]] = []
        data = {"title": row["title"], "category": row["category"], "severity": row["severity"]}
        self.event(p.user_id, row["created_at"], "submitted", body=row["description"], data=data)

    def event(
        self,
        actor_id: int | None,
        at: datetime,
        kind: str,
        *,
        visibility: str = PUBLIC,
        body: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        """An event, as services.timeline.record() writes it (it touches updated_at)."""
        self.row["updated_at"] = at
        values = {
            "actor_id": actor_id,
            "created_at": at,
            "kind": kind,
            "visibility": visibility,
            "body": body,
            "data": data,
        }
        seq = self.row.get("chain_seq", 0)
        head = chain.Link(seq, chain.GENESIS, self.row.get("chain_hash") or chain.GENESIS)
        salt = self._salt(seq + 1) if chain.is_salted(visibility) else None
        link = chain.append(
            head,
            chain.conflict_event_content(conflict_id=self.id, seq=seq + 1, salt=salt, **values),
        )
        self.row["chain_seq"], self.row["chain_hash"] = link.seq, link.hash
        self.events.append(
            {
                "conflict_id": self.id,
                **values,
                "chain_seq": link.seq,
                "prev_hash": link.prev_hash,
                "hash": link.hash,
                "chain_salt": salt,
            }
        )

    def _salt(self, seq: int) -> str:
        """An internal event's salt: random (the chunk's secret key) yet the same in any
        builder process, so the rows do not depend on the number of workers."""
        message = f"{self.id}:{seq}".encode()
        digest = hmac.new(bytes.fromhex(self.salt_key), message, "sha256").hexdigest()
        return digest[: chain.SALT_BYTES * 2]

    def step(
        self,
        actor_id: int | None,
        at: datetime,
        action: str,
        to: str,
        *,
        body: str | None = None,
        **extra: Any,
    ) -> None:
        """A workflow action, recorded as services.conflicts.act() records it."""
        data = {"from": self.row["status"], "to": to, "action": action, **extra}
        self.row["status"] = to
        self.event(actor_id, at, "status_changed", body=body, data=data)

    def pause(self, start: datetime, end: datetime | None, business: int | None) -> None:
        self.pauses.append(
            {
                "conflict_id": self.id,
                "started_at": start,
                "ended_at": end,
                "started_by_id": self.p.owner_id,
                "ended_by_id": self.p.user_id if end else None,
                "reason": "Could you send the signed delivery notes?",
                "business_seconds": business,
            }
        )

    def fact(
        self,
        side: str,
        kind: str,
        at: datetime,
        *,
        evidence: trust_model.Evidence | None = None,
        explanation: str | None = None,
        facts: dict[str, Any] | None = None,
    ) -> None:
        """A trust ledger entry, as services.trust.record() writes it."""
        row = {
            "partner_id": self.p.id,
            "conflict_id": self.id,
            "side": side,
            "kind": kind,
            "at": at,
            "severity": self.severity,
            "weight": evidence.weight if evidence else 0.0,
            "rule": evidence.rule if evidence else kind,
            "explanation": (explanation or (evidence.explanation if evidence else kind))[:300],
        }
        row.update({name: (facts or {}).get(name) for name in _TRUST_FACTS})
        self.trust.append(row)


def _sla_columns(
    policy: clock.Policy,
    severity: str,
    created: datetime,
    now: datetime,
    *,
    triage_stopped_at: datetime | None,
    resolution: clock.Clock,
    resolved_at: datetime | None = None,
) -> dict[str, Any]:
    """The clock columns as services.sla.refresh() leaves them (no escalation fired yet)."""
    calendar = policy.calendar
    targets = policy.targets_for(severity)
    if triage_stopped_at is None:
        triage = clock.Clock(target=targets.triage, running_since=created)
    else:
        spent = business_time_between(created, triage_stopped_at, calendar)
        triage = clock.Clock(target=targets.triage, spent=spent, stopped_at=triage_stopped_at)
    triage_due = add_business_time(created, targets.triage, calendar)
    resolution_due = clock.due_at(resolution, calendar)
    states = [
        clock.state(triage, now, calendar, policy.warning_percent),
        clock.state(resolution, now, calendar, policy.warning_percent),
    ]
    dues = [d for d in (None if triage.stopped else triage_due, resolution_due) if d]
    checks = []
    for value in (triage, resolution):
        moments = esc.level_moments(value, policy, calendar)
        if moments:
            checks.append(max(moments[0].at, now))
    if resolved_at is not None:
        checks.append(resolved_at + workflow.AUTO_CLOSE_AFTER)
    return {
        "triage_target_seconds": int(targets.triage.total_seconds()),
        "triage_due_at": triage_due,
        "triage_stopped_at": triage_stopped_at,
        "resolution_target_seconds": int(resolution.target.total_seconds()),
        "resolution_spent_seconds": int(resolution.spent.total_seconds()),
        "resolution_running_since": resolution.running_since,
        "resolution_stopped_at": resolution.stopped_at,
        "resolution_due_at": resolution_due,
        "sla_state": clock.overall_state(states),
        "sla_due_at": min(dues) if dues else None,
        "next_check_at": min(checks) if checks else None,
    }


def _conflict_row(
    conflict_id: int, p: PartnerInfo, created: datetime, severity: str, category: str
) -> dict[str, Any]:
    title = TITLES[category].format(n=f"#{conflict_id:05d}")
    return {
        "id": conflict_id,
        "ref": workflow.reference(created.year, conflict_id),
        "partner_id": p.id,
        "created_by_id": p.user_id,
        "assignee_id": None,
        "title": title,
        "description": f"{title}. The details and documents were shared by email; "
        "please confirm the agreed terms and the next step.",
        "category": category,
        "reported_severity": severity,
        "severity": severity,
        "status": workflow.OPEN,
        "created_at": created,
        "updated_at": created,
        "triaged_at": None,
        "resolved_at": None,
        "closed_at": None,
        "resolution_summary": None,
        "root_cause": None,
        "accountable_side": None,
        "close_reason": None,
        "reopen_count": 0,
        "repeat_of_id": None,
        "sla_policy_id": p.policy_id,
        "sla_snapshot": p.snapshot,
        "resolution_wall_seconds": 0,
        "partner_wait_seconds": 0,
        "resolution_cycle": 1,
        "escalation_level": None,
    }


class _HistoryBuilder:
    """Turns (created, kind, partner) specs into rows; keeps what the tallies need."""

    def __init__(
        self,
        now: datetime,
        trust_events_per_closed: int,
        rng: random.Random,
        weights: trust_model.TrustWeights,
        salt_key: str,
    ) -> None:
        self.now = now
        self.rng = rng
        self.salt_key = salt_key
        # A closed loop has about three trust events of its own; waits on the partner add one.
        self.extra_waits = trust_events_per_closed - 3
        self.weights = weights
        self.last_by_partner: dict[int, int] = {}
        self.last_contact: dict[int, datetime] = {}
        self.rows = _Rows()

    def _start(self, conflict_id: int, p: PartnerInfo, created: datetime) -> _Trail:
        names, weights = zip(*SEVERITY_MIX, strict=True)
        severity = self.rng.choices(names, weights)[0]
        category = self.rng.choice(list(workflow.CATEGORIES))
        row = _conflict_row(conflict_id, p, created, severity, category)
        return _Trail(row, p, self.salt_key)

    def _waits(self) -> int:
        if self.extra_waits <= 0:
            return int(self.rng.random() < 0.35)
        return max(0, self.extra_waits + self.rng.randint(-1, 1))

    def closed(self, conflict_id: int, p: PartnerInfo, created: datetime) -> None:
        """A whole loop: triage, waits on the partner, resolution, maybe a dispute, acceptance."""
        rng, weights, policy = self.rng, self.weights, p.policy
        trail = self._start(conflict_id, p, created)
        row, severity = trail.row, trail.severity
        targets = policy.targets_for(severity)
        triaged = created + _hours(0.2, 6, rng)
        trail.step(p.owner_id, triaged, "triage", workflow.TRIAGED, severity_now=severity)
        t = triaged + _hours(0.5, 4, rng)
        trail.event(p.owner_id, t, "reply", body="Thanks, we are on it; an update follows today.")
        if rng.random() < 0.3:
            trail.event(
                p.owner_id,
                t,
                "internal_note",
                visibility=INTERNAL,
                body="Checked with finance: the terms support the partner.",
            )
        waited, waited_wall = 0, timedelta(0)
        for _ in range(self._waits()):
            start = t + _hours(0.5, 6, rng)
            t = start + _hours(2, 30, rng)
            business = _business_seconds(start, t, policy)
            trail.pause(start, t, business)
            trail.step(
                p.owner_id,
                start,
                "wait_on_partner",
                workflow.WAITING_ON_PARTNER,
                body="Could you send the signed delivery notes?",
            )
            trail.event(p.user_id, t, "comment", body="Sent them just now.")
            trail.step(None, t, "resume", workflow.TRIAGED, automatic=True)
            evidence = trust_model.partner_wait_evidence(
                severity, timedelta(seconds=business), policy.response_expectation, weights
            )
            trail.fact(trust_model.SIDE_RESPONSIVENESS, "partner_answered", t, evidence=evidence)
            waited += business
            waited_wall += t - start
        resolved = t + _hours(2, 40, rng)
        spent = _business_seconds(created, resolved, policy) - waited
        wall = int((resolved - created - waited_wall).total_seconds())
        target = int(targets.resolution.total_seconds())
        row.update(
            resolution_summary="Credited the difference and corrected the terms in billing.",
            root_cause=rng.choice(list(workflow.ROOT_CAUSES)),
            accountable_side=rng.choice(list(workflow.ACCOUNTABLE_SIDES)),
        )
        triage_business = _business_seconds(created, triaged, policy)
        if triage_business > targets.triage.total_seconds():
            at = add_business_time(created, targets.triage, policy.calendar)
            trail.fact(
                trust_model.SIDE_DELIVERY,
                "breached",
                at,
                explanation=trust_model.breach_fact("triage"),
            )

        def resolve(at: datetime) -> dict[str, Any]:
            trail.step(
                p.owner_id,
                at,
                "resolve",
                workflow.RESOLVED,
                body=row["resolution_summary"],
                root_cause=row["root_cause"],
                accountable_side=row["accountable_side"],
            )
            facts = {
                "triage_business_seconds": triage_business,
                "resolution_business_seconds": spent,
                "resolution_wall_seconds": wall,
                "target_seconds": target,
                "sla_met": spent <= target,
                "overrun_seconds": max(0, spent - target),
                "accountable_side": row["accountable_side"],
            }
            trail.fact(
                trust_model.SIDE_DELIVERY,
                "resolved",
                at,
                facts=facts,
                explanation="resolved; weighed when the partner closes the loop",
            )
            return facts

        facts = resolve(resolved)
        if rng.random() < 0.12:
            disputed = resolved + _hours(2, 24, rng)
            trail.step(
                p.user_id,
                disputed,
                "dispute",
                workflow.TRIAGED,
                body="This does not settle it yet.",
            )
            trail.fact(
                trust_model.SIDE_DELIVERY,
                "disputed",
                disputed,
                evidence=trust_model.dispute_evidence(severity, weights),
            )
            row["reopen_count"], row["resolution_cycle"] = 1, 2
            resolved = disputed + _hours(2, 24, rng)
            spent += _business_seconds(disputed, resolved, policy)
            wall += int((resolved - disputed).total_seconds())
            facts = resolve(resolved)
        if spent > target:
            at = min(resolved, add_business_time(created, targets.resolution, policy.calendar))
            trail.fact(
                trust_model.SIDE_DELIVERY,
                "breached",
                at,
                explanation=trust_model.breach_fact("resolution"),
            )
        automatic = rng.random() < 0.05
        closed = resolved + (workflow.AUTO_CLOSE_AFTER if automatic else _hours(1, 72, rng))
        action, reason = ("auto_close", "auto_accepted") if automatic else ("accept", "accepted")
        trail.step(None if automatic else p.user_id, closed, action, workflow.CLOSED)
        evidence = trust_model.resolution_evidence(
            severity, timedelta(seconds=spent), targets.resolution, weights
        )
        trail.fact(trust_model.SIDE_DELIVERY, reason, closed, evidence=evidence, facts=facts)
        if not automatic and rng.random() < 0.5:
            stars = min(5, max(1, round(rng.gauss(4, 0.9))))
            rated = closed + _hours(0.5, 48, rng)
            trail.ratings.append(
                {
                    "conflict_id": conflict_id,
                    "user_id": p.user_id,
                    "stars": stars,
                    "comment": None,
                    "created_at": rated,
                }
            )
            trail.fact(
                trust_model.SIDE_DELIVERY,
                "rated",
                rated,
                evidence=trust_model.rating_evidence(stars, weights),
            )
        resolution = clock.Clock(
            target=targets.resolution, spent=timedelta(seconds=spent), stopped_at=resolved
        )
        row.update(
            _sla_columns(
                policy,
                severity,
                created,
                self.now,
                triage_stopped_at=triaged,
                resolution=resolution,
            ),
            assignee_id=p.owner_id,
            triaged_at=triaged,
            resolved_at=resolved,
            closed_at=closed,
            close_reason=reason,
            resolution_wall_seconds=wall,
            partner_wait_seconds=waited,
        )
        earlier = self.last_by_partner.get(p.id)
        if earlier is not None and rng.random() < 0.03:
            row["repeat_of_id"] = earlier
        self._keep(trail)

    def active(self, conflict_id: int, p: PartnerInfo, created: datetime, kind: str) -> None:
        """A conflict still in the queue, not due for the sweep (its next look is later)."""
        rng, policy, now = self.rng, p.policy, self.now
        trail = self._start(conflict_id, p, created)
        row, severity = trail.row, trail.severity
        targets = policy.targets_for(severity)
        triaged = resolved = None
        resolution = clock.Clock(target=targets.resolution, running_since=created)
        if kind != "open":
            triaged = created + (now - created) * rng.uniform(0.02, 0.3)
            trail.step(p.owner_id, triaged, "triage", workflow.TRIAGED, severity_now=severity)
        if kind == "waiting":
            start = triaged + (now - triaged) * rng.uniform(0.1, 0.9)
            resolution = clock.pause(resolution, start, policy.calendar)
            trail.pause(start, None, None)
            trail.step(
                p.owner_id,
                start,
                "wait_on_partner",
                workflow.WAITING_ON_PARTNER,
                body="Could you send the signed delivery notes?",
            )
        if kind == "resolved":
            resolved = created + (now - created) * rng.uniform(0.6, 0.95)
            resolution = clock.stop(resolution, resolved, policy.calendar)
            row.update(
                resolution_summary="Re-sent the documents and confirmed receipt.",
                root_cause="process_gap",
                accountable_side="shared",
                resolution_wall_seconds=int((resolved - created).total_seconds()),
            )
            trail.step(
                p.owner_id,
                resolved,
                "resolve",
                workflow.RESOLVED,
                body=row["resolution_summary"],
                root_cause="process_gap",
                accountable_side="shared",
            )
            trail.fact(
                trust_model.SIDE_DELIVERY,
                "resolved",
                resolved,
                explanation="resolved; weighed when the partner closes the loop",
            )
        columns = _sla_columns(
            policy,
            severity,
            created,
            now,
            triage_stopped_at=triaged,
            resolution=resolution,
            resolved_at=resolved,
        )
        if columns["next_check_at"] is not None and columns["next_check_at"] <= now:
            raise RuntimeError(f"bench fixture made conflict {conflict_id} due; narrow its window")
        row.update(
            columns,
            triaged_at=triaged,
            resolved_at=resolved,
            assignee_id=p.owner_id if triaged else None,
        )
        self._keep(trail)

    def _keep(self, trail: _Trail) -> None:
        self.rows.conflicts.append(trail.row)
        self.rows.events += trail.events
        self.rows.pauses += trail.pauses
        self.rows.ratings += trail.ratings
        self.rows.trust += trail.trust
        self.last_by_partner[trail.p.id] = trail.id
        contacts = [e["created_at"] for e in trail.events if e["kind"] in CONTACT_KINDS]
        if contacts:
            known = self.last_contact.get(trail.p.id, contacts[0])
            self.last_contact[trail.p.id] = max(known, *contacts)


def _link_trust(rows: list[dict[str, Any]], heads: dict[int, chain.Link]) -> None:
    """Chain the ledger rows in insertion order, as services.audit_chain links them."""
    for row in rows:
        head = heads.get(row["partner_id"], chain.Link(0, chain.GENESIS, chain.GENESIS))
        content = {name: row.get(name) for name in chain.TRUST_FACTS}
        if content["weight"] is not None:
            content["weight"] = float(content["weight"])
        seq = head.seq + 1
        content.update(chain=f"trust:{row['partner_id']}", seq=seq, at=_rfc3339(row["at"]))
        link = _link(head.hash, seq, content)
        heads[row["partner_id"]] = link
        row.update(chain_seq=link.seq, prev_hash=link.prev_hash, hash=link.hash)


def _active_created(kind: str, now: datetime, rng: random.Random) -> datetime:
    """Windows in which an active conflict of this kind cannot yet have reached a level."""
    if kind == "open":
        return now - timedelta(minutes=rng.uniform(1, 30))
    if kind == "triaged":
        return now - timedelta(minutes=rng.uniform(5, 150))
    if kind == "waiting":
        return now - _hours(4, 240, rng)
    return now - _hours(8, 150, rng)  # resolved within the week: auto-close still ahead


ACTIVE_KINDS = (("open", 2), ("triaged", 4), ("waiting", 2), ("resolved", 2))


def plan(
    closed: int, active: int, partners: int, now: datetime, history_days: int, rng: random.Random
) -> list[tuple[datetime, str, int]]:
    """(raised at, kind, partner index) of every conflict to build, oldest first."""
    kinds, kind_weights = zip(*ACTIVE_KINDS, strict=True)
    specs: list[tuple[datetime, str, int]] = []
    oldest = now - timedelta(days=history_days)
    for _ in range(closed):
        created = oldest + timedelta(seconds=rng.uniform(0, max(1, history_days - 30) * 86_400))
        specs.append((created, "closed", rng.randrange(partners)))
    for _ in range(active):
        kind = rng.choices(kinds, kind_weights)[0]
        specs.append((_active_created(kind, now, rng), kind, rng.randrange(partners)))
    specs.sort()
    return specs


@dataclass(frozen=True)
class _Chunk:
    """One slice of the history to build: everything a builder process needs, no database."""

    number: int
    first_id: int
    specs: list[tuple[datetime, str, int]]
    partners: list[PartnerInfo]
    now: datetime
    trust_events_per_closed: int
    half_life: timedelta  # the weights are rebuilt from it (they hold read-only mappings)
    seed: int
    encode_for: str | None = None  # "sqlite": rows leave the builder as the driver takes them
    # Internal events' salts derive from it: secret (not from the seed), one per chunk.
    salt_key: str = field(default_factory=lambda: secrets.token_hex(chain.SALT_BYTES))


def _build(chunk: _Chunk) -> tuple[_Rows, dict[int, datetime]]:
    """The rows of one chunk (in a builder process, or in this one): pure computation."""
    rng = random.Random(chunk.seed * 1_000_003 + chunk.number)
    weights = trust_model.TrustWeights(half_life=chunk.half_life)
    builder = _HistoryBuilder(
        chunk.now, chunk.trust_events_per_closed, rng, weights, chunk.salt_key
    )
    for offset, (created, kind, index) in enumerate(chunk.specs):
        p = chunk.partners[index]
        if kind == "closed":
            builder.closed(chunk.first_id + offset, p, created)
        else:
            builder.active(chunk.first_id + offset, p, created, kind)
    return builder.rows, builder.last_contact


def _build_for_writer(chunk: _Chunk) -> tuple[_Rows, dict[int, datetime]]:
    """_build, and on SQLite the rows turned into driver values here, in the builder
    process: SQLAlchemy's per-value processing in the writer was its largest cost. The
    trust ledger stays as dicts: the writer links its chains, which run across chunks."""
    rows, contacts = _build(chunk)
    if chunk.encode_for == "sqlite":
        rows.conflicts = _Encoded.of(Conflict.__table__, rows.conflicts)
        rows.events = _Encoded.of(ConflictEvent.__table__, rows.events)
        rows.pauses = _Encoded.of(SlaPause.__table__, rows.pauses)
        rows.ratings = _Encoded.of(Rating.__table__, rows.ratings)
    return rows, contacts


@dataclass
class _Encoded:
    """A table's rows as the SQLite driver takes them: the column names, a tuple a row."""

    table: str
    columns: tuple[str, ...]
    values: list[tuple[Any, ...]]

    def __len__(self) -> int:
        return len(self.values)

    @classmethod
    def of(cls, table: Table, rows: list[dict[str, Any]]) -> _Encoded:
        columns = tuple(rows[0]) if rows else ()
        encoders = list(enumerate(_sqlite_encoders(table, columns)))
        encoded = [i for i, e in encoders if e is not None]
        pick = operator.itemgetter(*columns) if len(columns) > 1 else None
        values = []
        for row in rows:
            if len(row) != len(columns):
                raise ValueError(f"{table.name}: rows with different columns in one batch")
            value = list(pick(row)) if pick else [row[columns[0]]]
            for i in encoded:
                value[i] = encoders[i][1](value[i])  # a JSON None is stored as 'null'
            values.append(tuple(value))
        return cls(table.name, columns, values)

    def write(self) -> None:
        if not self.values:
            return
        marks = ", ".join("?" * len(self.columns))
        names = ", ".join(self.columns)
        db.session.connection().exec_driver_sql(
            f"INSERT INTO {self.table} ({names}) VALUES ({marks})",  # noqa: S608 - model names
            self.values,
        )


def _sqlite_time(moment: datetime | None) -> str | None:
    """What UTCDateTime and SQLite's DATETIME store: naive UTC, always with microseconds."""
    if moment is None:
        return None
    if moment.tzinfo is not UTC:
        if moment.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; pass an aware datetime")
        moment = moment.astimezone(UTC)
    return moment.replace(tzinfo=None).isoformat(" ", "microseconds")


def _sqlite_encoders(table: Table, columns: tuple[str, ...]) -> list[Callable | None]:
    """Each column's bind processing as SQLAlchemy does it on SQLite (UTC times by the
    shortcut above, which the tests compare with it); None where values go as they are."""
    dialect = sqlite_dialect.dialect()
    encoders: list[Callable | None] = []
    for name in columns:
        column_type = table.c[name].type
        if isinstance(column_type, UTCDateTime):
            encoders.append(_sqlite_time)
        else:
            encoders.append(column_type.dialect_impl(dialect).bind_processor(dialect))
    return encoders


def insert_history(
    cast: Cast,
    *,
    closed: int,
    active: int,
    now: datetime,
    trust_events_per_closed: int,
    seed: int,
    chunk: int = 2_000,
    history_days: int = HISTORY_DAYS,
    progress: Callable[[int, int], None] | None = None,
    workers: int | None = None,
) -> HistoryCounts:
    """`closed` finished loops over the last `history_days` and `active` conflicts, none due.

    Conflicts get ids in the order they were raised; events, pauses, ratings and trust
    events follow them. Then the trust tallies and daily history are replayed from the
    ledger, as services.trust.record() would have kept them. Commits.

    Building rows is pure computation, done chunk by chunk in `workers` builder processes
    (default: one per CPU for large histories) while this process writes; the trust chains,
    which run across chunks, are linked here in order. The result does not depend on the
    number of workers.
    """
    specs = plan(closed, active, len(cast.partners), now, history_days, random.Random(seed))
    first_id = (db.session.scalar(select(func.max(Conflict.id))) or 0) + 1
    half_life = trust_service.weights().half_life
    encode_for = "sqlite" if db.engine.dialect.name == "sqlite" else None
    chunks = [
        _Chunk(number, first_id + start, specs[start : start + chunk], cast.partners, now,
               trust_events_per_closed, half_life, seed, encode_for)
        for number, start in enumerate(range(0, len(specs), chunk))
    ]  # fmt: skip
    if workers is None:
        workers = min(os.cpu_count() or 1, 4) if len(specs) >= 50_000 else 1
    counts = HistoryCounts(closed=closed, active=active)
    weighted: dict[tuple[int, str], list[tuple[datetime, float]]] = defaultdict(list)
    trust_heads: dict[int, chain.Link] = {}
    last_contact: dict[int, datetime] = {}
    done = 0
    with _bulk_load(), _builders(workers) as build:
        for rows, contacts in build(chunks):
            _write(rows, trust_heads)
            counts.conflict_events += len(rows.events)
            counts.sla_pauses += len(rows.pauses)
            counts.ratings += len(rows.ratings)
            counts.trust_events += len(rows.trust)
            for item in rows.trust:
                if item["weight"]:
                    key = (item["partner_id"], item["side"])
                    weighted[key].append((item["at"], item["weight"]))
            for partner_id, at in contacts.items():
                last_contact[partner_id] = max(at, last_contact.get(partner_id, at))
            done += len(rows.conflicts)
            if progress is not None:
                progress(done, len(specs))
    counts.trust_scores, counts.trust_history = _insert_tallies(weighted)
    if trust_heads:
        db.session.execute(
            insert(ChainHead.__table__),
            [
                {"chain": chain.trust_chain(partner_id), "seq": head.seq, "hash": head.hash}
                for partner_id, head in trust_heads.items()
            ],
        )
    if db.engine.dialect.name == "postgresql":  # explicit ids: move the sequence past them
        db.session.execute(
            text("SELECT setval(pg_get_serial_sequence('conflicts', 'id'), max(id)) FROM conflicts")
        )
    for partner_id, at in last_contact.items():
        db.session.execute(
            update(Partner).where(Partner.id == partner_id).values(last_contact_at=at)
        )
    db.session.commit()
    return counts


BULK_TABLES = ("conflicts", "conflict_events", "trust_events")


@contextmanager
def _bulk_load() -> Iterator[None]:
    """On SQLite, while the history goes in: the big tables' secondary indexes dropped and
    built again at the end (one sort each instead of a random B-tree insert per row and
    index), no fsync per commit and a large page cache. A crash mid-load leaves a database
    to generate again anyway; the indexes come back even when the load fails."""
    if db.engine.dialect.name != "sqlite":
        yield
        return

    def run(sql: str) -> Any:
        return db.session.connection().exec_driver_sql(sql)

    indexes = db.session.execute(
        text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            "AND tbl_name IN (:a, :b, :c)"
        ),
        dict(zip("abc", BULK_TABLES, strict=True)),
    ).all()
    synchronous = run("PRAGMA synchronous").scalar()
    cache_size = run("PRAGMA cache_size").scalar()
    run("PRAGMA synchronous = OFF")
    run("PRAGMA cache_size = -262144")  # 256 MiB
    for name, _ in indexes:
        run(f'DROP INDEX "{name}"')
    db.session.commit()
    try:
        yield
    finally:
        db.session.rollback()
        for _, sql in indexes:
            run(sql)
        run(f"PRAGMA synchronous = {int(synchronous)}")
        run(f"PRAGMA cache_size = {int(cache_size)}")
        db.session.commit()


@contextmanager
def _builders(workers: int) -> Iterator[Callable[[list[_Chunk]], Iterator[tuple]]]:
    """Build chunks here, or in spawned processes (never forked: a forked child would hold
    this process's database connections), in order, a few chunks ahead of the writer."""
    if workers <= 1:
        yield lambda chunks: map(_build_for_writer, chunks)
        return
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        yield lambda chunks: pool.imap(_build_for_writer, chunks, chunksize=1)


def _write(rows: _Rows, trust_heads: dict[int, chain.Link]) -> None:
    """One chunk's rows, a statement per table, committed."""
    for model, batch in (
        (Conflict, rows.conflicts),
        (ConflictEvent, rows.events),
        (SlaPause, rows.pauses),
        (Rating, rows.ratings),
    ):
        if isinstance(batch, _Encoded):
            batch.write()
        elif batch:
            db.session.execute(insert(model.__table__), batch)
    if rows.trust:
        _link_trust(rows.trust, trust_heads)
        if isinstance(rows.conflicts, _Encoded):
            _Encoded.of(TrustEvent.__table__, rows.trust).write()
        else:
            db.session.execute(insert(TrustEvent.__table__), rows.trust)
    db.session.commit()


def _insert_tallies(
    weighted: dict[tuple[int, str], list[tuple[datetime, float]]],
) -> tuple[int, int]:
    """Replay each side's weights in order: the score row, and the tally at each day's end."""
    half_life = trust_service.weights().half_life
    scores, history = [], []
    for (partner_id, side), items in weighted.items():
        items.sort()
        tally = trust_model.TrustTally()
        days: dict[Any, trust_model.TrustTally] = {}
        for at, weight in items:
            tally = tally.add(weight, at, half_life)
            days[tally.as_of.astimezone(UTC).date()] = tally
        scores.append(
            {
                "partner_id": partner_id,
                "side": side,
                "r": tally.r,
                "s": tally.s,
                "as_of": tally.as_of,
                "events": len(items),
            }
        )
        history += [
            {
                "partner_id": partner_id,
                "side": side,
                "day": day,
                "r": t.r,
                "s": t.s,
                "as_of": t.as_of,
            }
            for day, t in days.items()
        ]
    if scores:
        db.session.execute(insert(TrustScore.__table__), scores)
    for start in range(0, len(history), 10_000):
        db.session.execute(insert(TrustHistory.__table__), history[start : start + 10_000])
    db.session.commit()
    return len(scores), len(history)


@dataclass(frozen=True)
class Generated:
    """What `generate` made: the people to sign in as, and the rows written."""

    cast: Cast
    counts: HistoryCounts
    domain: str

    def lines(self) -> list[str]:
        partner = self.cast.partners[0]
        return [
            f"partners {len(self.cast.partners):,}; conflicts {self.counts.closed:,} closed, "
            f"{self.counts.active:,} not closed",
            f"timeline entries {self.counts.conflict_events:,}, pauses {self.counts.sla_pauses:,}, "
            f"ratings {self.counts.ratings:,}, trust ledger {self.counts.trust_events:,}",
            f"sign in as {self.cast.manager_email} (manager) or {partner.user_email} "
            f"(partner {partner.name}), password {self.cast.password}",
        ]


GENERATED_DOMAIN = "generated.example"


def generate(
    *,
    partners: int,
    conflicts: int,
    open_share: float,
    history_days: int,
    now: datetime,
    seed: int = 20261202,
    progress: Callable[[int, int], None] | None = None,
) -> Generated:
    """A realistic volume of demo data, fast: `conflicts` over `partners` and `history_days`,
    `open_share` of them not closed (open, triaged, waiting on the partner, resolved).

    Refuses to run twice on one database (the generated accounts would clash)."""
    if not 1 <= partners <= 10_000:
        raise InvalidInput(N_("Choose between 1 and 10,000 partners."))
    if not 0 <= conflicts <= 10_000_000:
        raise InvalidInput(N_("Choose between 0 and 10,000,000 conflicts."))
    if not 0.0 <= open_share <= 1.0:
        raise InvalidInput(N_("The open share is a fraction between 0 and 1, e.g. 0.65."))
    if not 31 <= history_days <= 3650:
        raise InvalidInput(N_("Choose between 31 and 3,650 days of history."))
    if accounts.find_user_by_email(f"admin@{GENERATED_DOMAIN}") is not None:
        raise InvalidInput(
            N_("This database already holds generated data; generate into a fresh database.")
        )
    cast = create_cast(partners, now - timedelta(days=history_days + 70), domain=GENERATED_DOMAIN)
    active = round(conflicts * open_share)
    counts = insert_history(
        cast,
        closed=conflicts - active,
        active=active,
        now=now,
        trust_events_per_closed=3,
        seed=seed,
        history_days=history_days,
        progress=progress,
    )
    # What the consumers keep as conflicts move, for history that did not move: the search
    # index, and the report rollups and ETA counts from the ledger.
    search_index.index_missing()
    count_rebuild.rebuild(db.session.connection())
    count_rebuild.rebuild_trust_days(db.session.connection())
    db.session.commit()
    reports.close_window(now)  # as the scheduler's report_windows job would
    refresh_statistics(db.session)  # a bulk load: the planners need to know its shape now
    return Generated(cast, counts, GENERATED_DOMAIN)
