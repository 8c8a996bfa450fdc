"""`make bench`: the HTTP benchmark and the sweep figures of [8] at each scale, on SQLite
and PostgreSQL, within a time budget; one table, the targets of [12] checked, JSON kept.

Usage: python bench/run.py [--scale default|large] [--engines sqlite,postgresql]
                           [--budget 600] [--duration 10] [--repetitions 3] [--connections 8]
       python bench/run.py --markdown [--json PATH]   # the last run's table, README form

Per scale (1,000 and 100,000 conflicts; BENCH_SCALE=large adds 1,000,000) and engine:
`flask demo generate`'s history (50 partners, 65% not closed) at a fixed Monday afternoon
(the sweep's NOW; at 1,000,000 at the real time, see history_now), a conflict with 50
events and an API token; gunicorn with 2 workers on
loopback; wrk with 8 connections, 3 interleaved repetitions of every endpoint, `/healthz`
first as the limit of that moment. Then, in process on the same database, the SQL
statements of one request of each endpoint, and at 100,000 and more the sweep figures
(bench_sweep.figures: 500 due, ms per level fired, the nothing-due sweep).

SQLite databases are generated once and kept under bench/.cache/, keyed by size, schema
head and generator source, so a re-run skips generation (each run works on a copy). On
PostgreSQL (TRACKER_BENCH_DATABASE_URL, else 127.0.0.1:5432 when it answers) every run
creates its own trustomer_bench_* database and drops it afterwards.

The budget (seconds, BENCH_BUDGET) bounds the whole run: after each database is ready the
wrk duration of what remains is chosen to fit, at most --duration (BENCH_DURATION); the
1,000 scale, a reference without targets, gets a quarter of that. The chosen durations are
in the table's headings and the JSON.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench import bench_http, bench_sweep  # noqa: E402
from bench._fixtures import (  # noqa: E402
    DATABASE_URL_ENV,
    _normalise,
    bench_config,
    captured_statements,
    log,
    throwaway_database,
)
from tracker import create_app  # noqa: E402
from tracker.extensions import db  # noqa: E402
from tracker.models import Conflict, User  # noqa: E402
from tracker.services import api_tokens, conflicts, demo_history  # noqa: E402

RESULTS = ROOT / "bench" / "results"
LATEST = RESULTS / "latest.json"
CACHE = ROOT / "bench" / ".cache"
SIZES = (1_000, 100_000)
LARGE_SIZES = (1_000, 100_000, 1_000_000)
TARGET_SIZE = 100_000
LARGE_SIZE = 1_000_000
PARTNERS = 50
OPEN_SHARE = 0.65
HISTORY_DAYS = 730
SEED = 20261202
BUILD_VERSION = 2  # raise when build() changes what it adds to the history
NOW = bench_sweep.NOW  # a Monday, 15:00 in the partners' offices
BUSY_LEAD = timedelta(minutes=60)  # the busy conflict's 50 events all lie before the history's now
DEFAULT_POSTGRESQL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
MIN_DURATION = 2  # at 1,000 conflicts; from 100,000 up at least TARGET_MIN_DURATION
TARGET_MIN_DURATION = 5
SETUP_SECONDS = 25  # per scale and engine: the server, sign-ins, checks, statements
SWEEP_SECONDS = 40  # per sweep: three rounds of 500 conflicts raised and swept
CATCH_UP_BATCH = 500  # the catch-up sweep's batch: no requests are waiting on its lock

QUEUE = "GET /console/queue"
CONFLICT = "GET /console/conflicts/<id>"
PARTNER_LIST = "GET /portal/conflicts"
SEARCH = "GET /console/queue?q="
API_POST = "POST /api/v1/conflicts"
PAGES = (QUEUE, CONFLICT, PARTNER_LIST)


# --- the databases ---------------------------------------------------------------------------


def schema_head() -> str:
    """The newest migration's revision, from the files (the cache key follows the schema)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(ROOT / "migrations"))
    return "+".join(sorted(ScriptDirectory.from_config(config).get_heads()))


