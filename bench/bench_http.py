"""Benchmark the app over HTTP as it runs in production: gunicorn, 2 workers, wrk on loopback.

Usage: python bench/bench_http.py [--json PATH] [--database-url URL] [--sizes 1000,100000]
                                  [--duration 10] [--connections 8] [--repetitions 3]
                                  [--open-share 0.65] [--only LABEL,...]

For each size N a fresh database gets N conflicts across 50 partners (--open-share of them
not closed), then one gunicorn with 2 sync workers serves it on a free loopback port, with
the production configuration. For each repetition, every endpoint in turn is loaded by wrk
(Debian's package; scripts/ensure-wrk.sh installs it) with 8 connections for 10 s:
`/healthz` first, as the limit of this machine at this moment, then the pages and the API.
Each figure is also given as a ratio to `/healthz` of the same repetition, because the
machine is shared and noisy; the table shows medians and the spread over repetitions.

Worker CPU per request is the workers' user+system time (from /proc) over the requests
served; RSS is the workers' resident memory after each repetition. SQLite by default;
PostgreSQL with --database-url or TRACKER_BENCH_DATABASE_URL (a throw-away database).
"""

from __future__ import annotations

import argparse
import functools
import http.cookiejar
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from bench._fixtures import (  # noqa: E402
    Cast,
    analyze_if_postgresql,
    bench_app,
    dialect,
    log,
    requested_database_url,
    timed,
)
from tracker.clock import utcnow  # noqa: E402
from tracker.extensions import db  # noqa: E402
from tracker.models import Conflict, User  # noqa: E402
from tracker.services import api_tokens, conflicts, demo_history  # noqa: E402

DEFAULT_JSON = ROOT / "bench" / "results" / "http.json"
SIZES = (1_000, 100_000)
LARGE_SIZES = (1_000, 100_000, 1_000_000)
PARTNERS = 50
OPEN_SHARE = 0.65
TRUST_EVENTS_PER_CLOSED = 3
TIMELINE_EVENTS = 50
SEED = 20261202
LOOPBACK = "127.0.0.1"
BIN = Path(sys.executable).parent
LUA = Path(__file__).resolve().parent / "wrk_report.lua"
USER_AGENT = "trustomer-bench/1"


_POST_BODY = json.dumps(
    {
        "title": "Invoice 4471 paid 12 days after the agreed terms",
        "description": "The payment run missed the date agreed in the reseller terms.",
        "category": "payment_terms",
        "severity": "medium",
    }
)


@dataclass(frozen=True)
class Endpoint:
    label: str
    path: str
    who: str  # "anonymous", "manager", "partner" (session cookie) or "api" (bearer token)
    method: str = "GET"


def endpoints(context: dict) -> list[Endpoint]:
    """What is measured, `/healthz` first (the limit every other figure is divided by)."""
    return [
        Endpoint("GET /healthz", "/healthz", "anonymous"),
        Endpoint("GET /console/queue", "/console/queue", "manager"),
        Endpoint("GET /console/conflicts/<id>", f"/console/conflicts/{context['busy']}", "manager"),
        Endpoint("GET /portal/conflicts", "/portal/conflicts", "partner"),
        Endpoint("GET /partners/<id>/trust", f"/partners/{context['partner']}/trust", "manager"),
        Endpoint("GET /console/reports", "/console/reports", "manager"),
        Endpoint("GET /console/queue?q=", "/console/queue?q=pallets", "manager"),
        Endpoint("GET /api/v1/conflicts", "/api/v1/conflicts", "api"),
        Endpoint("POST /api/v1/conflicts", "/api/v1/conflicts", "api", "POST"),
    ]


# --- data ----------------------------------------------------------------------------------


