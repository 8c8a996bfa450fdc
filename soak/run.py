"""`make soak`: a bounded reliability run against real gunicorn servers, then invariant checks.

Two gunicorn instances share one fresh PostgreSQL database and one serves a fresh SQLite
file (2 workers each, loopback ports). SOAK_CLIENTS client threads (default 32, split between
the engines) drive the REST API for SOAK_SECONDS (default 60): submits with an
Idempotency-Key (retried with the same key when the connection drops), comments, and the
workflow (triage by two managers at once, wait on the partner, the partner's reply resumes,
resolve, accept and dispute at once by two partner users). Meanwhile `flask sla sweep` and
`flask notifications deliver` (to a loopback SMTP sink) run in subprocesses, sometimes two at
once, and a killer SIGKILLs gunicorn workers and those subprocesses at random moments.

Afterwards it drains the outbox, reads the databases and prints a table per engine:
requests, 2xx, 409, lost, doubled, 5xx; `flask trust rebuild` must agree with the stored
tallies. Exit status 1 when anything is lost, doubled, a 5xx or a trust disagreement.
Results: soak/results/soak-<time>.json (git-ignored). Environment: SOAK_SECONDS,
SOAK_CLIENTS, SOAK_PG_URL (a PostgreSQL server URL; default TRACKER_TEST_DATABASE_URL, else
postgresql://postgres@127.0.0.1:5432/postgres; SOAK_PG_URL=none runs SQLite only),
SOAK_SEED (random seed).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiosmtpd.controller import Controller

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "soak" / "results"
BIN = Path(sys.executable).parent
LOOPBACK = "127.0.0.1"
SECONDS = float(os.environ.get("SOAK_SECONDS", "60"))
CLIENTS = int(os.environ.get("SOAK_CLIENTS", "32"))
RNG_SEED = int(os.environ.get("SOAK_SEED", str(random.SystemRandom().randrange(10**6))))
# Sweeps look ahead so that clocks breach, escalations fire and resolutions auto-close
# while clients still act; the deliverer looks furthest ahead so it sends what they wrote.
SWEEP_AHEAD = (timedelta(0), timedelta(hours=2), timedelta(days=1), timedelta(days=8))
DELIVER_AHEAD = timedelta(days=9)
FINAL_AHEAD = timedelta(days=10)
DRAIN_SECONDS = 30
HARD_LIMIT = SECONDS + 480  # the whole run stops by itself, whatever hangs


def log(message: str) -> None:
    print(f"[soak {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


# --- the SMTP sink ---------------------------------------------------------------------------


class MailSink:
    """Counts every Message-ID received (one sink per engine: ids restart in every database)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.lock = threading.Lock()
        self.message_ids: Counter[str] = Counter()
        self.controller = Controller(
            self, hostname=LOOPBACK, port=self.port, server_hostname="soak.loopback.test"
        )

    async def handle_DATA(self, server, session, envelope) -> str:  # type: ignore[no-untyped-def]
        content = envelope.original_content or envelope.content
        message_id = ""
        for line in content.split(b"\r\n\r\n", 1)[0].splitlines():
            if line.lower().startswith(b"message-id:"):
                message_id = line.split(b":", 1)[1].strip().decode()
        with self.lock:
            self.message_ids[message_id] += 1
        return "250 OK"


# --- one engine: its database, servers, sweepers ---------------------------------------------


@dataclass
class Stats:
    requests: int = 0
    ok: int = 0
    conflict: int = 0
    other_4xx: int = 0
    server_errors: int = 0
    connection_errors: int = 0
    by_status: Counter = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, status: int | None) -> None:
        with self.lock:
            self.requests += 1
            self.by_status[str(status)] += 1
            if status is None:
                self.connection_errors += 1
            elif 200 <= status < 300:
                self.ok += 1
            elif status == 409:
                self.conflict += 1
            elif status >= 500:
                self.server_errors += 1
            else:
                self.other_4xx += 1