def history_now(n: int) -> datetime:
    """The moment a history of size n is made at.

    Up to 100,000: the fixed NOW, so a cached database serves every later run after a
    catch-up sweep of the days since (minutes at 100,000). At 1,000,000 that catch-up
    would sweep every active conflict once more (about 650,000, over an hour), so the
    history is made at the real time, to the minute, and regenerated for each run: only
    what comes due while it is generated and served is left to sweep."""
    if n < LARGE_SIZE:
        return NOW
    return datetime.now(UTC).replace(second=0, microsecond=0)


def generator_fingerprint(now: datetime) -> str:
    """A change to the generator, to what build() adds or to the history's moment makes a
    new cache entry."""
    digest = hashlib.sha256()
    digest.update((ROOT / "tracker" / "services" / "demo_history.py").read_bytes())
    digest.update(f"{BUILD_VERSION} {PARTNERS} {OPEN_SHARE} {HISTORY_DAYS} {now}".encode())
    return digest.hexdigest()[:10]


def build(n: int, now: datetime) -> dict:
    """In an app context on an empty, migrated database: the history made at `now`, the
    busy conflict, a token; what the benchmark needs to know about them."""
    generated = demo_history.generate(
        partners=PARTNERS, conflicts=n, open_share=OPEN_SHARE, history_days=HISTORY_DAYS,
        now=now, seed=SEED + n,
        progress=lambda done, total: done % 100_000 == 0 and log(f"  {done:,} of {total:,}"),
    )  # fmt: skip
    cast = generated.cast
    partner = cast.partners[0]
    user = db.session.get(User, partner.user_id)
    busy = conflicts.submit(
        user,
        title="Pallets for order 5521 short-shipped twice",
        description="Two deliveries arrived with fewer pallets than the delivery note says.",
        category="delivery",
        severity="high",
        now=now - BUSY_LEAD,
    )
    rng = random.Random(SEED)
    for i in range(bench_http.TIMELINE_EVENTS - 1):
        conflicts.comment(
            user,
            busy.id,
            f"Update {i + 1}: the carrier's scan log for pallet {rng.randrange(1000, 9999)}.",
            now=now - BUSY_LEAD + timedelta(minutes=i + 1),
        )
    _, token = api_tokens.create(user, name="bench", scope=api_tokens.WRITE, now=now)
    return {
        "conflicts": n,
        "history_now": now.isoformat(),
        "busy": busy.id,
        "partner": partner.id,
        "partner_email": partner.user_email,
        "manager_email": cast.manager_email,
        "password": cast.password,
        "partner_user_ids": [p.user_id for p in cast.partners],
        "token": token,
        "rows": generated.counts.as_dict(),
    }


def migrated_app(url: str, uploads: str):  # type: ignore[no-untyped-def]
    import logging

    from flask_migrate import upgrade

    app = create_app(bench_config(url, uploads))
    with app.app_context():
        logging.disable(logging.INFO)
        try:
            upgrade()
        finally:
            logging.disable(logging.NOTSET)
    return app


def cached_sqlite(n: int, work: Path) -> tuple[str, dict, float]:
    """A copy of the cached database of size n in `work` (generated first when missing):
    its URL, its context and the seconds generation took (0 when cached)."""
    now = history_now(n)
    key = f"sqlite-{n}-{schema_head()}-{generator_fingerprint(now)}"
    cached, sidecar = CACHE / f"{key}.db", CACHE / f"{key}.json"
    seconds = 0.0
    if not (cached.exists() and sidecar.exists()):
        CACHE.mkdir(parents=True, exist_ok=True)
        for stale in CACHE.glob(f"sqlite-{n}-*"):
            stale.unlink()
        partial = CACHE / f"{key}.partial.db"
        for leftover in CACHE.glob(f"{key}.partial.db*"):
            leftover.unlink()
        log(f"SQLite N={n:,}: generating into {partial.name} (kept for the next run)")
        started = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="trustomer-bench-uploads-") as uploads:
            app = migrated_app(f"sqlite:///{partial}", uploads)
            with app.app_context():
                context = build(n, now)
                db.session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
                db.session.remove()
                db.engine.dispose()
        seconds = time.monotonic() - started
        context["generated_seconds"] = round(seconds, 1)
        partial.rename(cached)
        sidecar.write_text(json.dumps(context, indent=2) + "\n")
        log(
            f"SQLite N={n:,}: generated in {seconds:.0f}s, {cached.stat().st_size / 2**20:,.0f} MiB"
        )
    swept = CACHE / f"{key}.swept.db"
    target = work / "bench.db"
    shutil.copyfile(swept if swept.exists() else cached, target)
    url = f"sqlite:///{target}"
    context = json.loads(sidecar.read_text())
    context["catch_up"] = caught_up(url)
    with create_engine(url).connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    partial = CACHE / f"{key}.swept.partial.db"
    shutil.copyfile(target, partial)
    partial.replace(swept)  # the next run sweeps only what came due since this one
    return url, context, seconds