def build(n: int, open_share: float, cast_now) -> tuple[Cast, dict]:  # type: ignore[no-untyped-def]
    """N conflicts of history (`flask demo generate`'s service), one conflict with a long
    timeline, an API token."""
    rng = random.Random(SEED + n)
    seconds, generated = timed(
        lambda: demo_history.generate(
            partners=PARTNERS,
            conflicts=n,
            open_share=open_share,
            history_days=730,
            now=cast_now,
            seed=SEED + n,
            progress=lambda done, total: done % 100_000 == 0 and log(f"  {done:,} of {total:,}"),
        )
    )
    log(f"N={n:,}: generated in {seconds:.1f}s")
    cast, counts = generated.cast, generated.counts
    partner = cast.partners[0]
    user = db.session.get(User, partner.user_id)
    busy = conflicts.submit(
        user,
        title="Pallets for order 5521 short-shipped twice",
        description="Two deliveries arrived with fewer pallets than the delivery note says.",
        category="delivery",
        severity="high",
        now=cast_now,
    )
    for i in range(TIMELINE_EVENTS - 1):
        conflicts.comment(
            user,
            busy.id,
            f"Update {i + 1}: the carrier's scan log for pallet {rng.randrange(1000, 9999)}.",
            now=cast_now + timedelta(minutes=i + 1),
        )
    _, token = api_tokens.create(user, name="bench", scope=api_tokens.WRITE, now=cast_now)
    analyze_if_postgresql()
    some_open = db.session.scalar(select(Conflict.id).where(Conflict.status == "open").limit(1))
    return cast, {
        "busy": busy.id,
        "partner": partner.id,
        "partner_email": partner.user_email,
        "token": token,
        "open_id": some_open,
        "counts": counts.as_dict(),
    }


# --- the server ------------------------------------------------------------------------------


@functools.cache
def rate_limit_storage() -> str:
    """Where the workers count rate limits: BENCH_RATELIMIT_STORAGE_URL, else the local Redis
    when it answers, as the README asks of several processes serving (memory:// counts per
    worker and starts a timer thread for most requests), else memory://. Asked once per
    run, so every server and the report name the same storage."""
    chosen = os.environ.get("BENCH_RATELIMIT_STORAGE_URL")
    if chosen:
        return chosen
    import socket

    try:
        with socket.create_connection((LOOPBACK, 6379), timeout=1) as redis:
            redis.sendall(b"PING\r\n")
            if redis.recv(16).startswith(b"+PONG"):
                return f"redis://{LOOPBACK}:6379"
    except OSError:
        pass
    return "memory://"


