"""A web worker does not load what only some requests or commands need: zxcvbn's word
lists (~13 MiB per worker) wait for the first password being set, Alembic with Mako and
Pygments (~11 MiB) for a `flask db` command, the holidays package (~4 MiB) for the first
calendar that names a country."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

LAZY_MODULES = ("zxcvbn", "alembic", "flask_migrate", "mako", "pygments", "holidays")


def _last_line_of_app_process(tmp_path: Path, script: str) -> str:
    """Run `script` in a new interpreter that starts the app (development settings, its own
    SQLite file); the last line it printed."""
    env = {
        **os.environ,
        "TRACKER_ENV": "development",
        "TRACKER_INSTANCE_PATH": str(tmp_path),
        "TRACKER_DATABASE_URL": f"sqlite:///{tmp_path / 'memory.db'}",
    }
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=120, check=True,
    )  # fmt: skip
    return result.stdout.strip().splitlines()[-1]


def _loaded_after_start(tmp_path: Path, modules: tuple[str, ...]) -> list[str]:
    script = f"import sys, wsgi; print(' '.join(m for m in {modules!r} if m in sys.modules) or '-')"
    last = _last_line_of_app_process(tmp_path, script)
    return [] if last == "-" else last.split()


def test_starting_the_app_loads_none_of_the_lazy_modules(tmp_path) -> None:
    assert _loaded_after_start(tmp_path, LAZY_MODULES) == []


def test_readiness_reads_the_migration_head_as_alembic_does() -> None:
    from alembic.script import ScriptDirectory

    from tracker.services.health import MIGRATIONS_DIR, migration_heads

    assert migration_heads() == set(ScriptDirectory(str(MIGRATIONS_DIR)).get_heads())


def test_a_calendar_loads_only_the_holidays_of_its_country(tmp_path) -> None:
    script = (
        "import sys\n"
        "from datetime import UTC, datetime, timedelta\n"
        "from tracker.domain.calendar import BusinessCalendar, add_business_time\n"
        "calendar = BusinessCalendar.office_hours('Europe/Berlin', holiday_country='DE')\n"
        "end = add_business_time(datetime(2026, 12, 23, 9, tzinfo=UTC), timedelta(hours=16),"
        " calendar)\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('holidays.countries.'))\n"
        "print(end.isoformat(), ' '.join(loaded))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120,
        check=True,
    )  # fmt: skip
    end, loaded = result.stdout.strip().split(" ", 1)
    # Christmas Day is a German holiday and the 26th a Saturday: 16 office hours end on the 28th.
    assert end.startswith("2026-12-28"), result.stdout
    assert loaded.split() == ["holidays.countries.germany"], result.stdout


def test_a_started_process_leaves_its_start_up_objects_out_of_garbage_collection(tmp_path) -> None:
    """The scheduler (tracker/jobs/cli.py) and each gunicorn worker (gunicorn.conf.py's
    pre_fork) freeze what the app built at start: a full collection then walks only what
    the work allocated since, not the ~100,000 objects of the app."""
    script = (
        "import gc, runpy, wsgi\n"
        "before = len(gc.get_objects())\n"
        "runpy.run_path('gunicorn.conf.py')['pre_fork'](None, None)\n"
        "print(before, gc.get_freeze_count(), len(gc.get_objects()))\n"
    )
    last = _last_line_of_app_process(tmp_path, script)
    before, frozen, tracked = map(int, last.split())
    assert before > 50_000 and frozen >= before * 0.9, last
    assert tracked < 1_000, last  # what the collector still walks