@dataclass
class Engine:
    name: str
    database_url: str
    workdir: Path
    sink: MailSink
    secret_key: str = field(default_factory=lambda: secrets.token_hex(32))
    servers: list[subprocess.Popen] = field(default_factory=list)
    ports: list[int] = field(default_factory=list)
    seeded: dict = field(default_factory=dict)
    stats: Stats = field(default_factory=Stats)
    jobs: list[subprocess.Popen] = field(default_factory=list)
    jobs_lock: threading.Lock = field(default_factory=threading.Lock)
    kills: Counter = field(default_factory=Counter)
    server_deaths: dict = field(default_factory=dict)  # port -> the reason in its log
    job_started: dict = field(default_factory=dict)  # pid -> monotonic start
    submits: list[dict] = field(default_factory=list)
    comments: list[int] = field(default_factory=list)
    actions_ok: Counter = field(default_factory=Counter)  # conflict id -> 2xx action keys
    replay_mismatches: int = 0
    job_failures: Counter = field(default_factory=Counter)
    record_lock: threading.Lock = field(default_factory=threading.Lock)

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.pop("TRACKER_TEST_DATABASE_URL", None)
        env.update(
            TRACKER_ENV="production",
            TRACKER_SECRET_KEY=self.secret_key,
            TRACKER_DATABASE_URL=self.database_url,
            TRACKER_INSTANCE_PATH=str(self.workdir),
            TRACKER_UPLOAD_DIR=str(self.workdir / "uploads"),
            TRACKER_BASE_URL="http://127.0.0.1",
            TRACKER_API_RATE_LIMIT="1000000/minute",
            TRACKER_SMTP_HOST=LOOPBACK,
            TRACKER_SMTP_PORT=str(self.sink.port),
            TRACKER_DELIVERY_LEASE_SECONDS="5",
            TRACKER_DELIVERY_BACKOFF_SECONDS="1",
        )
        return env

    def flask(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(BIN / "flask"), "--app", "wsgi", *args],
            cwd=ROOT,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def prepare(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        upgraded = self.flask("db", "upgrade")
        if upgraded.returncode != 0:
            raise RuntimeError(f"{self.name}: db upgrade failed:\n{upgraded.stderr}")
        seeded = subprocess.run(
            [sys.executable, str(ROOT / "soak" / "seed.py")],
            cwd=ROOT, env=self.env(), capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        if seeded.returncode != 0:
            raise RuntimeError(f"{self.name}: seeding failed:\n{seeded.stderr}")
        self.seeded = json.loads(seeded.stdout.strip().splitlines()[-1])

    def start_servers(self, count: int) -> None:
        for n in range(count):
            port = free_port()
            logfile = open(RESULTS / "logs" / f"{self.name}-gunicorn-{n}.log", "w")  # noqa: SIM115
            server = subprocess.Popen(
                [str(BIN / "gunicorn"), "-w", "2", "-b", f"{LOOPBACK}:{port}", "--timeout", "30",
                 "--graceful-timeout", "5", "wsgi:app"],
                cwd=ROOT, env=self.env(), stdout=logfile, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
            self.servers.append(server)
            self.ports.append(port)
        deadline = time.monotonic() + 60
        for port in self.ports:
            while request("GET", port, "/readyz")[0] != 200:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{self.name}: gunicorn on {port} did not become ready")
                time.sleep(0.2)

    def notice_dead_servers(self) -> None:
        """A gunicorn master that exited on its own (e.g. "Worker failed to boot")."""
        for n, (server, port) in enumerate(zip(self.servers, self.ports, strict=True)):
            if server.poll() is not None and port not in self.server_deaths:
                log_path = RESULTS / "logs" / f"{self.name}-gunicorn-{n}.log"
                lines = log_path.read_text(errors="replace").splitlines()
                reason = next((x for x in reversed(lines) if "Error" in x), lines[-1:] or ["?"])
                self.server_deaths[port] = str(reason)[:300]
                log(f"{self.name}: gunicorn on {port} exited: {self.server_deaths[port]}")

    def workers(self) -> list[int]:
        """The worker pids of our gunicorn masters (their children)."""
        masters = {s.pid for s in self.servers if s.poll() is None}
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid in masters:
                pids.append(int(entry.name))
        return pids

    def run_job(self, name: str, *args: str) -> None:
        """One sweep or delivery subprocess, registered so that the killer may find it."""
        logfile = RESULTS / "logs" / f"{self.name}-{name}.log"
        with open(logfile, "a") as out:
            job = subprocess.Popen(
                [str(BIN / "flask"), "--app", "wsgi", *args],
                cwd=ROOT, env=self.env(), stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
            with self.jobs_lock:
                self.jobs.append(job)
                self.job_started[job.pid] = time.monotonic()
            try:
                code = job.wait(timeout=120)
            except subprocess.TimeoutExpired:
                job.kill()
                code = job.wait()
            with self.jobs_lock:
                self.jobs.remove(job)
        if code not in (0, -signal.SIGKILL):
            self.job_failures[name] += 1
            log(f"{self.name}: {name} exited with {code}; see soak/results/logs/{logfile.name}")

    def stop(self) -> None:
        for server in self.servers:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGTERM)
        for server in self.servers:
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(server.pid, signal.SIGKILL)
                server.wait()
        with self.jobs_lock:
            for job in self.jobs:
                job.kill()


# --- HTTP ------------------------------------------------------------------------------------


def request(
    method: str,
    port: int,
    path: str,
    token: str | None = None,
    body: dict | None = None,
    key: str | None = None,
) -> tuple[int | None, dict | None, dict]:
    """One request on a new connection: (status, or None when it failed; json; headers)."""
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if key:
        headers["Idempotency-Key"] = key
    connection = http.client.HTTPConnection(LOOPBACK, port, timeout=40)
    try:
        connection.request(method, path, body=data, headers=headers)
        response = connection.getresponse()
        raw = response.read()
        try:
            payload = json.loads(raw) if raw else None
        except ValueError:
            payload = None
        return response.status, payload, dict(response.getheaders())
    except (OSError, http.client.HTTPException):
        return None, None, {}
    finally:
        connection.close()


class Client(threading.Thread):
    """One API client: stories of a conflict from submit to close, until the deadline."""

    def __init__(self, engine: Engine, number: int, deadline: float, rng: random.Random) -> None:
        super().__init__(daemon=True, name=f"client-{engine.name}-{number}")
        self.engine, self.number, self.deadline, self.rng = engine, number, deadline, rng
        partner = engine.seeded["partners"][number % len(engine.seeded["partners"])]
        self.partner_tokens = [u["token"] for u in partner["users"]]
        self.managers = engine.seeded["managers"]
        self.stories = 0
        self.error: str | None = None

    def port(self) -> int:
        return self.rng.choice(self.engine.ports)

    def post(self, path: str, token: str, body: dict, *, retries: int = 8) -> tuple:
        """POST with an Idempotency-Key, retried with the same key while the connection
        drops or the first attempt is still being processed."""
        key = f"soak-{uuid.uuid4().hex}"
        for attempt in range(retries):
            if attempt and time.monotonic() > self.deadline + 10:
                break  # past the run's end: give up on this key (checked like any other)
            status, payload, headers = request("POST", self.port(), path, token, body, key)
            self.engine.stats.count(status)
            still_running = status == 409 and "still being processed" in json.dumps(payload)
            if status is not None and not still_running:
                return status, payload, headers, key, attempt
            time.sleep(min(0.1 * 2**attempt, 2.0) * (0.5 + self.rng.random()))
        return None, None, {}, key, retries

    def get(self, path: str, token: str) -> int | None:
        status = request("GET", self.port(), path, token)[0]
        self.engine.stats.count(status)
        return status

    def act(self, conflict_id: int, token: str, action: str, **fields) -> int | None:  # type: ignore[no-untyped-def]
        status, _payload, headers, _key, _ = self.post(
            f"/api/v1/conflicts/{conflict_id}/actions", token, {"action": action, **fields}
        )
        if status is not None and 200 <= status < 300:
            with self.engine.record_lock:
                self.engine.actions_ok[conflict_id] += 1
        return status

    def comment(self, conflict_id: int, token: str, text: str) -> int | None:
        status, payload, _h, _k, _ = self.post(
            f"/api/v1/conflicts/{conflict_id}/comments", token, {"body": text}
        )
        if status == 201 and payload:
            with self.engine.record_lock:
                self.engine.comments.append(payload["id"])
        return status

    def at_once(self, *calls) -> list:  # type: ignore[no-untyped-def]
        """Run the calls in parallel threads, released together."""
        results: list = [None] * len(calls)
        barrier = threading.Barrier(len(calls))

        def run(index: int, call) -> None:  # type: ignore[no-untyped-def]
            barrier.wait()
            results[index] = call()

        threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return results

    def submit(self) -> int | None:
        token = self.partner_tokens[0]
        body = {
            "title": f"Soak {self.engine.name} {self.number}.{self.stories} {uuid.uuid4().hex[:8]}",
            "description": "Raised by the soak harness.",
            "category": self.rng.choice(["payment_terms", "delivery", "quality"]),
            "severity": self.rng.choice(["critical", "high", "medium", "low"]),
        }
        status, payload, _headers, key, attempts = self.post("/api/v1/conflicts", token, body)
        record = {"key": key, "title": body["title"], "status": status, "attempts": attempts + 1}
        if status == 201 and payload:
            record["id"] = payload["id"]
            if self.rng.random() < 0.15:  # a deliberate replay must return the same conflict
                again = request("POST", self.port(), "/api/v1/conflicts", token, body, key)
                self.engine.stats.count(again[0])
                answered = again[0] is not None and 200 <= again[0] < 300 and again[1]
                if answered and again[1].get("id") != payload["id"]:
                    with self.engine.record_lock:
                        self.engine.replay_mismatches += 1
        with self.engine.record_lock:
            self.engine.submits.append(record)
        return record.get("id")

    def story(self) -> None:
        conflict_id = self.submit()
        if conflict_id is None:
            return
        m1, m2 = self.rng.sample(self.managers, 2)
        own, colleague = self.partner_tokens
        self.comment(conflict_id, own, "More detail from the partner.")
        self.get(f"/api/v1/conflicts/{conflict_id}", own)
        triage = {"severity": "high", "category": "delivery"}
        self.at_once(
            lambda: self.act(conflict_id, m1["token"], "triage", assignee_id=m1["id"], **triage),
            lambda: self.act(conflict_id, m2["token"], "triage", assignee_id=m2["id"], **triage),
        )
        if self.act(conflict_id, m1["token"], "wait_on_partner", message="Which invoice?") == 200:
            self.comment(conflict_id, self.rng.choice((own, colleague)), "Invoice 4711.")
        if self.rng.random() < 0.5:
            self.comment(conflict_id, m1["token"], "Thanks, looking into it.")
        for _cycle in range(2):
            resolved = self.act(
                conflict_id, m1["token"], "resolve", summary="Paid with interest.",
                root_cause="process_gap", accountable_side="us",
            )  # fmt: skip
            if resolved != 200:
                return
            outcome = self.at_once(
                lambda: self.act(conflict_id, own, "accept"),
                lambda: self.act(conflict_id, colleague, "dispute", reason="Interest is missing."),
            )
            if outcome[0] == 200:  # accepted: the loop is closed
                return

    def run(self) -> None:
        try:
            while time.monotonic() < self.deadline:
                self.story()
                self.stories += 1
        except Exception as exc:  # reported, never silently lost
            self.error = repr(exc)


# --- chaos -----------------------------------------------------------------------------------


def repeat_job(engine: Engine, deadline: float, rng: random.Random, name: str) -> None:
    """Run sweeps (or deliveries) one after another, sometimes two at once, until the deadline."""
    while time.monotonic() < deadline:
        if name == "sweep":
            args = ("sweep", "sla", "sweep", "--now",
                    (datetime.now(UTC) + rng.choice(SWEEP_AHEAD)).isoformat())  # fmt: skip
        else:
            args = ("deliver", "notifications", "deliver", "--now",
                    (datetime.now(UTC) + DELIVER_AHEAD).isoformat())  # fmt: skip
        # Two at once now and then: the job locks and leases must make them take turns.
        runs = [threading.Thread(target=engine.run_job, args=args)]
        if rng.random() < 0.3:
            runs.append(threading.Thread(target=engine.run_job, args=args))
        for run in runs:
            run.start()
        for run in runs:
            run.join()
        time.sleep(rng.uniform(0.5, 2.0))


def killer(engines: list[Engine], deadline: float, rng: random.Random) -> None:
    """SIGKILL a gunicorn worker (gunicorn starts another) or a sweep/delivery that has been
    running a while (past its start-up, so mid-work), at random moments."""
    while time.monotonic() < deadline:
        time.sleep(rng.uniform(1.0, 3.0))
        for engine in engines:
            engine.notice_dead_servers()
        engine = rng.choice(engines)
        if rng.random() < 0.65:
            workers = engine.workers()
            if workers:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(rng.choice(workers), signal.SIGKILL)
                    engine.kills["gunicorn worker"] += 1
            continue
        # Past a job's start-up (seconds under load), so that it dies mid-work; late enough
        # that most sweeps and deliveries still finish and the escalation path is exercised.
        age = rng.uniform(3.0, 10.0)
        with engine.jobs_lock:
            running = [
                j
                for j in engine.jobs
                if j.poll() is None and time.monotonic() - engine.job_started[j.pid] > age
            ]
        if running:
            victim = rng.choice(running)
            with contextlib.suppress(ProcessLookupError):
                victim.kill()
                engine.kills[f"{victim.args[3]} {victim.args[4]}"] += 1


def guarded(target, errors: list[str]):  # type: ignore[no-untyped-def]
    """A thread body whose exception is reported instead of ending the thread silently."""

    def run(*args) -> None:  # type: ignore[no-untyped-def]
        try:
            target(*args)
        except Exception as exc:
            errors.append(f"{target.__name__}: {exc!r}")
            log(f"{target.__name__} failed: {exc!r}")

    return run


# --- invariants ------------------------------------------------------------------------------


def _rows(engine: Engine, sql: str) -> list[tuple]:
    from sqlalchemy import create_engine, text

    db = create_engine(engine.database_url)
    try:
        with db.connect() as connection:
            return [tuple(r) for r in connection.execute(text(sql))]
    finally:
        db.dispose()


TRUST_FOR_ACTION = {
    "resolved": ("resolve",),
    "accepted": ("accept",),
    "auto_accepted": ("auto_close",),
    "disputed": ("dispute",),
    "reopened": ("reopen",),
    "partner_answered": ("resume",),
}


def check(engine: Engine) -> dict:
    """Lost and doubled, read from the database and the mail sink."""
    conflicts = {cid: title for cid, title in _rows(engine, "SELECT id, title FROM conflicts")}
    by_title = Counter(conflicts.values())
    lost: Counter = Counter()
    doubled: Counter = Counter()
    for record in engine.submits:
        if "id" in record and conflicts.get(record["id"]) != record["title"]:
            lost["2xx create without its conflict"] += 1
        if by_title[record["title"]] > 1:
            doubled["conflicts for one Idempotency-Key"] += 1
    doubled["replay returned another conflict"] += engine.replay_mismatches
    event_ids = {r[0] for r in _rows(engine, "SELECT id FROM conflict_events")}
    lost["2xx comment without its event"] += sum(1 for e in engine.comments if e not in event_ids)

    transitions: dict[int, list[dict]] = defaultdict(list)
    for conflict_id, actor_id, data in _rows(
        engine,
        "SELECT conflict_id, actor_id, data FROM conflict_events "
        "WHERE kind = 'status_changed' ORDER BY conflict_id, id",
    ):
        data = json.loads(data) if isinstance(data, str) else data
        transitions[conflict_id].append({**data, "actor_id": actor_id})
    for conflict_id, steps in transitions.items():
        previous = "open"
        for a, b in zip(steps, steps[1:], strict=False):
            if (a["from"], a["to"]) == (b["from"], b["to"]):
                doubled["same status change twice in a row"] += 1
        for step in steps:
            if step["from"] != previous:
                doubled["status change from a stale state"] += 1
            previous = step["to"]
        by_api = sum(1 for s in steps if s["actor_id"] is not None)
        if by_api < engine.actions_ok.get(conflict_id, 0):
            lost["2xx action without its status change"] += 1

    trust = Counter(
        (cid, kind)
        for cid, kind in _rows(engine, "SELECT conflict_id, kind FROM trust_events")
        if cid is not None
    )
    actions = Counter((cid, s["action"]) for cid, steps in transitions.items() for s in steps)
    breaches = Counter(
        cid for (cid,) in _rows(engine, "SELECT conflict_id FROM escalations WHERE level='breach'")
    )
    for (conflict_id, kind), count in trust.items():
        if kind in TRUST_FOR_ACTION:
            allowed = sum(actions[(conflict_id, a)] for a in TRUST_FOR_ACTION[kind])
        elif kind == "breached":
            allowed = breaches[conflict_id]
        else:
            continue
        if count > allowed:
            doubled["trust ledger entry"] += count - allowed
    doubled["escalation per conflict/clock/level/cycle"] += sum(
        n - 1
        for (n,) in _rows(
            engine,
            "SELECT count(*) FROM escalations GROUP BY conflict_id, clock, level, cycle "
            "HAVING count(*) > 1",
        )
    )
    with engine.sink.lock:
        mail = dict(engine.sink.message_ids)
    doubled["e-mail with one Message-ID received twice"] += sum(
        n - 1 for n in mail.values() if n > 1
    )

    rebuilt = engine.flask(
        "trust", "rebuild", "--now", (datetime.now(UTC) + FINAL_AHEAD).isoformat()
    )
    verdict = (rebuilt.stdout.strip().splitlines() or ["?"])[-1]
    try:
        disagreements = int(verdict.split("rebuilt: ")[1].split()[0])
    except (IndexError, ValueError):
        disagreements = -1
    pending = _rows(engine, "SELECT status, count(*) FROM outbox_messages GROUP BY status")
    return {
        "lost": {k: v for k, v in lost.items() if v},
        "doubled": {k: v for k, v in doubled.items() if v},
        "trust_rebuild": verdict,
        "trust_disagreements": disagreements,
        "conflicts": len(conflicts),
        "emails_received": sum(mail.values()),
        "outbox": dict(pending),
    }


def drain(engine: Engine) -> None:
    """After the clients: delivery passes until no e-mail is due, for at most DRAIN_SECONDS."""
    later = (datetime.now(UTC) + DELIVER_AHEAD).isoformat()
    stop = time.monotonic() + DRAIN_SECONDS
    while time.monotonic() < stop:
        engine.flask("notifications", "deliver", "--now", later, "--limit", "1000")
        remaining = _rows(
            engine,
            "SELECT count(*) FROM outbox_messages WHERE status IN ('pending', 'sending') "
            "AND channel = 'email'",
        )[0][0]
        if not remaining:
            return


# --- the run ---------------------------------------------------------------------------------


def pg_server_url() -> str | None:
    url = (
        os.environ.get("SOAK_PG_URL")
        or os.environ.get("TRACKER_TEST_DATABASE_URL")
        or ("postgresql://postgres@127.0.0.1:5432/postgres")
    )
    if url.lower() == "none":
        return None
    if url.startswith(("postgresql://", "postgres://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    from sqlalchemy import create_engine, text

    try:
        probe = create_engine(url)
        with probe.connect() as connection:
            connection.execute(text("SELECT 1"))
        probe.dispose()
    except Exception as exc:
        log(f"PostgreSQL at {url} does not answer ({exc.__class__.__name__}); SQLite only")
        return None
    return url


@contextlib.contextmanager
def pg_database(server_url: str):  # type: ignore[no-untyped-def]
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"trustomer_soak_{uuid.uuid4().hex[:10]}"
    admin = create_engine(make_url(server_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def table(results: dict) -> str:
    columns = ("requests", "2xx", "409", "lost", "doubled", "5xx", "conn err", "kills", "trust")
    lines = [
        "| engine | " + " | ".join(columns) + " |",
        "|---" * (len(columns) + 1) + "|",
    ]
    for name, r in results.items():
        values = (
            r["requests"], r["2xx"], r["409"], sum(r["lost"].values()),
            sum(r["doubled"].values()), r["5xx"], r["connection_errors"],
            sum(r["kills"].values()),
            "agrees" if r["trust_disagreements"] == 0 else f"{r['trust_disagreements']} differ",
        )  # fmt: skip
        lines.append(f"| {name} | " + " | ".join(str(v) for v in values) + " |")
    return "\n".join(lines)


def _stop(signum: int, frame: object) -> None:
    """SIGTERM (or the watchdog): unwind, so that servers, sinks and databases are cleaned up."""
    raise SystemExit(f"soak: stopped by signal {signum}")


def main() -> int:
    rng = random.Random(RNG_SEED)
    (RESULTS / "logs").mkdir(parents=True, exist_ok=True)
    for old in (RESULTS / "logs").glob("*.log"):
        old.unlink()
    workdir = Path(tempfile.mkdtemp(prefix="trustomer-soak-"))
    signal.signal(signal.SIGTERM, _stop)
    watchdog = threading.Timer(HARD_LIMIT, lambda: os.kill(os.getpid(), signal.SIGTERM))
    watchdog.daemon = True
    watchdog.start()
    engines: list[Engine] = []
    sinks: list[MailSink] = []
    log(f"{SECONDS:.0f} s, {CLIENTS} clients, seed {RNG_SEED}, work in {workdir}")
    with contextlib.ExitStack() as stack:
        stack.callback(shutil.rmtree, workdir, ignore_errors=True)
        server_url = pg_server_url()
        plan = [("sqlite", f"sqlite:///{workdir / 'sqlite' / 'soak.db'}", 1)]
        if server_url:
            plan.insert(0, ("postgresql", stack.enter_context(pg_database(server_url)), 2))
        for name, url, servers in plan:
            sink = MailSink()
            sink.controller.start()
            stack.callback(sink.controller.stop)
            sinks.append(sink)
            engine = Engine(name, url, workdir / name, sink)
            stack.callback(engine.stop)
            log(f"{name}: migrating and seeding")
            engine.prepare()
            engine.start_servers(servers)
            log(f"{name}: gunicorn on ports {engine.ports}")
            engines.append(engine)

        deadline = time.monotonic() + SECONDS
        background_errors: list[str] = []
        threads: list[threading.Thread] = []
        clients = [
            Client(engines[n % len(engines)], n, deadline, random.Random(rng.random()))
            for n in range(CLIENTS)
        ]
        threads.extend(clients)
        for engine in engines:
            for job in ("sweep", "deliver"):
                threads.append(
                    threading.Thread(
                        target=guarded(repeat_job, background_errors),
                        args=(engine, deadline, random.Random(rng.random()), job),
                        daemon=True,
                    )
                )
        threads.append(
            threading.Thread(
                target=guarded(killer, background_errors),
                args=(engines, deadline, random.Random(rng.random())),
                daemon=True,
            )
        )
        for thread in threads:
            thread.start()
        log("running")
        for thread in threads:
            thread.join(timeout=max(1.0, deadline - time.monotonic() + 90))
        log("clients done; draining the outboxes and checking")

        results = {}
        for engine in engines:
            engine.notice_dead_servers()
            drain(engine)
        for engine in engines:
            engine.stop()
        for engine in engines:
            found = check(engine)
            s = engine.stats
            results[engine.name] = {
                "servers": len(engine.servers),
                "requests": s.requests,
                "2xx": s.ok,
                "409": s.conflict,
                "other_4xx": s.other_4xx,
                "5xx": s.server_errors,
                "connection_errors": s.connection_errors,
                "by_status": dict(s.by_status),
                "submits": len(engine.submits),
                "submits_retried": sum(1 for r in engine.submits if r["attempts"] > 1),
                "submits_unanswered": sum(1 for r in engine.submits if r["status"] is None),
                "kills": dict(engine.kills),
                "job_failures": dict(engine.job_failures),
                "client_errors": [c.error for c in clients if c.engine is engine and c.error],
                "servers_died": engine.server_deaths,
                **found,
            }
    failed = bool(background_errors) or any(
        r["lost"] or r["doubled"] or r["5xx"] or r["trust_disagreements"] != 0
        or r["client_errors"] or r["servers_died"]
        for r in results.values()
    )  # fmt: skip
    report = {
        "started": datetime.now(UTC).isoformat(),
        "seconds": SECONDS,
        "clients": CLIENTS,
        "seed": RNG_SEED,
        "ok": not failed,
        "engines": results,
        "harness_errors": background_errors,
    }
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = RESULTS / f"soak-{stamp}.json"
    out.write_text(json.dumps(report, indent=2))
    print(table(results))
    for name, r in results.items():
        for what in ("lost", "doubled"):
            for reason, count in r[what].items():
                print(f"  {name}: {what}: {reason}: {count}")
        for port, reason in r["servers_died"].items():
            print(f"  {name}: gunicorn on port {port} died: {reason}")
        if r["client_errors"]:
            print(f"  {name}: client errors: {r['client_errors'][:3]}")
        print(f"  {name}: kills {r['kills']}; trust rebuild: {r['trust_rebuild']}")
    for error in background_errors:
        print(f"  harness: {error}")
    print(f"JSON: {out.relative_to(ROOT)}; server and job logs: soak/results/logs/")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