def caught_up(url: str) -> dict:
    """Bring the database to the real date as production would have: the history is made at
    history_now (the fixed NOW up to 100,000), and in production the SLA sweep (`flask sla
    sweep`, jobs/sweep.py) keeps each conflict's state current, so a list reads it instead
    of working it out live.

    One sweep at the real time, the production code path (larger batches: nobody is
    serving yet). The result is kept (the SQLite cache's `.swept.db`, the PostgreSQL
    template itself), so a later run sweeps only what came due in between; the first run
    after generation sweeps the whole gap from NOW (at 100,000 conflicts, 2 weeks later:
    about 52,000 conflicts and 8 minutes on 2 shared CPUs)."""
    from tracker.clock import utcnow
    from tracker.jobs.sweep import sweep

    with tempfile.TemporaryDirectory(prefix="trustomer-bench-uploads-") as uploads:
        app = create_app(bench_config(url, uploads))
        with app.app_context():
            started, cpu = time.monotonic(), time.process_time()
            now = utcnow()
            report = sweep(now, batch_size=CATCH_UP_BATCH)
            figures = {
                "at": now.isoformat(timespec="seconds"),
                "seconds": round(time.monotonic() - started, 1),
                "cpu_seconds": round(time.process_time() - cpu, 1),
                "evaluated": report.evaluated,
                "escalated": dict(report.escalated),
                "auto_closed": report.auto_closed,
            }
            db.session.remove()
            db.engine.dispose()
    log(f"caught up to {figures['at']}: {figures['evaluated']:,} conflicts swept in "
        f"{figures['seconds']:.0f} s")  # fmt: skip
    return figures


@contextmanager
def database(engine: str, n: int, server: str | None) -> Iterator[tuple[str, dict, float]]:
    """(URL, context, generation seconds) of a database of size n, removed on exit."""
    with tempfile.TemporaryDirectory(prefix="trustomer-bench-run-") as work:
        if engine == "sqlite":
            yield cached_sqlite(n, Path(work))
            return
        template, context, seconds = cached_postgresql(n, server, work)
        with throwaway_database(server, template=template) as url:
            yield url, context, seconds


def cached_postgresql(n: int, server: str, work: str) -> tuple[str, dict, float]:
    """The name of a database of size n kept on the server as a template (generated first
    when missing; later runs copy it with CREATE DATABASE … TEMPLATE, a file copy), its
    context and the seconds generation took (0 when cached). Stale ones are dropped."""
    now = history_now(n)
    key = f"{n}_{schema_head()}_{generator_fingerprint(now)}"
    name = "trustomer_bench_cache_" + re.sub(r"[^a-z0-9_]", "_", key.lower())
    sidecar = CACHE / f"postgresql-{key}.json"
    base = make_url(_normalise(server))
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            present = {
                row[0]
                for row in conn.execute(
                    text("SELECT datname FROM pg_database WHERE datname LIKE :p"),
                    {"p": f"trustomer_bench_cache_{n}_%"},
                )
            }
            for stale in present - {name}:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{stale}" WITH (FORCE)'))
            if name in present and sidecar.exists():
                context = json.loads(sidecar.read_text())
                url = base.set(database=name).render_as_string(hide_password=False)
                context["catch_up"] = caught_up(url)  # the template itself: see caught_up
                return name, context, 0.0
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        log(f"PostgreSQL N={n:,}: generating into {name} (kept for the next run)")
        started = time.monotonic()
        url = base.set(database=name).render_as_string(hide_password=False)
        app = migrated_app(url, work)
        with app.app_context():
            context = build(n, now)
            db.session.remove()
            db.engine.dispose()
        seconds = time.monotonic() - started
        context["generated_seconds"] = round(seconds, 1)
        CACHE.mkdir(parents=True, exist_ok=True)
        sidecar.write_text(json.dumps(context, indent=2) + "\n")
        log(f"PostgreSQL N={n:,}: generated in {seconds:.0f}s")
        context["catch_up"] = caught_up(url)
        return name, context, seconds
    finally:
        admin.dispose()


