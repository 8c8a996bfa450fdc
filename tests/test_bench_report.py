"""bench/run.py's report: every target of the performance issue checked, README tables."""

from __future__ import annotations

from bench import run


def _result(engine: str, n: int, ratio: float, p95: float, rss: list[list[float]]) -> dict:
    labels = ["GET /healthz", run.QUEUE, run.CONFLICT, run.PARTNER_LIST, run.SEARCH, run.API_POST]
    endpoints = {
        label: {
            "rps": 1000 * ratio, "ratio_to_healthz": 1.0 if label == "GET /healthz" else ratio,
            "ratio_runs": [ratio, ratio], "p50_ms": p95 / 2, "p95_ms": p95, "p99_ms": p95 * 2,
            "errors": 0, "non_2xx_3xx": 0, "worker_cpu_ms_per_request": 1.0,
        }
        for label in labels
    }  # fmt: skip
    result = {
        "database": engine, "conflicts": n, "endpoints": endpoints, "worker_rss_mib": rss,
        "statements": {run.API_POST: 11}, "duration_seconds": 5,
    }  # fmt: skip
    if n >= run.TARGET_SIZE:
        result["sweep"] = {
            "due": 500, "ms_per_level": 2.0, "ms_per_level_runs": [2.0], "plan_uses_index": True,
            "second_sweep_seconds": 0.004, "statements_per_conflict": 3.0,
        }  # fmt: skip
    return result


def test_targets_pass_and_miss_by_the_issues_thresholds() -> None:
    results = [
        _result("sqlite", 100_000, 0.20, 30.0, [[70, 71], [70, 71]]),
        _result("sqlite", 1_000_000, 0.10, 60.0, [[70, 71], [75, 76]]),
    ]
    checks = {(c["conflicts"], c["target"]): c["status"] for c in run.targets(results)}
    assert checks[(100_000, f"{run.QUEUE} ≥ 15% of /healthz")] == "PASS"
    assert checks[(100_000, f"{run.QUEUE} p95 < 50 ms")] == "PASS"
    assert checks[(100_000, f"{run.API_POST} ≤ 12 statements")] == "PASS"
    assert checks[(1_000_000, f"{run.QUEUE} within 1.5× of 100k")] == "MISS"  # 2×
    assert checks[(1_000_000, "sweep with nothing due < 50 ms")] == "PASS"
    assert checks[(1_000_000, "worker RSS not growing between repetitions")] == "MISS"
    assert checks[(100_000, "worker RSS < 80 MiB after the runs")] == "PASS"


def test_markdown_has_a_column_per_engine_and_scale_and_every_target() -> None:
    results = [
        _result("sqlite", 1_000, 0.3, 10.0, [[60]]),
        _result("postgresql", 1_000, 0.2, 12.0, [[61]]),
    ]
    report = {
        "command": "make bench", "started": "2026-12-02 14:00 UTC", "cpus": 2,
        "load": "wrk -t2 -c8", "repetitions": 3, "results": results,
        "targets": run.targets(results),
    }  # fmt: skip
    text = run.markdown(report)
    assert (
        "| endpoint: req/s (× hz), p95 ms, CPU ms/req, SQL | postgresql 1,000 | sqlite 1,000 |"
        in text
    )
    assert text.count("worker RSS < 80 MiB") == 2
