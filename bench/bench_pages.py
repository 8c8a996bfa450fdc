"""Benchmark the busiest pages: their time should follow what they show, not the history.

Usage: python bench/bench_pages.py [--json PATH] [--database-url URL] [--sizes 1000,20000]
                                   [--runs 5] [--explain] [--pages reports,trust]

For each size N a fresh database gets N conflicts across 50 partners (250 of them still in
the queue, the rest closed over two years, each closed one with about ten trust events),
the partners' trust tallies and daily history, and the counts the reports, the ETA and the
trust page's period figures read (rebuilt from that history). Each page is then requested
through the Flask test client, signed in as an alliance manager or a partner user: one
warm-up, one request with its SQL recorded, then the timed runs, interleaved across the
sizes so that a shared machine's load weighs on each alike (median wall time reported, and
this process's CPU time: on SQLite the whole cost, on PostgreSQL without the server's). A page
whose time or rows read grow clearly with N gets its slowest statements and their query
plans printed (--explain: every page). SQLite by default; PostgreSQL with --database-url or
TRACKER_BENCH_DATABASE_URL (a throw-away database is created there).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import Flask  # noqa: E402
from flask.testing import FlaskClient  # noqa: E402

from bench._fixtures import (  # noqa: E402
    Cast,
    Statement,
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
from tracker.clock import utcnow  # noqa: E402
from tracker.extensions import db  # noqa: E402
from tracker.services import count_rebuild, reports  # noqa: E402

DEFAULT_JSON = Path(__file__).resolve().parent / "results" / "pages.json"
SIZES = (1_000, 20_000)
PARTNERS = 50
ACTIVE = 250  # the queue: ten pages of 25 at every size
TRUST_EVENTS_PER_CLOSED = 10
RUNS = 5
# At the largest N against the smallest: this much slower (median), or reading this many
# times the rows, and the page grows with history. Timing alone is noisy on a busy machine.
TIME_GROWTH_FLAG = 1.5
ROWS_GROWTH_FLAG = 2.0
SLOWEST = 3
SEED = 20260301
# (label, who, path); {partner_id} is the partner whose user signs in to the portal.
PAGES = (
    ("GET /console/queue", "manager", "/console/queue"),
    ("GET /console/queue?page=5", "manager", "/console/queue?page=5"),
    ("GET /portal/conflicts", "partner", "/portal/conflicts"),
    ("GET /partners/<id>/trust", "manager", "/partners/{partner_id}/trust"),
    ("GET /console/portfolio", "manager", "/console/portfolio"),
    ("GET /console/reports", "manager", "/console/reports"),
)


def signed_in(app: Flask, email: str, password: str) -> FlaskClient:
    """A test client with a session, from posting the sign-in form (CSRF is off here)."""
    client = app.test_client()
    response = client.post("/auth/login", data={"email": email, "password": password})
    if response.status_code != 302:
        raise SystemExit(f"signing in as {email} failed: HTTP {response.status_code}")
    return client


def request_ms(client: FlaskClient, path: str) -> float:
    return timed_request(client, path)[0]


def timed_request(client: FlaskClient, path: str) -> tuple[float, float]:
    """(wall ms, this process's CPU ms) of one request: on SQLite the engine runs in the
    process, so CPU is the figure least moved by other work on a shared machine."""
    started, cpu = time.perf_counter(), time.process_time()
    response = client.get(path)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise SystemExit(f"GET {path} answered HTTP {response.status_code}")
    return elapsed, (time.process_time() - cpu) * 1000


def replayed(statements: list[Statement]) -> list[dict]:
    """Each SELECT run again with its parameters and fetched to the end: rows and time.

    The recorded durations stop when the driver returns the cursor; SQLite produces rows
    while they are fetched, so the replay is what shows how much a statement reads.
    """
    results = []
    connection = db.session.connection()
    for statement in statements:
        if not statement.sql.lstrip().upper().startswith("SELECT"):
            continue
        started = time.perf_counter()
        rows = connection.exec_driver_sql(statement.sql, statement.parameters).all()
        elapsed = time.perf_counter() - started
        results.append({"statement": statement, "rows": len(rows), "ms": elapsed * 1000})
    db.session.rollback()
    return results


def inspect_page(app: Flask, client: FlaskClient, path: str) -> dict:
    """One request's statements, replayed for their rows and time (the timed runs follow,
    interleaved across sizes: see measure())."""
    request_ms(client, path)  # warm-up: templates compiled, caches filled
    with app.app_context():
        engine = db.engine
    with captured_statements(engine) as statements:  # each request has its own app context
        recorded_ms = request_ms(client, path)
    with app.app_context():
        replays = replayed(statements)
        slowest = sorted(replays, key=lambda r: r["ms"], reverse=True)[:SLOWEST]
        details = [
            {
                "ms": round(r["ms"], 2),
                "rows": r["rows"],
                "sql": " ".join(r["statement"].sql.split()),
                "plan": query_plan(r["statement"]),
            }
            for r in slowest
        ]
    return {
        "statements": len(statements),
        "rows_read": sum(r["rows"] for r in replays),
        "sql_ms": round(sum(r["ms"] for r in replays), 2),
        "recorded_request_ms": round(recorded_ms, 2),
        "slowest_statements": details,
    }


def build(n: int) -> tuple[Cast, dict]:
    now = utcnow()
    cast = create_cast(PARTNERS, now - timedelta(days=800))
    load_seconds, counts = timed(
        lambda: insert_history(
            cast,
            closed=n - ACTIVE,
            active=ACTIVE,
            now=now,
            trust_events_per_closed=TRUST_EVENTS_PER_CLOSED,
            seed=SEED + n,
        )
    )
    # What the consumers keep as conflicts move, for the bulk history (as `flask demo
    # generate` does): the reports' rollups, the ETA counts, the trust page's day counts.
    count_rebuild.rebuild(db.session.connection())
    count_rebuild.rebuild_trust_days(db.session.connection())
    db.session.commit()
    reports.close_window(now)  # the scheduler's report_windows job
    analyze_if_postgresql()
    log(f"N={n:,}: loaded in {load_seconds:.1f}s: {counts.as_dict()}")
    return cast, {"load_seconds": round(load_seconds, 2), "rows": counts.as_dict()}


def chosen(pages: str | None) -> tuple[tuple[str, str, str], ...]:
    """The pages whose label contains one of the comma-separated words (all by default)."""
    if not pages:
        return PAGES
    words = [w.strip() for w in pages.split(",") if w.strip()]
    picked = tuple(page for page in PAGES if any(w in page[0] for w in words))
    if not picked:
        raise SystemExit(f"--pages {pages!r} matches none of: {[p[0] for p in PAGES]}")
    return picked


def measure(
    sizes: tuple[int, ...], database_url: str | None, runs: int, pages: tuple = PAGES
) -> list[dict]:
    """Every size's database built and kept open, then each page's timed requests
    interleaved across the sizes (1k, 100k, 1k, 100k, ...): a shared machine's load then
    weighs on every size alike, and the ratio between them is what it measures."""
    with ExitStack() as stack:
        sites = []
        for n in sizes:
            log(f"N={n:,}: building a throw-away database")
            app = stack.enter_context(bench_app(database_url))
            with app.app_context():
                cast, loaded = build(n)
                database = dialect()
            partner = cast.partners[0]
            clients = {
                "manager": signed_in(app, cast.manager_email, cast.password),
                "partner": signed_in(app, partner.user_email, cast.password),
            }
            sites.append((n, app, clients, partner, loaded, database))
        rows = []
        for label, who, path in pages:
            log(f"{label}: statements, then {runs} requests per size, interleaved")
            inspected = [
                inspect_page(app, clients[who], path.format(partner_id=partner.id))
                for _, app, clients, partner, _, _ in sites
            ]
            timings: list[list[tuple[float, float]]] = [[] for _ in sites]
            for _ in range(runs):
                for i, (_, _, clients, partner, _, _) in enumerate(sites):
                    url = path.format(partner_id=partner.id)
                    timings[i].append(timed_request(clients[who], url))
            for (n, _, _, _, loaded, database), result, times in zip(
                sites, inspected, timings, strict=True
            ):
                wall, cpu = [t[0] for t in times], [t[1] for t in times]
                rows.append({
                    "page": label, "n": n, "database": database,
                    "median_ms": round(statistics.median(wall), 2),
                    "min_ms": round(min(wall), 2),
                    "median_cpu_ms": round(statistics.median(cpu), 2),
                    "runs_ms": [round(t, 2) for t in wall],
                    **result, **loaded,
                })  # fmt: skip
        return rows


def print_statements(row: dict) -> None:
    print(f"\n{row['page']} at N={row['n']:,}: {row['statements']} statements, slowest:")
    for item in row["slowest_statements"]:
        print(f"  {item['ms']:.1f} ms, {item['rows']:,} rows: {item['sql'][:400]}")
        for line in item["plan"]:
            print(f"      {line}")


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
        help="numbers of conflicts, comma separated (default: %(default)s)",
    )
    parser.add_argument("--runs", type=int, default=RUNS, help="timed requests per page")
    parser.add_argument("--explain", action="store_true", help="print plans for every page")
    parser.add_argument(
        "--pages", help="only the pages whose label contains one of these words, e.g. reports"
    )
    args = parser.parse_args(argv)
    database_url = requested_database_url(args.database_url)
    pages = chosen(args.pages)

    rows = measure(args.sizes, database_url, args.runs, pages)

    smallest, largest = min(args.sizes), max(args.sizes)
    by_key = {(row["page"], row["n"]): row for row in rows}
    growth = {}
    for label, _, _ in pages:
        small, large = by_key[(label, smallest)], by_key[(label, largest)]
        growth[label] = {
            "time": round(large["median_ms"] / small["median_ms"], 2),
            "cpu": round(large["median_cpu_ms"] / max(0.01, small["median_cpu_ms"]), 2),
            "rows_read": round(large["rows_read"] / max(1, small["rows_read"]), 2),
        }
    grows = {
        label: g["time"] >= TIME_GROWTH_FLAG or g["rows_read"] >= ROWS_GROWTH_FLAG
        for label, g in growth.items()
    }
    print(f"database: {rows[0]['database']}; median of {args.runs} requests, sizes interleaved")
    print(f"{'page':<28}{'N':>8}{'median ms':>11}{'CPU ms':>8}{'SQL stmts':>11}"
          f"{'rows read':>11}{'SQL ms':>9}")  # fmt: skip
    for row in rows:
        print(
            f"{row['page']:<28}{row['n']:>8,}{row['median_ms']:>11.1f}{row['median_cpu_ms']:>8.1f}"
            f"{row['statements']:>11}{row['rows_read']:>11,}{row['sql_ms']:>9.1f}"
        )
    print(f"\n{f'growth, N={smallest:,} to N={largest:,}':<30}{'median ms':>10}{'CPU ms':>8}"
          f"{'rows read':>11}")  # fmt: skip
    for label, g in growth.items():
        flag = "  <- grows with history" if grows[label] else ""
        time_ratio, cpu_ratio = f"x{g['time']:.2f}", f"x{g['cpu']:.2f}"
        rows_ratio = f"x{g['rows_read']:.2f}"
        print(f"  {label:<28}{time_ratio:>10}{cpu_ratio:>8}{rows_ratio:>11}{flag}")
    for label, _, _ in pages:
        if args.explain or grows[label]:
            print_statements(by_key[(label, largest)])

    args.json.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "benchmark": "pages",
        "database": rows[0]["database"],
        "partners": PARTNERS,
        "active_conflicts": ACTIVE,
        "trust_events_per_closed": TRUST_EVENTS_PER_CLOSED,
        "runs": args.runs,
        "seed": SEED,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "growth": growth,
        "grows_with_history": [label for label, flagged in grows.items() if flagged],
        "results": rows,
    }
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