def postgresql_server() -> str | None:
    """TRACKER_BENCH_DATABASE_URL, else the local server when 127.0.0.1:5432 answers."""
    if os.environ.get(DATABASE_URL_ENV):
        return os.environ[DATABASE_URL_ENV]
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            pass
    except OSError:
        return None
    try:
        engine = create_engine(DEFAULT_POSTGRESQL)
        with engine.connect():
            pass
        engine.dispose()
    except Exception as error:  # noqa: BLE001 - any failure: we bench SQLite only
        log(f"127.0.0.1:5432 answers but {DEFAULT_POSTGRESQL} does not: {error}")
        return None
    return DEFAULT_POSTGRESQL


# --- one scale on one engine -----------------------------------------------------------------


@dataclass
class Plan:
    """The time budget: what is left, and how many wrk runs still have to fit in it."""

    deadline: float
    max_duration: int
    pending: list[tuple[str, int]]  # (engine, size) still to run
    runs_per_scale: int

    def duration(self, size: int) -> int:
        """Seconds per wrk run for this scale, so that what remains fits the budget."""
        overhead = sum(
            SETUP_SECONDS + (SWEEP_SECONDS if n >= TARGET_SIZE else 0) for _, n in self.pending
        )
        weights = sum(1 if n >= TARGET_SIZE else 0.25 for _, n in self.pending)
        left = self.deadline - time.monotonic() - overhead
        per_run = left / max(1.0, weights * self.runs_per_scale)
        if size < TARGET_SIZE:
            return max(MIN_DURATION, min(self.max_duration, int(per_run * 0.25)))
        return max(TARGET_MIN_DURATION, min(self.max_duration, int(per_run)))


def statements_per_request(url: str, context: dict, endpoints: list) -> dict[str, int]:
    """One request of each endpoint in process (after a warm-up): its SQL statements. No
    app context is held around the requests: each has its own, as under gunicorn."""
    with tempfile.TemporaryDirectory(prefix="trustomer-bench-uploads-") as uploads:
        app = create_app(bench_config(url, uploads))
        with app.app_context():
            engine = db.engine
        clients = {"anonymous": app.test_client()}
        for who, email in (("manager", context["manager_email"]),
                           ("partner", context["partner_email"])):  # fmt: skip
            client = app.test_client()
            client.post("/auth/login", data={"email": email, "password": context["password"]})
            clients[who] = client
        clients["api"] = clients["anonymous"]
        api = {"Authorization": f"Bearer {context['token']}"}
        counts = {}
        for endpoint in endpoints:
            client = clients[endpoint.who]
            headers = api if endpoint.who == "api" else {}

            def request(client=client, endpoint=endpoint, headers=headers):  # type: ignore[no-untyped-def]
                if endpoint.method == "POST":
                    return client.post(
                        endpoint.path, data=bench_http._POST_BODY, headers=headers,
                        content_type="application/json",
                    )  # fmt: skip
                return client.get(endpoint.path, headers=headers)

            request()
            with captured_statements(engine) as seen:
                response = request()
            if response.status_code not in (200, 201):
                raise SystemExit(f"{endpoint.label} in process: {response.status_code}")
            counts[endpoint.label] = len(seen)
        engine.dispose()
    return counts


