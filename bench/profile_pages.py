"""Profile the list and conflict pages in process: CPU ms per render, and where it goes.

Usage: python bench/profile_pages.py [--database PATH] [--requests 50] [--only LABEL,...]
                                     [--profile] [--top 25] [--sort tottime] [--statements]

Works on a COPY of bench/run.py's cached SQLite database (bench/.cache/sqlite-100000-*.db
by default, the newest one; --database for another), which it leaves untouched. Signs in
as the manager and the partner of the cache's sidecar, warms each page up, then times
`--requests` requests of each with the Flask test client in rounds of 10 (process CPU
time; the best round is reported, as the least disturbed by other work on a shared
machine), with --profile prints cProfile's top functions and with --statements each SQL
statement of one request with its time, slowest first. What a page costs per
request in Python is what gunicorn's workers spend on it.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._fixtures import bench_config, captured_statements  # noqa: E402
from tracker import create_app  # noqa: E402
from tracker.extensions import db  # noqa: E402

CACHE = ROOT / "bench" / ".cache"
SQL_WIDTH = int(os.environ.get("PROFILE_SQL_WIDTH", "150"))  # characters of SQL shown


def pages(context: dict) -> dict[str, tuple[str, str]]:
    """label -> (who, path), as bench_http.endpoints names them."""
    return {
        "queue": ("manager", "/console/queue"),
        "conflict": ("manager", f"/console/conflicts/{context['busy']}"),
        "portal": ("partner", "/portal/conflicts"),
        "portal-conflict": ("partner", f"/portal/conflicts/{context['busy']}"),
    }


def newest_cache() -> Path:
    found = sorted(
        (p for p in CACHE.glob("sqlite-100000-*.db") if ".partial." not in p.name),
        key=lambda p: p.stat().st_mtime,
    )
    if not found:
        raise SystemExit("no bench/.cache/sqlite-100000-*.db: run bench/run.py once")
    return found[-1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", type=Path)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--only", default="queue,conflict,portal")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--statements", action="store_true", help="each statement's time")
    parser.add_argument("--locale", default="", help="Accept-Language for every request")
    args = parser.parse_args(argv)
    source = args.database or newest_cache()
    # the sidecar is the generated database's (a caught-up `.swept.db` shares it)
    sidecar = source.with_name(source.name.replace(".swept.db", ".db")).with_suffix(".json")
    context = json.loads(sidecar.read_text())
    with tempfile.TemporaryDirectory(prefix="trustomer-profile-") as work:
        copy = Path(work) / "bench.db"
        shutil.copyfile(source, copy)
        app = create_app(bench_config(f"sqlite:///{copy}", work))
        with app.app_context():
            engine = db.engine
        clients = {}
        for who, email in (("manager", context["manager_email"]),
                           ("partner", context["partner_email"])):  # fmt: skip
            client = app.test_client()
            client.post("/auth/login", data={"email": email, "password": context["password"]})
            clients[who] = client
        headers = {"Accept-Language": args.locale} if args.locale else {}
        chosen = pages(context)
        for label in args.only.split(","):
            who, path = chosen[label]
            client = clients[who]
            for _ in range(5):
                response = client.get(path, headers=headers)
                if response.status_code != 200:
                    raise SystemExit(f"{label}: {response.status_code}")
            with captured_statements(engine) as seen:
                client.get(path, headers=headers)
            profiler = cProfile.Profile() if args.profile else None
            rounds = []  # CPU ms per request of each round of 10: the best is the least disturbed
            if profiler:
                profiler.enable()
            for _ in range(max(1, args.requests // 10)):
                started = time.process_time()
                for _ in range(10):
                    client.get(path, headers=headers)
                rounds.append((time.process_time() - started) / 10 * 1000)
            if profiler:
                profiler.disable()
            print(f"{label:16} {min(rounds):6.2f} ms CPU/request (best round; median "
                  f"{statistics.median(rounds):6.2f})  {len(seen):3d} SQL  "
                  f"{len(response.data):7,d} bytes  {path}")  # fmt: skip
            if args.statements:
                for statement in sorted(seen, key=lambda s: -s.seconds):
                    sql = " ".join(statement.sql.split())[:SQL_WIDTH]
                    print(f"  {statement.seconds * 1000:6.2f} ms  {sql}")
            if profiler:
                stats = pstats.Stats(profiler)
                calls = stats.total_calls / args.requests  # type: ignore[attr-defined]
                print(f"  {calls:,.0f} function calls per request")
                stats.sort_stats(args.sort).print_stats(args.top)
        engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
