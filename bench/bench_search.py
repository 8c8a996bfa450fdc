"""Benchmark search and similarity: how long one scoped, ranked query takes at 100k conflicts.

Usage: python bench/bench_search.py [--json PATH] [--database-url URL] [--sizes 1000,100000]
                                    [--runs 30] [--explain]

For each size N a fresh database gets N conflicts across 50 partners (bench/_fixtures.py)
and two to four comments each (one in four an internal note), words drawn from a fixed
vocabulary, inserted with Core bulk inserts and then indexed by the one statement the
services' rule is written as (`search_index.index_missing`). Each operation then runs in
process, in an app context, over a rotating set of queries: the manager queue's search
(page, total and passages) for common words, a rare word and a reference, a partner's list
search, the API's ranked page, and similar conflicts for a partner raising one and for a
manager on a conflict page. Reported: p50 and
p95 in ms per operation, the target (p95 under 50 ms), and the ratio to the smallest size.
SQLite by default; PostgreSQL with --database-url or TRACKER_BENCH_DATABASE_URL.
--explain: the plan of each operation's slowest statement (PostgreSQL: EXPLAIN ANALYZE),
on stderr and in the JSON.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import bindparam, func, insert, select, update  # noqa: E402

from bench._fixtures import (  # noqa: E402
    analyze_if_postgresql,
    bench_app,
    captured_statements,
    create_cast,
    dialect,
    insert_history,
    log,
    query_plan,
    requested_database_url,
)
from tracker.clock import utcnow  # noqa: E402
from tracker.domain import audit_chain as chain  # noqa: E402
from tracker.extensions import db  # noqa: E402
from tracker.models import Conflict, ConflictEvent, SearchEntry, User  # noqa: E402
from tracker.models.conflict import INTERNAL, PUBLIC  # noqa: E402
from tracker.process import freeze_startup_objects  # noqa: E402
from tracker.services import conflict_search, search_index  # noqa: E402
from tracker.services.conflict_search import ConflictFilters  # noqa: E402

DEFAULT_JSON = Path(__file__).resolve().parent / "results" / "search.json"
SIZES = (1_000, 100_000)
PARTNERS = 50
ACTIVE = 250
RUNS = 30
TARGET_MS = 50.0
SEED = 20261202
VOCABULARY = [
    "invoice",
    "payment",
    "terms",
    "overdue",
    "rebate",
    "credit",
    "note",
    "pallet",
    "shipment",
    "carrier",
    "forwarder",
    "customs",
    "papers",
    "warehouse",
    "dock",
    "delay",
    "inspection",
    "batch",
    "defect",
    "return",
    "label",
    "forecast",
    "quarter",
    "handover",
    "order",
    "history",
    "contract",
    "clause",
    "discount",
    "volume",
    "bonus",
    "escalation",
    "manager",
    "answer",
    "mail",
    "phone",
    "meeting",
    "minutes",
    "agreed",
    "promised",
    "missing",
    "wrong",
    "damaged",
    "late",
    "early",
    "partial",
    "duplicate",
    "cancelled",
    "confirmed",
    "disputed",
    "refund",
    "penalty",
    "interest",
    "reminder",
    "portal",
    "account",
    "access",
    "password",
    "export",
    "report",
    "figures",
    "mismatch",
    "reconciliation",
    "ledger",
]
QUERIES = (
    "invoice",
    "customs papers",
    "pallet damaged",
    "reconciliation",
    "late shipment",
    "rebate clause",
    "forwarder",
    "inspection batch defect",
    "overdue interest",
    "duplicate",
)


# Rare words: each in about one comment of a thousand, as names of things are in real text.
RARE = tuple(f"zeppelin{n}" for n in range(40))
RARE_SHARE = 0.001


def _sentence(rng: random.Random) -> str:
    words = rng.sample(VOCABULARY, rng.randint(6, 14))
    if rng.random() < RARE_SHARE * 3:  # about three sentences in a comment
        words.append(rng.choice(RARE))
    return " ".join(words).capitalize() + "."


def insert_comments(rng: random.Random, chunk: int = 5_000) -> int:
    """Two to four comments per conflict after it was raised, one in four internal, linked
    into each conflict's audit chain as services.timeline.record() links them."""
    rows: list[dict] = []
    heads: list[dict] = []
    total = 0
    conflicts = db.session.execute(
        select(
            Conflict.id,
            Conflict.created_at,
            Conflict.created_by_id,
            Conflict.chain_seq,
            Conflict.chain_hash,
        ).order_by(Conflict.id)
    ).all()
    for conflict_id, created_at, author_id, seq, head_hash in conflicts:
        head = chain.Link(seq, chain.GENESIS, head_hash or chain.GENESIS)
        for n in range(rng.randint(2, 4)):
            internal = rng.random() < 0.25
            values = {
                "actor_id": author_id,
                "created_at": created_at + timedelta(hours=n + 1),
                "kind": "internal_note" if internal else "comment",
                "visibility": INTERNAL if internal else PUBLIC,
                "body": " ".join(_sentence(rng) for _ in range(rng.randint(1, 3))),
                "data": None,
            }
            salt = chain.salt_for(values["visibility"])
            content = chain.conflict_event_content(
                conflict_id=conflict_id, seq=head.seq + 1, salt=salt, **values
            )
            head = chain.append(head, content)
            rows.append(
                {
                    "conflict_id": conflict_id,
                    **values,
                    "chain_seq": head.seq,
                    "prev_hash": head.prev_hash,
                    "hash": head.hash,
                    "chain_salt": salt,
                }
            )
        heads.append({"row_id": conflict_id, "seq": head.seq, "digest": head.hash})
        if len(rows) >= chunk:
            total += _flush_comments(rows, heads)
    total += _flush_comments(rows, heads)
    db.session.commit()
    return total