def sweep_figures(url: str, context: dict) -> dict:
    """bench_sweep's rounds on this database (its history is not due at NOW)."""
    with tempfile.TemporaryDirectory(prefix="trustomer-bench-uploads-") as uploads:
        app = create_app(bench_config(url, uploads))
        with app.app_context():
            cast = SimpleNamespace(
                partners=[SimpleNamespace(user_id=i) for i in context["partner_user_ids"]]
            )
            due = db.session.scalar(
                select(db.func.count(Conflict.id)).where(Conflict.next_check_at <= NOW)
            )
            if due:
                raise SystemExit(f"{due} conflicts are due at {NOW} before the sweep rounds")
            figures = bench_sweep.figures(cast, random.Random(SEED), bench_sweep.ROUNDS)
            db.session.remove()
            db.engine.dispose()
    return figures


def run_scale(
    engine: str, n: int, server: str | None, args: argparse.Namespace, plan: Plan
) -> dict:
    with database(engine, n, server) as (url, context, generated_seconds):
        duration = plan.duration(n)
        log(f"{engine} N={n:,}: wrk {args.connections} connections × {duration} s × "
            f"{args.repetitions} repetitions")  # fmt: skip
        options = SimpleNamespace(
            repetitions=args.repetitions, duration=duration, connections=args.connections
        )
        result = load(url, context, options)
        chosen = bench_http.endpoints(context)
        result["statements"] = statements_per_request(url, context, chosen)
        if n >= TARGET_SIZE:
            log(f"{engine} N={n:,}: sweep rounds")
            result["sweep"] = sweep_figures(url, context)
        result.update(
            duration_seconds=duration,
            generated_seconds=round(generated_seconds, 1),
            cached=engine == "sqlite" and generated_seconds == 0,
            catch_up=context.get("catch_up"),
        )
        return result


def drain(server: bench_http.Gunicorn, limit: float = 60.0) -> None:
    """Wait until the workers are idle: requests wrk left queued when it stopped would
    otherwise be served in the next endpoint's time (a slow page starved /healthz)."""
    deadline = time.monotonic() + limit
    before = server.cpu_seconds()
    while time.monotonic() < deadline:
        time.sleep(0.25)
        now = server.cpu_seconds()
        if now - before < 0.02:
            return
        before = now


def load(url: str, context: dict, options: SimpleNamespace) -> dict:
    """bench_http's repetitions against gunicorn on this database."""
    with tempfile.TemporaryDirectory(prefix="trustomer-bench-http-") as instance:
        server = bench_http.Gunicorn(url, Path(instance))
        try:
            manager = bench_http.session_cookie(
                server.base, context["manager_email"], context["password"]
            )
            partner = bench_http.session_cookie(
                server.base, context["partner_email"], context["password"]
            )
            headers_for = {
                "anonymous": {},
                "manager": {"Cookie": manager},
                "partner": {"Cookie": partner},
                "api": {"Authorization": f"Bearer {context['token']}"},
            }
            chosen = bench_http.endpoints(context)
            for endpoint in chosen:
                bench_http.check(server.base, endpoint, headers_for[endpoint.who])
            runs: dict[str, list[dict]] = {e.label: [] for e in chosen}
            rss: list[list[float]] = []
            for repetition in range(options.repetitions):
                for endpoint in chosen:
                    before = server.cpu_seconds()
                    report = bench_http.wrk(
                        server.base, endpoint, headers_for[endpoint.who], options.duration,
                        options.connections,
                    )  # fmt: skip
                    report["worker_cpu_seconds"] = server.cpu_seconds() - before
                    drain(server)
                    runs[endpoint.label].append(report)
                    log(f"    {endpoint.label}: {report['served'] / report['seconds']:.0f} req/s, "
                        f"{report['requests'] - report['served']} not 200/201")  # fmt: skip
                rss.append(server.rss_mib())
                log(f"  repetition {repetition + 1}: worker RSS {rss[-1]} MiB")
        finally:
            server.stop()
    engine = "sqlite" if url.startswith("sqlite") else "postgresql"
    return {
        "conflicts": context["conflicts"],
        "database": engine,
        "rows": context["rows"],
        "endpoints": bench_http.summarise(runs),
        "worker_rss_mib": rss,
    }


# --- the targets of [12] ---------------------------------------------------------------------


