"""`flask db backup` and `flask db restore`: a backup taken while the app writes restores into a
fresh database that is at head and serves the data; both refuse what would lose data."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import func, select

from tests.conftest import PG_URL, make_config, temporary_database
from tests.factories import make_conflict, make_manager, make_partner, make_partner_user
from tracker import create_app
from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import Conflict, ConflictEvent
from tracker.services import api_tokens, backup
from tracker.services.backup import BackupError

ENGINE = "postgresql" if PG_URL else "sqlite"
ROOT = Path(__file__).resolve().parents[1]


def _migrated_app(url: str, tmp_path: Path) -> Flask:
    app = create_app(make_config(url, tmp_path))
    with app.app_context():
        upgrade()
    return app


@pytest.fixture(scope="module")
def runner(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """A CLI runner on a private migrated database; the tests here only read it."""
    tmp_path = tmp_path_factory.mktemp("backup")
    with temporary_database(tmp_path) as url:
        app = _migrated_app(url, tmp_path)
        yield app.test_cli_runner()
        with app.app_context():
            db.engine.dispose()


def _rows(output: str) -> dict[str, int]:
    line = next(line for line in output.splitlines() if line.startswith("rows: "))
    return {name: int(count) for name, count in re.findall(r"(\w+) (\d+)", line[len("rows: ") :])}


def _flask(database_url: str, *args: str) -> str:
    """Run a real `flask --app wsgi` command against `database_url`; its stdout."""
    env = dict(os.environ, TRACKER_ENV="test", TRACKER_DATABASE_URL=database_url)
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


class Writer(threading.Thread):
    """Raises conflicts through the service, one after another, until stopped."""

    def __init__(self, app: Flask, partner_user_id: int) -> None:
        super().__init__(daemon=True)
        self.app, self.partner_user_id = app, partner_user_id
        self.written = 0
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        from tracker.models import User

        try:
            with self.app.app_context():
                author = db.session.get(User, self.partner_user_id)
                while not self.stop.is_set() and self.written < 60:
                    make_conflict(author, now=utcnow(), title=f"Written meanwhile {self.written}")
                    self.written += 1
                db.session.remove()
        except BaseException as exc:  # reported by the test
            self.error = exc


def _wait_until(predicate, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    done = threading.Event()
    for _ in range(int(timeout * 100)):
        if predicate():
            return
        done.wait(0.01)
    raise TimeoutError("the writer did not start")


@pytest.mark.slow
def test_a_backup_taken_while_the_app_writes_restores_into_a_fresh_database(
    tmp_path,
) -> None:
    with (
        temporary_database(tmp_path) as live_url,
        temporary_database(tmp_path) as fresh_url,
    ):
        live = _migrated_app(live_url, tmp_path)
        with live.app_context():
            manager = make_manager()
            partner = make_partner(owner_id=manager.id)
            author = make_partner_user(partner)
            for n in range(5):
                make_conflict(author, now=utcnow(), title=f"Before the backup {n}")
            token = api_tokens.create(author, name="erp", scope="read", now=utcnow())[1]
            author_id = author.id
            db.session.remove()

        writer = Writer(live, author_id)
        writer.start()
        try:
            _wait_until(lambda: writer.written >= 2)
            path = tmp_path / f"trustomer.{ENGINE}.backup"
            made = live.test_cli_runner().invoke(args=["db", "backup", str(path)])
            during = writer.written
            _wait_until(lambda: writer.written > during or not writer.is_alive())
        finally:
            writer.stop.set()
            writer.join(60)
        assert writer.error is None, writer.error
        assert made.exit_code == 0, made.output
        assert f"wrote {path}" in made.output
        in_backup = _rows(made.output)
        assert in_backup["conflicts"] >= 7  # the five, and what the writer had committed
        with live.app_context():
            assert db.session.scalar(select(func.count(Conflict.id))) == 5 + writer.written
            assert in_backup["conflicts"] < 5 + writer.written  # it wrote on meanwhile
            db.engine.dispose()

        fresh = create_app(make_config(fresh_url, tmp_path))
        runner = fresh.test_cli_runner()
        unconfirmed = runner.invoke(args=["db", "restore", str(path)])
        assert unconfirmed.exit_code != 0
        assert "--yes" in unconfirmed.output
        restored = runner.invoke(args=["db", "restore", str(path), "--yes"])
        assert restored.exit_code == 0, restored.output
        assert _rows(restored.output) == in_backup

        _revisions, head = backup.known_revisions()
        assert f"{head} (head)" in _flask(fresh_url, "db", "current")
        with fresh.app_context():
            assert db.session.scalar(select(func.count(Conflict.id))) == in_backup["conflicts"]
            assert (
                db.session.scalar(select(func.count(ConflictEvent.id)))
                == in_backup["conflict_events"]
            )

        client = fresh.test_client()
        assert client.get("/readyz").status_code == 200
        listed = client.get(
            "/api/v1/conflicts?limit=100", headers={"Authorization": f"Bearer {token}"}
        )
        assert listed.status_code == 200, listed.get_data(as_text=True)
        titles = {item["title"] for item in listed.get_json()["items"]}
        assert {f"Before the backup {n}" for n in range(5)} <= titles
        assert len(titles) == in_backup["conflicts"]
        with fresh.app_context():
            db.engine.dispose()


def test_backup_refuses_to_replace_a_file_unless_forced(runner, tmp_path) -> None:
    path = tmp_path / "existing.backup"
    path.write_text("yesterday's backup")

    refused = runner.invoke(args=["db", "backup", str(path)])

    assert refused.exit_code != 0
    assert "--force" in refused.output
    assert path.read_text() == "yesterday's backup"
    forced = runner.invoke(args=["db", "backup", str(path), "--force"])
    assert forced.exit_code == 0, forced.output
    assert path.read_bytes()[:5] in (b"SQLit", b"PGDMP")
    assert [p.name for p in tmp_path.iterdir()] == ["existing.backup"]  # no temporary left


def test_restore_refuses_a_file_that_is_not_a_backup(runner, tmp_path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("not a database")

    result = runner.invoke(args=["db", "restore", str(path), "--yes"])

    assert result.exit_code != 0
    assert "is not a" in result.output


@pytest.mark.skipif(bool(PG_URL), reason="SQLite files")
def test_restore_refuses_an_sqlite_database_that_is_not_trustomers(runner, tmp_path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as other:
        other.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")

    result = runner.invoke(args=["db", "restore", str(path), "--yes"])

    assert result.exit_code != 0
    assert "not a Trustomer backup" in result.output


@pytest.mark.skipif(bool(PG_URL), reason="SQLite files")
def test_restore_refuses_a_backup_from_a_newer_release(runner, tmp_path) -> None:
    path = tmp_path / "newer.db"
    assert runner.invoke(args=["db", "backup", str(path)]).exit_code == 0
    with sqlite3.connect(path) as newer:
        newer.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    newer.close()

    result = runner.invoke(args=["db", "restore", str(path), "--yes"])

    assert result.exit_code != 0
    assert "9999_from_the_future" in result.output and "does not know" in result.output


def test_a_missing_pg_dump_says_which_package_provides_it(monkeypatch) -> None:
    monkeypatch.setattr(backup.shutil, "which", lambda name: None)

    with pytest.raises(BackupError, match="apt-get install postgresql-client"):
        backup.pg_tool("pg_dump")


@pytest.mark.parametrize(
    ("tool", "server", "refused"), [(14, 15, True), (15, 15, False), (16, 15, False)]
)
def test_a_pg_dump_older_than_the_server_is_refused(tool: int, server: int, refused: bool) -> None:
    message = backup.version_mismatch("pg_dump", tool, server)

    assert (message is not None) == refused
    if refused:
        assert f"postgresql-client-{server}" in message


@pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL")
def test_backup_with_an_old_pg_dump_writes_nothing(runner, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(backup, "tool_major_version", lambda tool: 9)
    path = tmp_path / "old.dump"

    result = runner.invoke(args=["db", "backup", str(path)])

    assert result.exit_code != 0
    assert "pg_dump is version 9" in result.output
    assert list(tmp_path.iterdir()) == []
