"""Benchmark the SLA sweep: its work follows the conflicts that are due, not the history.

Usage: python bench/bench_sweep.py [--json PATH] [--database-url URL] [--sizes 1000,10000]
                                   [--rounds 3] [--due 500] [--open-share 0.65]

For each history size N a fresh database gets N conflicts that are closed or open but not
yet due (inserted in bulk; --open-share of them open). Each round then raises D conflicts
through the service this morning whose SLA levels have been reached by `now`: they are due.
The first sweep at `now` fires their escalations; a second sweep at the same `now` must
find nothing (the "nothing due" figure). Medians over the rounds should stay about the same
whatever N is, as should the number of SQL statements, because the sweep selects by the
indexed next_check_at; the query plan of that selection is printed to prove it. SQLite by
default; PostgreSQL with --database-url or TRACKER_BENCH_DATABASE_URL (a throw-away
database is created there).
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import re
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select  # noqa: E402

from bench._fixtures import (  # noqa: E402
    Cast,
    analyze_if_postgresql,
    bench_app,
    captured_statements,
    create_cast,
    dialect,
    insert_history,
    log,
    query_plan,
    requested_database_url,
    timed,
)
from tracker.domain import workflow  # noqa: E402
from tracker.extensions import db  # noqa: E402
from tracker.jobs.sweep import sweep  # noqa: E402
from tracker.models import Conflict, User  # noqa: E402
from tracker.process import freeze_startup_objects  # noqa: E402
from tracker.services import conflicts  # noqa: E402

DEFAULT_JSON = Path(__file__).resolve().parent / "results" / "sweep.json"
SIZES = (1_000, 10_000, 50_000)
DUE = 500
ROUNDS = 3  # each round raises DUE new due conflicts and sweeps twice
PARTNERS = 50
OPEN_SHARE = 0.65  # of N: open, triaged, waiting or resolved, next look still ahead
TRUST_EVENTS_PER_CLOSED = 3
INDEX = "ix_conflicts_next_check_at"
SEED = 20261116
# A Monday, 15:00 in the partners' (central European) offices: their clocks are running.
NOW = datetime(2026, 11, 16, 14, 0, tzinfo=UTC)


def submit_due(cast: Cast, count: int, now: datetime, rng: random.Random) -> None:
    """Conflicts raised this morning through the service, past their triage warning by `now`.

    Critical ones (1h to triage) were raised 2-5 business hours ago and have reached every
    level; high ones (4h) 3.5-5.5 hours ago and have reached the warning, some the breach.
    """
    morning = now.replace(hour=8, minute=0)
    for i in range(count):
        p = cast.partners[i % len(cast.partners)]
        severity = "critical" if i % 2 == 0 else "high"
        hours = rng.uniform(1, 4) if severity == "critical" else rng.uniform(0.5, 2.5)
        category = rng.choice(list(workflow.CATEGORIES))
        conflicts.submit(
            db.session.get(User, p.user_id),
            title=f"Pallets for order {7000 + i} missing at the hub",
            description="The carrier confirmed delivery but the hub has no record of it.",
            category=category,
            severity=severity,
            now=morning + timedelta(hours=hours),
        )


def due_count(now: datetime) -> int:
    return db.session.scalar(select(func.count(Conflict.id)).where(Conflict.next_check_at <= now))


def sweep_round(cast: Cast, rng: random.Random, due_per_round: int) -> dict:
    """Fresh due conflicts, a first sweep that acts on them and a second that finds none."""
    submit_due(cast, due_per_round, NOW, rng)
    due = due_count(NOW)
    if due != due_per_round:
        raise SystemExit(f"expected {due_per_round} conflicts due at {NOW}, found {due}")
    db.session.remove()
    with captured_statements(db.engine) as statements:
        cpu_started = time.process_time()
        first_seconds, first = timed(lambda: sweep(NOW))
        first_cpu = time.process_time() - cpu_started
    db.session.remove()
    second_seconds, second = timed(lambda: sweep(NOW))
    failed = getattr(first, "failed", 0) + getattr(second, "failed", 0)
    if first.evaluated != due_per_round or second.evaluated != 0 or failed:
        raise SystemExit(
            f"sweeps evaluated {first.evaluated} then {second.evaluated} ({failed} failed); "
            f"expected {due_per_round} then 0"
        )
    return {
        "first_seconds": first_seconds,
        "first_cpu_seconds": first_cpu,
        "second_seconds": second_seconds,
        "evaluated": first.evaluated,
        "second_evaluated": second.evaluated,
        "escalated": first.escalated,
        "statements": len(statements),
        "selection": next(s for s in statements if "next_check_at <=" in s.sql),
    }


def measure(
    n: int, database_url: str | None, rounds: int, due: int = DUE, open_share: float = OPEN_SHARE
) -> dict:
    """One fresh database with N conflicts of history; `rounds` pairs of sweeps at NOW."""
    log(f"history N={n:,}: building a throw-away database")
    with bench_app(database_url) as app, app.app_context():
        rng = random.Random(SEED + n)
        cast = create_cast(PARTNERS, NOW - timedelta(days=800))
        load_seconds, counts = timed(
            lambda: insert_history(
                cast,
                closed=n - round(n * open_share),
                active=round(n * open_share),
                now=NOW,
                trust_events_per_closed=TRUST_EVENTS_PER_CLOSED,
                seed=SEED + n,
            )
        )
        analyze_if_postgresql()
        log(f"history N={n:,}: loaded in {load_seconds:.1f}s; {rounds} rounds of {due} due")
        return {
            "history": n,
            "open": round(n * open_share),
            **figures(cast, rng, rounds, due),
            "load_seconds": round(load_seconds, 2),
            "rows": counts.as_dict(),
        }


def figures(cast: Cast, rng: random.Random, rounds: int, due: int = DUE) -> dict:
    """`rounds` pairs of sweeps at NOW over the history already in the database (none of it
    due at NOW): medians, spread, statements and the due selection's plan."""
    freeze_startup_objects()  # as `flask scheduler run` does once it has started
    runs = [sweep_round(cast, rng, due) for _ in range(rounds)]
    plan = query_plan(runs[0]["selection"])
    levels = [sum(r["escalated"].values()) for r in runs]
    per_level = [r["first_seconds"] * 1000 / max(1, k) for r, k in zip(runs, levels, strict=True)]
    cpu_per_level = [
        r["first_cpu_seconds"] * 1000 / max(1, k) for r, k in zip(runs, levels, strict=True)
    ]
    return {
        "due": due,
        "ms_per_level": round(statistics.median(per_level), 3),
        "ms_per_level_runs": [round(x, 3) for x in per_level],
        "cpu_ms_per_level": round(statistics.median(cpu_per_level), 3),
        "statements_per_conflict": round(statistics.median(r["statements"] for r in runs) / due, 2),
        "first_sweep_seconds": round(statistics.median(r["first_seconds"] for r in runs), 4),
        "second_sweep_seconds": round(statistics.median(r["second_seconds"] for r in runs), 4),
        "first_sweep_runs": [round(r["first_seconds"], 4) for r in runs],
        "second_sweep_runs": [round(r["second_seconds"], 4) for r in runs],
        "evaluated": runs[0]["evaluated"],
        "second_evaluated": runs[0]["second_evaluated"],
        "escalated": runs[0]["escalated"],
        "statements_first_sweep": [r["statements"] for r in runs],
        "plan_uses_index": any(INDEX in line for line in plan),
        "plan": plan,
        "due_selection_sql": " ".join(runs[0]["selection"].sql.split()),
        "database": dialect(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help="where to write results")
    parser.add_argument(
        "--database-url",
        help="PostgreSQL server to create a throw-away database on "
        "(default: $TRACKER_BENCH_DATABASE_URL, else a temp SQLite file)",
    )
    parser.add_argument(
        "--sizes",
        type=lambda v: tuple(int(x) for x in v.split(",")),
        default=SIZES,
        help="history sizes, comma separated (default: %(default)s)",
    )
    parser.add_argument(
        "--rounds", type=int, default=ROUNDS, help="sweep pairs per size (median reported)"
    )
    parser.add_argument("--due", type=int, default=DUE, help="due conflicts per round")
    parser.add_argument(
        "--open-share", type=float, default=OPEN_SHARE, help="share of N open but not due"
    )
    args = parser.parse_args(argv)
    database_url = requested_database_url(args.database_url)

    rows = [measure(n, database_url, args.rounds, args.due, args.open_share) for n in args.sizes]

    print(f"database: {rows[0]['database']}; sweeps at {NOW.isoformat()}, median of {args.rounds}")
    print(
        f"{'history N':>10}{'open':>8}{'due D':>7}{'first sweep s':>15}{'ms/level':>10}"
        f"{'CPU ms/level':>14}"
        f"{'nothing due ms':>16}{'levels':>8}{'stmts/conflict':>16}  plan uses index"
    )
    for row in rows:
        print(
            f"{row['history']:>10,}{row['open']:>8,}{row['due']:>7}"
            f"{row['first_sweep_seconds']:>15.3f}{row['ms_per_level']:>10.3f}"
            f"{row['cpu_ms_per_level']:>14.3f}"
            f"{row['second_sweep_seconds'] * 1000:>16.2f}{sum(row['escalated'].values()):>8}"
            f"{row['statements_per_conflict']:>16.2f}"
            f"  {'yes' if row['plan_uses_index'] else 'NO'}"
        )
    largest = rows[-1]
    columns = re.compile(r"^SELECT .*? FROM ")
    print(f"due selection: {columns.sub('SELECT <columns> FROM ', largest['due_selection_sql'])}")
    print(f"its plan at N={largest['history']:,}:")
    for line in largest["plan"]:
        print(f"  {line}")

    args.json.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "benchmark": "sweep",
        "database": largest["database"],
        "now": NOW.isoformat(),
        "due": args.due,
        "rounds": args.rounds,
        "partners": PARTNERS,
        "open_share": args.open_share,
        "seed": SEED,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "results": rows,
    }
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.json}")
    return 0 if all(row["plan_uses_index"] for row in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