class Gunicorn:
    """gunicorn -w 2 on a free loopback port with the production configuration (rate limits
    in Redis when one answers: see rate_limit_storage)."""

    def __init__(self, database_url: str, instance: Path) -> None:
        self.port = _free_port()
        self.log = open(instance / "gunicorn.log", "w")  # noqa: SIM115 - closed in stop()
        env = {
            **os.environ,
            "TRACKER_ENV": "production",
            "TRACKER_SECRET_KEY": "bench-" + "k" * 40,
            "TRACKER_DATABASE_URL": database_url,
            "TRACKER_INSTANCE_PATH": str(instance),
            "TRACKER_UPLOAD_DIR": str(instance / "uploads"),
            # Per-token limits would turn a load test into a 429 test.
            "TRACKER_API_RATE_LIMIT": "10000000/minute",
            "TRACKER_RATELIMIT_STORAGE_URL": rate_limit_storage(),
            "TRACKER_BASE_URL": f"http://{LOOPBACK}:{self.port}",
        }
        self.process = subprocess.Popen(
            [str(BIN / "gunicorn"), "-w", "2", "-b", f"{LOOPBACK}:{self.port}",
             "--timeout", "60", "--log-level", "warning", "wsgi:app"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.base}/healthz", timeout=2) as response:
                    if response.status == 200 and len(self.workers()) == 2:
                        return
            except OSError:
                pass
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited; see {instance / 'gunicorn.log'}")
            time.sleep(0.2)
        raise SystemExit("gunicorn did not become ready within 60 s")

    @property
    def base(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def workers(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(pid) for pid in children.read_text().split()]
        except OSError:
            return []

    def cpu_seconds(self) -> float:
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0
        for pid in self.workers():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / ticks

    def rss_mib(self) -> list[float]:
        sizes = []
        for pid in self.workers():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
            if match:
                sizes.append(round(int(match.group(1)) / 1024, 1))
        return sizes

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


class _LoopbackPolicy(http.cookiejar.DefaultCookiePolicy):
    """Production cookies are Secure; the benchmark talks plain HTTP on loopback only."""

    def return_ok_secure(self, cookie, request):  # type: ignore[no-untyped-def]
        return True


def session_cookie(base: str, email: str, password: str) -> str:
    """Sign in through the real form (CSRF token included) and return the Cookie header."""
    jar = http.cookiejar.CookieJar(policy=_LoopbackPolicy())
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    # Flask-Login's strong session protection ties the session to the client's User-Agent.
    opener.addheaders = [("User-Agent", USER_AGENT)]
    with opener.open(f"{base}/auth/login", timeout=10) as response:
        page = response.read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    data = {"email": email, "password": password}
    if token:
        data["csrf_token"] = token.group(1)
    body = urllib.parse.urlencode(data).encode()
    with opener.open(f"{base}/auth/login", data=body, timeout=10) as response:
        if "/auth/login" in response.url:
            raise SystemExit(f"signing in as {email} failed")
    return "; ".join(f"{c.name}={c.value}" for c in jar)


# --- the load ------------------------------------------------------------------------------


def wrk(
    base: str, endpoint: Endpoint, headers: dict[str, str], duration: int, connections: int
) -> dict:
    """One wrk run; its Lua script prints one JSON line with counts and latency percentiles."""
    env = {**os.environ, "BENCH_METHOD": endpoint.method}
    if endpoint.method == "POST":
        env["BENCH_BODY"] = _POST_BODY
        headers = {**headers, "Content-Type": "application/json"}
    arguments = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{duration}s", "-s", str(LUA)]
    for name, value in {"User-Agent": USER_AGENT, **headers}.items():
        arguments += ["-H", f"{name}: {value}"]
    arguments.append(base + endpoint.path)
    result = subprocess.run(
        arguments, env=env, capture_output=True, text=True, timeout=duration + 60, check=False
    )
    line = next((x for x in result.stdout.splitlines() if x.startswith("{")), None)
    if line is None:
        raise SystemExit(
            f"wrk gave no report for {endpoint.label}: {result.stderr or result.stdout}"
        )
    return json.loads(line)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


def check(base: str, endpoint: Endpoint, headers: dict[str, str]) -> None:
    """One request first: a load test of a redirect to the sign-in page proves nothing."""
    data = None
    if endpoint.method == "POST":
        data = os.environ.get("BENCH_BODY", _POST_BODY).encode()
        headers = {**headers, "Content-Type": "application/json"}
    request = urllib.request.Request(
        base + endpoint.path,
        data=data,
        headers={"User-Agent": USER_AGENT, **headers},
        method=endpoint.method,
    )
    opener = urllib.request.build_opener(_NoRedirect())
    try:
        with opener.open(request, timeout=30) as response:
            status = response.status
            size = len(response.read())
    except urllib.error.HTTPError as error:
        status, detail = error.code, error.read()[:300]
        raise SystemExit(f"{endpoint.label} answered {status}: {detail!r}") from error
    if status not in (200, 201):
        raise SystemExit(f"{endpoint.label} answered {status}, not 200/201")
    log(f"{endpoint.label}: {status}, {size:,} bytes")


def run_size(n: int, args: argparse.Namespace, database_url: str | None) -> dict:
    with bench_app(database_url) as app, app.app_context():
        now = utcnow()
        cast, context = build(n, args.open_share, now)
        url = db.engine.url.render_as_string(hide_password=False)
        engine_name = dialect()
        db.session.remove()
        db.engine.dispose()
        with tempfile.TemporaryDirectory(prefix="trustomer-bench-http-") as instance:
            server = Gunicorn(url, Path(instance))
            try:
                manager = session_cookie(server.base, cast.manager_email, cast.password)
                partner = session_cookie(server.base, context["partner_email"], cast.password)
                headers_for = {
                    "anonymous": {},
                    "manager": {"Cookie": manager},
                    "partner": {"Cookie": partner},
                    "api": {"Authorization": f"Bearer {context['token']}"},
                }
                chosen = [e for e in endpoints(context) if not args.only or e.label in args.only]
                if chosen[0].label != "GET /healthz":
                    chosen.insert(0, endpoints(context)[0])
                for endpoint in chosen:
                    check(server.base, endpoint, headers_for[endpoint.who])
                runs: dict[str, list[dict]] = {e.label: [] for e in chosen}
                rss: list[list[float]] = []
                for repetition in range(args.repetitions):
                    for endpoint in chosen:
                        before = server.cpu_seconds()
                        report = wrk(
                            server.base,
                            endpoint,
                            headers_for[endpoint.who],
                            args.duration,
                            args.connections,
                        )
                        report["worker_cpu_seconds"] = server.cpu_seconds() - before
                        runs[endpoint.label].append(report)
                        log(
                            f"N={n:,} {engine_name} rep {repetition + 1}: {endpoint.label} "
                            f"{report['requests'] / report['seconds']:.0f} req/s"
                        )
                    rss.append(server.rss_mib())
            finally:
                server.stop()
        return {
            "conflicts": n,
            "database": engine_name,
            "rows": context["counts"],
            "endpoints": summarise(runs),
            "worker_rss_mib": rss,
        }


def summarise(runs: dict[str, list[dict]]) -> dict[str, dict]:
    """Medians and spread per endpoint, each repetition divided by /healthz of the same one."""
    limit = [r["served"] / r["seconds"] for r in runs["GET /healthz"]]
    summary = {}
    for label, reports in runs.items():
        rps = [r["served"] / r["seconds"] for r in reports]  # 200/201 only
        ratios = [x / h if h else 0.0 for x, h in zip(rps, limit, strict=True)]
        cpu = [1000 * r["worker_cpu_seconds"] / max(1, r["requests"]) for r in reports]
        summary[label] = {
            "rps": round(statistics.median(rps), 1),
            "rps_runs": [round(x, 1) for x in rps],
            "ratio_to_healthz": round(statistics.median(ratios), 4),
            "ratio_runs": [round(x, 4) for x in ratios],
            "p50_ms": round(statistics.median(r["p50_us"] for r in reports) / 1000, 2),
            "p95_ms": round(statistics.median(r["p95_us"] for r in reports) / 1000, 2),
            "p99_ms": round(statistics.median(r["p99_us"] for r in reports) / 1000, 2),
            "errors": sum(r["errors"] for r in reports),
            "non_2xx_3xx": sum(r["status_errors"] for r in reports),
            "worker_cpu_ms_per_request": round(statistics.median(cpu), 2),
        }
    return summary


def table(results: list[dict]) -> str:
    lines = []
    for result in results:
        lines.append(
            f"\n{result['database']}, {result['conflicts']:,} conflicts "
            f"(worker RSS MiB after each repetition: {result['worker_rss_mib']})"
        )
        lines.append(
            f"{'endpoint':<30}{'req/s':>9}{'spread':>15}{'× healthz':>11}{'p50 ms':>8}"
            f"{'p95 ms':>8}{'p99 ms':>8}{'CPU ms/req':>11}{'errors':>8}"
        )
        for label, row in result["endpoints"].items():
            spread = f"{min(row['rps_runs']):.0f}–{max(row['rps_runs']):.0f}"
            lines.append(
                f"{label:<30}{row['rps']:>9.0f}{spread:>15}{row['ratio_to_healthz']:>10.1%} "
                f"{row['p50_ms']:>7.1f}{row['p95_ms']:>8.1f}{row['p99_ms']:>8.1f}"
                f"{row['worker_cpu_ms_per_request']:>11.2f}"
                f"{row['errors'] + row['non_2xx_3xx']:>8}"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON)
    parser.add_argument("--database-url", help="PostgreSQL server for a throw-away database")
    large = os.environ.get("BENCH_SCALE") == "large"
    parser.add_argument(
        "--sizes",
        type=lambda v: tuple(int(x) for x in v.split(",")),
        default=LARGE_SIZES if large else SIZES,
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument("--open-share", type=float, default=OPEN_SHARE)
    parser.add_argument(
        "--only", type=lambda v: set(v.split(",")), default=None, help="endpoint labels"
    )
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        subprocess.run(["bash", str(ROOT / "scripts" / "ensure-wrk.sh")], check=True)
    database_url = requested_database_url(args.database_url)
    results = [run_size(n, args, database_url) for n in args.sizes]
    print(table(results))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(
        json.dumps(
            {
                "benchmark": "http",
                "server": "gunicorn -w 2 (sync), production configuration",
                "load": f"wrk -t2 -c{args.connections} -d{args.duration}s",
                "repetitions": args.repetitions,
                "open_share": args.open_share,
                "python": platform.python_version(),
                "machine": platform.machine(),
                "cpus": os.cpu_count(),
                "results": results,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
