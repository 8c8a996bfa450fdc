"""Throw-away databases for the benchmarks: the real app and migrations, history in bulk.

People, partners and the few conflicts a benchmark acts on go through the services. The
history (tens of thousands of conflicts, their event trail, SLA pauses, ratings and the
trust ledger with its tallies) is inserted in bulk, with the column values the services
would have written: clocks, deadlines and states come from tracker.domain.clock, trust
weights from tracker.domain.trust, tallies from replaying those weights in order.
"""

from __future__ import annotations

import logging
import os
import random
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import Flask  # noqa: E402
from sqlalchemy import create_engine, event, func, insert, select, text, update  # noqa: E402
from sqlalchemy.engine import Engine, make_url  # noqa: E402

from config import TestConfig  # noqa: E402
from tracker import create_app  # noqa: E402
from tracker.domain import audit_chain as chain  # noqa: E402
from tracker.domain import (
    clock,  # noqa: E402
    workflow,  # noqa: E402
)
from tracker.domain import escalation as esc  # noqa: E402
from tracker.domain import trust as trust_model  # noqa: E402
from tracker.domain.accounts import ADMIN, MANAGER, PARTNER, TIERS  # noqa: E402
from tracker.domain.calendar import add_business_time, business_time_between  # noqa: E402
from tracker.extensions import db  # noqa: E402
from tracker.models import (  # noqa: E402
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
from tracker.models.conflict import INTERNAL, PUBLIC  # noqa: E402
from tracker.services import accounts, sla  # noqa: E402
from tracker.services import partners as partner_service  # noqa: E402
from tracker.services import trust as trust_service  # noqa: E402

DATABASE_URL_ENV = "TRACKER_BENCH_DATABASE_URL"
PASSWORD = "bench-password-2026"  # noqa: S105  (throw-away accounts in a throw-away database)
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


def log(message: str) -> None:
    """Progress goes to stderr, so the table on stdout stays clean."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- the database and the app ------------------------------------------------------------


def requested_database_url(cli_value: str | None) -> str | None:
    """--database-url, else TRACKER_BENCH_DATABASE_URL, else None (a temp SQLite file)."""
    return cli_value or os.environ.get(DATABASE_URL_ENV) or None


def _normalise(url: str) -> str:
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@contextmanager
def throwaway_database(server_url: str | None) -> Iterator[str]:
    """A private, empty database: a temp SQLite file, or a new database on that server."""
    if not server_url:
        with tempfile.TemporaryDirectory(prefix="trustomer-bench-") as tmp:
            yield f"sqlite:///{Path(tmp) / 'bench.db'}"
        return
    server = make_url(_normalise(server_url))
    if server.get_backend_name() != "postgresql":
        raise SystemExit(f"--database-url must be a PostgreSQL URL, got {server.drivername}")
    name = f"trustomer_bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def bench_config(database_url: str, upload_dir: str) -> TestConfig:
    config = TestConfig()
    config.SQLALCHEMY_DATABASE_URI = database_url
    config.UPLOAD_DIR = upload_dir
    config.WTF_CSRF_ENABLED = False  # the page benchmark posts the sign-in form directly
    config.LOG_LEVEL = "WARNING"  # no log line per request
    config.WEBHOOK_URL = ""
    config.ESCALATION_EMAIL = "alliance-escalations@bench.example"
    # As in production: notices wait out their window and are composed when delivered.
    config.MAIL_COALESCE_SECONDS = 120
    return config


@contextmanager
def bench_app(server_url: str | None) -> Iterator[Flask]:
    """The app on a freshly migrated throw-away database, removed again on exit."""
    from flask_migrate import upgrade

    with (
        throwaway_database(server_url) as database_url,
        tempfile.TemporaryDirectory(prefix="trustomer-bench-uploads-") as uploads,
    ):
        app = create_app(bench_config(database_url, uploads))
        with app.app_context():
            logging.disable(logging.INFO)  # alembic's per-migration lines
            try:
                upgrade()
            finally:
                logging.disable(logging.NOTSET)
        try:
            yield app
        finally:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


def dialect() -> str:
    return db.engine.dialect.name


def analyze_if_postgresql() -> None:
    """PostgreSQL's autovacuum would have analysed a table this size; SQLite never does."""
    if dialect() == "postgresql":
        db.session.execute(text("ANALYZE"))
        db.session.commit()


# --- SQL capture and query plans ---------------------------------------------------------


@dataclass
class Statement:
    sql: str
    parameters: Any
    seconds: float = 0.0


@contextmanager
def captured_statements(engine: Engine) -> Iterator[list[Statement]]:
    """Every statement `engine` runs inside the block, with its parameters and duration."""
    seen: list[Statement] = []

    def before(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        conn.info.setdefault("bench_started", []).append(time.perf_counter())

    def after(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        started = conn.info["bench_started"].pop()
        if not executemany:
            seen.append(Statement(statement, parameters, time.perf_counter() - started))

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)


def query_plan(statement: Statement) -> list[str]:
    """EXPLAIN QUERY PLAN (SQLite) or EXPLAIN (PostgreSQL) of a captured statement."""
    prefix = "EXPLAIN QUERY PLAN " if dialect() == "sqlite" else "EXPLAIN "
    connection = db.session.connection()
    rows = connection.exec_driver_sql(prefix + statement.sql, statement.parameters).all()
    db.session.rollback()
    if dialect() == "sqlite":
        return [row[-1] for row in rows]
    return [row[0] for row in rows]


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


@dataclass
class Cast:
    admin_id: int
    manager_ids: list[int]
    manager_email: str
    partners: list[PartnerInfo]
    password: str = PASSWORD


def create_cast(partner_count: int, now: datetime) -> Cast:
    """An admin, three alliance managers, and partners with one user each (services only)."""
    admin = accounts.create_user(
        email="admin@bench.example", name="Ada Admin", role=ADMIN, now=now, password=PASSWORD
    )
    managers = [
        accounts.create_user(
            email=f"manager{i + 1}@bench.example",
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
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    pauses: list[dict[str, Any]] = field(default_factory=list)
    ratings: list[dict[str, Any]] = field(default_factory=list)
    trust: list[dict[str, Any]] = field(default_factory=list)


def _hours(low: float, high: float, rng: random.Random) -> timedelta:
    return timedelta(hours=rng.uniform(low, high))


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

    def __init__(self, row: dict[str, Any], p: PartnerInfo) -> None:
        self.row, self.p = row, p
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
        link = chain.append(
            head, chain.conflict_event_content(conflict_id=self.id, seq=seq + 1, **values)
        )
        self.row["chain_seq"], self.row["chain_hash"] = link.seq, link.hash
        self.events.append(
            {
                "conflict_id": self.id,
                **values,
                "chain_seq": link.seq,
                "prev_hash": link.prev_hash,
                "hash": link.hash,
            }
        )

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

    def __init__(self, now: datetime, trust_events_per_closed: int, rng: random.Random) -> None:
        self.now = now
        self.rng = rng
        # A closed loop has about three trust events of its own; waits on the partner add one.
        self.extra_waits = trust_events_per_closed - 3
        self.weights = trust_service.weights()
        self.last_by_partner: dict[int, int] = {}
        self.last_contact: dict[int, datetime] = {}
        self.rows = _Rows()

    def _start(self, conflict_id: int, p: PartnerInfo, created: datetime) -> _Trail:
        names, weights = zip(*SEVERITY_MIX, strict=True)
        severity = self.rng.choices(names, weights)[0]
        category = self.rng.choice(list(workflow.CATEGORIES))
        return _Trail(_conflict_row(conflict_id, p, created, severity, category), p)

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
        content = chain.trust_event_content(
            partner_id=row["partner_id"], seq=head.seq + 1, at=row["at"], facts=row
        )
        link = chain.append(head, content)
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


def insert_history(
    cast: Cast,
    *,
    closed: int,
    active: int,
    now: datetime,
    trust_events_per_closed: int,
    seed: int,
    chunk: int = 2_000,
) -> HistoryCounts:
    """`closed` finished loops over the last two years and `active` conflicts, none due.

    Conflicts get ids in the order they were raised; events, pauses, ratings and trust
    events follow them. Then the trust tallies and daily history are replayed from the
    ledger, as services.trust.record() would have kept them. Commits.
    """
    rng = random.Random(seed)
    kinds, kind_weights = zip(*ACTIVE_KINDS, strict=True)
    specs: list[tuple[datetime, str, int]] = []
    oldest = now - timedelta(days=HISTORY_DAYS)
    for _ in range(closed):
        created = oldest + timedelta(seconds=rng.uniform(0, (HISTORY_DAYS - 30) * 86_400))
        specs.append((created, "closed", rng.randrange(len(cast.partners))))
    for _ in range(active):
        kind = rng.choices(kinds, kind_weights)[0]
        specs.append((_active_created(kind, now, rng), kind, rng.randrange(len(cast.partners))))
    specs.sort()
    first_id = (db.session.scalar(select(func.max(Conflict.id))) or 0) + 1
    builder = _HistoryBuilder(now, trust_events_per_closed, rng)
    counts = HistoryCounts(closed=closed, active=active)
    weighted: dict[tuple[int, str], list[tuple[datetime, float]]] = defaultdict(list)
    trust_heads: dict[int, chain.Link] = {}
    for start in range(0, len(specs), chunk):
        for offset, (created, kind, index) in enumerate(specs[start : start + chunk]):
            p = cast.partners[index]
            if kind == "closed":
                builder.closed(first_id + start + offset, p, created)
            else:
                builder.active(first_id + start + offset, p, created, kind)
        rows, builder.rows = builder.rows, _Rows()
        db.session.execute(insert(Conflict.__table__), rows.conflicts)
        db.session.execute(insert(ConflictEvent.__table__), rows.events)
        if rows.pauses:
            db.session.execute(insert(SlaPause.__table__), rows.pauses)
        if rows.ratings:
            db.session.execute(insert(Rating.__table__), rows.ratings)
        if rows.trust:
            _link_trust(rows.trust, trust_heads)
            db.session.execute(insert(TrustEvent.__table__), rows.trust)
        db.session.commit()
        counts.conflict_events += len(rows.events)
        counts.sla_pauses += len(rows.pauses)
        counts.ratings += len(rows.ratings)
        counts.trust_events += len(rows.trust)
        for item in rows.trust:
            if item["weight"]:
                weighted[(item["partner_id"], item["side"])].append((item["at"], item["weight"]))
        log(f"  inserted {min(start + chunk, len(specs)):,} of {len(specs):,} conflicts")
    counts.trust_scores, counts.trust_history = _insert_tallies(weighted)
    if trust_heads:
        db.session.execute(
            insert(ChainHead.__table__),
            [
                {"chain": chain.trust_chain(partner_id), "seq": head.seq, "hash": head.hash}
                for partner_id, head in trust_heads.items()
            ],
        )
    if dialect() == "postgresql":  # explicit ids: move the sequence past them
        db.session.execute(
            text("SELECT setval(pg_get_serial_sequence('conflicts', 'id'), max(id)) FROM conflicts")
        )
    for partner_id, at in builder.last_contact.items():
        db.session.execute(
            update(Partner).where(Partner.id == partner_id).values(last_contact_at=at)
        )
    db.session.commit()
    return counts


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


def timed(work: Callable[[], object]) -> tuple[float, object]:
    started = time.perf_counter()
    result = work()
    return time.perf_counter() - started, result