def _flush_comments(rows: list[dict], heads: list[dict]) -> int:
    written = len(rows)
    if rows:
        db.session.execute(insert(ConflictEvent.__table__), rows)
        conflicts = Conflict.__table__
        db.session.execute(
            update(conflicts)
            .where(conflicts.c.id == bindparam("row_id"))
            .values(chain_seq=bindparam("seq"), chain_hash=bindparam("digest")),
            heads,
        )
    rows.clear()
    heads.clear()
    return written


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[max(0, int(round(0.95 * len(ordered))) - 1)]
    return statistics.median(ordered) * 1000, p95 * 1000


def _measure(work: Callable[[int], object], runs: int) -> tuple[float, float]:
    work(0)  # warm-up: statement caches, the engine's pages
    samples = []
    for i in range(runs):
        started = time.perf_counter()
        work(i)
        samples.append(time.perf_counter() - started)
        db.session.rollback()  # each run is a request of its own
    return _percentiles(samples)


def operations(manager: User, partner_user: User, sample: list[Conflict]) -> dict[str, Callable]:
    def queue(i: int) -> object:
        filters = ConflictFilters(search=QUERIES[i % len(QUERIES)], status="closed")
        page = conflict_search.queue_page(manager, filters, 1, 25)
        return conflict_search.snippets(manager, filters, page.items)

    def queue_rare(i: int) -> object:
        filters = ConflictFilters(search=RARE[i % len(RARE)], status="closed")
        page = conflict_search.queue_page(manager, filters, 1, 25)
        return conflict_search.snippets(manager, filters, page.items)

    def queue_reference(i: int) -> object:
        filters = ConflictFilters(search=sample[i % len(sample)].ref)
        page = conflict_search.queue_page(manager, filters, 1, 25)
        return conflict_search.snippets(manager, filters, page.items)

    def portal(i: int) -> object:
        filters = ConflictFilters(search=QUERIES[i % len(QUERIES)])
        page = conflict_search.portal_page(partner_user, filters, 1, 20)
        return conflict_search.snippets(partner_user, filters, page.items)

    def api(i: int) -> object:
        filters = ConflictFilters(search=QUERIES[i % len(QUERIES)])
        rows = conflict_search.api_search_page(manager, filters, 0, 25)
        return conflict_search.snippets(manager, filters, rows[:25])

    def similar_raising(i: int) -> object:
        c = sample[i % len(sample)]
        return conflict_search.similar(partner_user, c.title, c.description)

    def similar_console(i: int) -> object:
        c = sample[i % len(sample)]
        return conflict_search.similar(manager, c.title, c.description, exclude_id=c.id)

    return {
        "queue search (all closed, page 1 + passages)": queue,
        "queue search, a rare word (~0.3% of conflicts)": queue_rare,
        "queue search, a reference": queue_reference,
        "partner list search (page 1 + passages)": portal,
        "API ranked search (25 + passages)": api,
        "similar while raising (partner)": similar_raising,
        "similar on conflict page (manager)": similar_console,
    }