RSS_LIMIT_MIB = 80
RSS_GROWTH_MIB = 2.0  # between the first and the last repetition: noise, not growth


def targets(results: list[dict]) -> list[dict]:
    """Each target of the issue, per engine, with what was measured and PASS or MISS."""
    checks = []

    def add(engine: str, n: int, what: str, measured: str, ok: bool) -> None:
        checks.append(
            {"engine": engine, "conflicts": n, "target": what, "measured": measured,
             "status": "PASS" if ok else "MISS"}
        )  # fmt: skip

    by_key = {(r["database"], r["conflicts"]): r for r in results}
    for r in results:
        engine, n, rows = r["database"], r["conflicts"], r["endpoints"]
        if n >= TARGET_SIZE:
            for label in PAGES:
                row = rows[label]
                add(
                    engine,
                    n,
                    f"{label} ≥ 15% of /healthz",
                    f"{row['ratio_to_healthz']:.1%}",
                    row["ratio_to_healthz"] >= 0.15,
                )
                add(
                    engine, n, f"{label} p95 < 50 ms", f"{row['p95_ms']:.1f} ms", row["p95_ms"] < 50
                )
            post = rows[API_POST]
            add(
                engine,
                n,
                f"{API_POST} ≥ 8% of /healthz",
                f"{post['ratio_to_healthz']:.1%}",
                post["ratio_to_healthz"] >= 0.08,
            )
            statements = r["statements"][API_POST]
            add(engine, n, f"{API_POST} ≤ 12 statements", str(statements), statements <= 12)
            search = rows[SEARCH]
            add(
                engine,
                n,
                "search ≥ 10% of /healthz",
                f"{search['ratio_to_healthz']:.1%}",
                search["ratio_to_healthz"] >= 0.10,
            )
        if n >= LARGE_SIZE and (engine, TARGET_SIZE) in by_key:
            base = by_key[(engine, TARGET_SIZE)]["endpoints"]
            for label in PAGES:
                slower = base[label]["ratio_to_healthz"] / max(
                    1e-9, rows[label]["ratio_to_healthz"]
                )
                add(engine, n, f"{label} within 1.5× of 100k", f"{slower:.2f}×", slower <= 1.5)
        if n >= LARGE_SIZE and "sweep" in r:
            ms = r["sweep"]["second_sweep_seconds"] * 1000
            add(engine, n, "sweep with nothing due < 50 ms", f"{ms:.1f} ms", ms < 50)
        last = r["worker_rss_mib"][-1]
        add(
            engine,
            n,
            f"worker RSS < {RSS_LIMIT_MIB} MiB after the runs",
            f"{max(last):.0f} MiB",
            max(last) < RSS_LIMIT_MIB,
        )
        growth = max(last) - max(r["worker_rss_mib"][0])
        add(
            engine,
            n,
            "worker RSS not growing between repetitions",
            f"{growth:+.1f} MiB",
            growth <= RSS_GROWTH_MIB,
        )
    return checks  # fmt: skip


# --- the table -------------------------------------------------------------------------------


def _range(values: list[float]) -> str:
    return f"{min(values):.2f}–{max(values):.2f}"


def _spread(values: list[float]) -> str:
    return f"{min(values):.1%}–{max(values):.1%}"


