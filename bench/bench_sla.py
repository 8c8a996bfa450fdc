"""Benchmark the SLA clock: deadlines and elapsed business time for many conflicts.

Usage: python bench/bench_sla.py [--json PATH]

Each measurement starts with cleared caches ("cold"); a second run over the same
inputs shows the steady state of a long-lived process ("warm").
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tracker.domain.calendar import (  # noqa: E402
    BusinessCalendar,
    add_business_time,
    business_time_between,
    clear_caches,
)

DEFAULT_JSON = Path(__file__).resolve().parent / "results" / "sla.json"
SEED = 20260101
# Conflicts opened at any second of 2026, with business-time SLAs from 1h to 120h.
OPENED_FROM = datetime(2026, 1, 1, tzinfo=UTC)
OPENED_SPAN_SECONDS = 365 * 86_400
SLA_HOURS = (1, 2, 4, 8, 16, 24, 40, 48, 72, 120)


def conflicts(n: int, rng: random.Random) -> list[tuple[datetime, timedelta]]:
    """Opening instants and SLA durations, mixed like a real queue."""
    return [
        (
            OPENED_FROM + timedelta(seconds=rng.randrange(OPENED_SPAN_SECONDS)),
            timedelta(hours=rng.choice(SLA_HOURS), minutes=rng.choice((0, 0, 0, 30))),
        )
        for _ in range(n)
    ]


def timed(work: Callable[[], object], *, cold: bool) -> float:
    if cold:
        clear_caches()
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help="where to write results")
    args = parser.parse_args(argv)

    calendar = BusinessCalendar.office_hours("Europe/Berlin", holiday_country="DE")
    rng = random.Random(SEED)
    inputs = {n: conflicts(n, rng) for n in (10_000, 100_000)}
    spans = [
        (opened, opened + timedelta(hours=rng.randrange(1, 24 * 28)))
        for opened, _ in inputs[10_000]
    ]

    def deadlines(n: int) -> Callable[[], object]:
        return lambda: [add_business_time(t, d, calendar) for t, d in inputs[n]]

    def elapsed() -> object:
        return [business_time_between(a, b, calendar) for a, b in spans]

    operations = [
        ("add_business_time", 10_000, deadlines(10_000)),
        ("add_business_time", 100_000, deadlines(100_000)),
        ("business_time_between", 10_000, elapsed),
    ]
    rows = []
    for name, n, work in operations:
        for cache in ("cold", "warm"):
            seconds = timed(work, cold=cache == "cold")
            rows.append(
                {
                    "operation": name,
                    "n": n,
                    "cache": cache,
                    "seconds": round(seconds, 4),
                    "per_10k_seconds": round(seconds * 10_000 / n, 4),
                }
            )

    print(f"{'operation':<24}{'n':>9}  {'cache':<6}{'seconds':>9}{'per 10k':>10}")
    for row in rows:
        print(
            f"{row['operation']:<24}{row['n']:>9}  {row['cache']:<6}"
            f"{row['seconds']:>9.3f}{row['per_10k_seconds']:>10.3f}"
        )

    args.json.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "benchmark": "sla",
        "calendar": "office hours Mon-Fri 09-17 Europe/Berlin, DE holidays",
        "sla_hours": list(SLA_HOURS),
        "seed": SEED,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "results": rows,
    }
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