def _slowest_plan(work: Callable[[int], object]) -> list[str]:
    with captured_statements(db.engine) as seen:
        work(1)
    db.session.rollback()
    slowest = max(seen, key=lambda s: s.seconds)
    return query_plan(slowest, analyze=True)


def run_size(server_url: str | None, size: int, runs: int, explain: bool = False) -> dict:
    now = utcnow()
    with bench_app(server_url) as app, app.app_context():
        rng = random.Random(SEED)
        cast = create_cast(PARTNERS, now)
        log(f"{dialect()}: {size:,} conflicts")
        insert_history(
            cast,
            closed=max(0, size - ACTIVE),
            active=min(ACTIVE, size),
            now=now,
            trust_events_per_closed=3,
            seed=SEED,
        )
        comments = insert_comments(rng)
        log(f"  {comments:,} comments; indexing")
        started = time.perf_counter()
        indexed = search_index.index_missing()
        index_seconds = time.perf_counter() - started
        analyze_if_postgresql()
        manager = db.session.get(User, cast.manager_ids[0])
        partner_user = db.session.get(User, cast.partners[0].user_id)
        sample = list(
            db.session.scalars(
                select(Conflict)
                .where(Conflict.partner_id == cast.partners[0].id)
                .order_by(Conflict.id.desc())
                .limit(20)
            )
        )
        # A gunicorn worker serves with its start-up objects frozen (gunicorn.conf.py): a
        # full collection walks what requests allocated, not the app and the history's
        # leftovers here (unfrozen, one every few runs cost about 50 ms at 100,000).
        freeze_startup_objects()
        results = {}
        for name, work in operations(manager, partner_user, sample).items():
            p50, p95 = _measure(work, runs)
            results[name] = {"p50_ms": round(p50, 2), "p95_ms": round(p95, 2)}
            log(f"  {name}: p50 {p50:.1f} ms, p95 {p95:.1f} ms")
            if explain:
                results[name]["plan"] = _slowest_plan(work)
                log("    " + "\n    ".join(results[name]["plan"]))
        entries = db.session.scalar(select(func.count()).select_from(SearchEntry))
        return {
            "engine": dialect(),
            "conflicts": size,
            "comments": comments,
            "search_entries": entries,
            "indexed_seconds": round(index_seconds, 2),
            "indexed": indexed,
            "operations": results,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--sizes", default=",".join(str(s) for s in SIZES))
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--explain", action="store_true")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    server = requested_database_url(args.database_url)
    by_size = [run_size(server, size, args.runs, args.explain) for size in sizes]
    smallest = by_size[0]
    print(f"\nSearch and similarity on {by_size[0]['engine']} (target: p95 < {TARGET_MS:.0f} ms)")
    print(f"{'operation':48} {'N':>8} {'p50 ms':>8} {'p95 ms':>8} {'x small':>8} {'target':>7}")
    for result in by_size:
        for name, figures in result["operations"].items():
            base = smallest["operations"][name]["p95_ms"] or 1e-9
            ratio = figures["p95_ms"] / base
            figures["p95_ratio_to_smallest"] = round(ratio, 2)
            met = "ok" if figures["p95_ms"] < TARGET_MS else "MISSED"
            print(
                f"{name:48} {result['conflicts']:>8,} {figures['p50_ms']:>8.1f} "
                f"{figures['p95_ms']:>8.1f} {ratio:>8.2f} {met:>7}"
            )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "benchmark": "search",
        "python": platform.python_version(),
        "target_p95_ms": TARGET_MS,
        "runs": args.runs,
        "sizes": by_size,
    }
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    log(f"wrote {args.json}")


if __name__ == "__main__":
    main()