def table(report: dict) -> str:
    lines = [
        f"{report['load']}, {report['repetitions']} interleaved repetitions; "
        f"{report['cpus']} CPUs; figures are medians, ratios to /healthz of the same repetition; "
        f"rate limits in {report.get('rate_limit_storage', 'memory://')}"
    ]
    for r in report["results"]:
        healthz = r["endpoints"]["GET /healthz"]
        lines.append(
            f"\n{r['database']}, {r['conflicts']:,} conflicts ({r['duration_seconds']} s per run; "
            f"worker RSS MiB after each repetition: {r['worker_rss_mib']})"
        )
        lines.append(
            f"{'endpoint':<30}{'req/s':>8}{'× hz':>7}{'spread':>15}{'p50':>7}{'p95':>7}"
            f"{'p99':>7}{'p95×hz':>8}{'CPU ms':>8}{'CPU×hz':>8}{'err':>6}{'SQL':>5}"
        )
        for label, row in r["endpoints"].items():
            p95_ratio = row["p95_ms"] / max(0.001, healthz["p95_ms"])
            cpu_ratio = row["worker_cpu_ms_per_request"] / max(
                0.001, healthz["worker_cpu_ms_per_request"]
            )
            lines.append(
                f"{label:<30}{row['rps']:>8.0f}{row['ratio_to_healthz']:>7.1%}"
                f"{_spread(row['ratio_runs']):>15}{row['p50_ms']:>7.1f}{row['p95_ms']:>7.1f}"
                f"{row['p99_ms']:>7.1f}{p95_ratio:>8.1f}{row['worker_cpu_ms_per_request']:>8.2f}"
                f"{cpu_ratio:>8.1f}{row['errors'] + row['non_2xx_3xx']:>6}"
                f"{r['statements'].get(label, ''):>5}"
            )
        if "sweep" in r:
            s = r["sweep"]
            lines.append(
                f"sweep: {s['due']} due among {r['conflicts']:,}: {s['ms_per_level']:.2f} ms per "
                f"level fired ({_range(s['ms_per_level_runs'])}), "
                f"nothing due {s['second_sweep_seconds'] * 1000:.1f} ms, "
                f"{s['statements_per_conflict']:.2f} statements per due conflict, due selection "
                f"{'by ix_conflicts_next_check_at' if s['plan_uses_index'] else 'NOT by its index'}"
            )
        if r.get("catch_up"):
            c = r["catch_up"]
            lines.append(
                f"caught up to {c['at']} before serving (the production sweep, once): "
                f"{c['evaluated']:,} conflicts in {c['seconds']:.0f} s"
            )
    lines.append(f"\n{'target':<52}{'engine':<12}{'conflicts':>10}{'measured':>12}  status")
    for c in report["targets"]:
        lines.append(
            f"{c['target']:<52}{c['engine']:<12}{c['conflicts']:>10,}{c['measured']:>12}  "
            f"{c['status']}"
        )
    return "\n".join(lines)


def markdown(report: dict) -> str:
    """The README's Performance tables, from a run's JSON."""
    out = [
        f"`{report['command']}` on {report['started']} ({report['cpus']} shared CPUs, "
        f"{report['load']}, {report['repetitions']} interleaved repetitions, medians; "
        "“× hz” is the ratio to `/healthz` in the same repetition):",
        "",
    ]
    sizes = sorted({r["conflicts"] for r in report["results"]})
    engines = sorted({r["database"] for r in report["results"]})
    columns = [(e, n) for n in sizes for e in engines]
    by_key = {(r["database"], r["conflicts"]): r for r in report["results"]}
    columns = [c for c in columns if c in by_key]
    head = " | ".join(f"{e} {n:,}" for e, n in columns)
    out += [
        f"| endpoint: req/s (× hz), p95 ms, CPU ms/req, SQL | {head} |",
        "|---|" + "---|" * len(columns),
    ]
    labels = list(by_key[columns[0]]["endpoints"])
    for label in labels:
        cells = []
        for key in columns:
            r = by_key[key]
            row = r["endpoints"][label]
            cells.append(
                f"{row['rps']:,.0f} ({row['ratio_to_healthz']:.1%}), {row['p95_ms']:.1f}, "
                f"{row['worker_cpu_ms_per_request']:.1f}, {r['statements'].get(label, '–')}"
            )
        out.append(f"| `{label}` | " + " | ".join(cells) + " |")
    rss = [f"{max(by_key[k]['worker_rss_mib'][-1]):.0f}" for k in columns]
    out.append("| worker RSS MiB after the runs | " + " | ".join(rss) + " |")
    sweeps = []
    for key in columns:
        s = by_key[key].get("sweep")
        sweeps.append(
            f"{s['ms_per_level']:.2f} ms/level, "
            f"nothing due {s['second_sweep_seconds'] * 1000:.1f} ms"
            if s else "–"
        )  # fmt: skip
    out.append("| sweep: 500 due | " + " | ".join(sweeps) + " |")
    durations = [f"{by_key[k]['duration_seconds']} s" for k in columns]
    out.append("| wrk seconds per run | " + " | ".join(durations) + " |")
    out += ["", "| target | engine | conflicts | measured | |", "|---|---|---|---|---|"]
    for c in report["targets"]:
        out.append(
            f"| {c['target']} | {c['engine']} | {c['conflicts']:,} | {c['measured']} | "
            f"{c['status']} |"
        )
    return "\n".join(out)


# --- main ------------------------------------------------------------------------------------


def command(args: argparse.Namespace, argv: list[str] | None) -> str:
    """What made this run, as the README quotes it: `make bench` (with BENCH_SCALE) when no
    size or engine was chosen, else bench/run.py with its arguments."""
    given = sys.argv[1:] if argv is None else argv
    if args.sizes or args.engines:
        return " ".join([".venv/bin/python bench/run.py", *given])
    return " ".join(
        ([f"BENCH_SCALE={args.scale}"] if args.scale != "default" else []) + ["make bench"]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=("default", "large"),
                        default=os.environ.get("BENCH_SCALE") or "default")  # fmt: skip
    parser.add_argument("--sizes", type=lambda v: tuple(int(x) for x in v.split(",")))
    parser.add_argument("--engines", type=lambda v: v.split(","), help="sqlite,postgresql")
    parser.add_argument("--budget", type=int, default=int(os.environ.get("BENCH_BUDGET", 600)),
                        help="seconds for the whole run (default %(default)s)")  # fmt: skip
    parser.add_argument("--duration", type=int, default=int(os.environ.get("BENCH_DURATION", 10)),
                        help="at most this many seconds per wrk run")  # fmt: skip
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--json", type=Path, default=LATEST)
    parser.add_argument("--markdown", action="store_true", help="print the last run, README form")
    args = parser.parse_args(argv)
    if args.markdown:
        print(markdown(json.loads(args.json.read_text())))
        return 0
    started = time.monotonic()
    sizes = args.sizes or (LARGE_SIZES if args.scale == "large" else SIZES)
    server = postgresql_server()
    engines = args.engines or (["sqlite", "postgresql"] if server else ["sqlite"])
    if "postgresql" in engines and server is None:
        raise SystemExit("no PostgreSQL: set TRACKER_BENCH_DATABASE_URL")
    if "postgresql" not in engines:
        log(
            "PostgreSQL: not asked for (--engines); SQLite only"
            if args.engines
            else "PostgreSQL: none configured or answering on 127.0.0.1:5432; SQLite only"
        )
    if shutil.which("wrk") is None:
        subprocess.run(["bash", str(ROOT / "scripts" / "ensure-wrk.sh")], check=True)
    pending = [(e, n) for n in sizes for e in engines]
    endpoints_per_scale = len(bench_http.endpoints({"busy": 0, "partner": 0}))
    plan = Plan(started + args.budget, args.duration, list(pending),
                endpoints_per_scale * args.repetitions)  # fmt: skip
    results = []
    for engine, n in pending:
        results.append(run_scale(engine, n, server, args, plan))
        plan.pending.remove((engine, n))
    report = {
        "benchmark": "run",
        "command": command(args, argv),
        "started": time.strftime(
            "%Y-%m-%d %H:%M UTC", time.gmtime(time.time() - (time.monotonic() - started))
        ),
        "seconds": round(time.monotonic() - started),
        "budget_seconds": args.budget,
        "server": "gunicorn -w 2 (sync), production configuration",
        "rate_limit_storage": bench_http.rate_limit_storage(),
        "load": f"wrk -t2 -c{args.connections}",
        "repetitions": args.repetitions,
        "open_share": OPEN_SHARE,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "results": results,
    }
    report["targets"] = targets(results)
    print(table(report))
    print(f"\n{report['seconds']} s in all (budget {args.budget} s)")
    RESULTS.mkdir(parents=True, exist_ok=True)
    body = json.dumps(report, indent=2) + "\n"
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(body)
    stamped = RESULTS / f"run-{time.strftime('%Y%m%d-%H%M%S')}.json"
    stamped.write_text(body)
    print(f"wrote {args.json} and {stamped}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
