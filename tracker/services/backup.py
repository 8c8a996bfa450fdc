"""Backups and restores of the whole database, consistent while the app keeps writing.

SQLite: the sqlite3 online backup API copies one read transaction's snapshot (writers go on
in WAL mode) into a single self-contained file. PostgreSQL: `pg_dump -Fc` of a snapshot
exported from a REPEATABLE READ transaction, in which the row counts are taken too, so the
report describes exactly what the file holds. Both write a temporary file beside PATH and
move it into place in one rename: a crash never leaves half a backup under PATH.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sqlite3
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlencode

from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

from tracker.domain.text import N_
from tracker.services.errors import ServiceError
from tracker.services.health import MIGRATIONS_DIR

# Rows of these tables are reported after a backup and a restore: enough to recognise the data.
KEY_TABLES = (
    "partners",
    "users",
    "conflicts",
    "conflict_events",
    "trust_events",
    "outbox_messages",
)
# A database without these is not a Trustomer database.
REQUIRED_TABLES = ("alembic_version", "partners", "users", "conflicts")
PG_CLIENT_PACKAGE = "postgresql-client"


class BackupError(ServiceError):
    """A backup or restore that cannot be done; the message says what to do instead."""


@dataclass(frozen=True)
class Contents:
    """What a database (or a backup of one) holds."""

    engine: str
    revision: str | None
    tables: int
    rows: dict[str, int] = field(default_factory=dict)

    def rows_line(self) -> str:
        return "rows: " + ", ".join(f"{name} {count}" for name, count in self.rows.items())


@dataclass(frozen=True)
class BackupReport:
    path: Path
    size_bytes: int
    method: str
    contents: Contents

    def lines(self) -> list[str]:
        c = self.contents
        return [
            f"wrote {self.path}: {self.size_bytes:,} bytes, {c.tables} tables, "
            f"revision {c.revision} ({self.method})",
            c.rows_line(),
        ]


@dataclass(frozen=True)
class RestoreReport:
    target: str
    contents: Contents
    head: str

    @property
    def at_head(self) -> bool:
        return self.contents.revision == self.head

    def lines(self) -> list[str]:
        c = self.contents
        lines = [
            f"restored {self.target} from a backup at revision {c.revision}: {c.tables} tables",
            c.rows_line(),
        ]
        if not self.at_head:
            lines.append(
                f"the code's migrations head is {self.head}: "
                "run `flask --app wsgi db upgrade` before starting the app"
            )
        return lines


def known_revisions() -> tuple[set[str], str]:
    """Every revision the migrations know, and the head."""
    script = ScriptDirectory(str(MIGRATIONS_DIR))
    revisions = {r.revision for r in script.walk_revisions()}
    return revisions, script.get_current_head() or ""


def describe_target(database_url: str) -> str:
    """The database as an operator recognises it, without its password."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return f"SQLite file {url.database}"
    return f"PostgreSQL database {url.database} on {url.host or 'the local socket'}"


# --- backup -------------------------------------------------------------------------------


def backup(database_url: str, path: Path, *, force: bool = False) -> BackupReport:
    """Write a consistent backup of the database at `database_url` to `path`.

    Refuses to replace an existing file unless `force`. Safe while the app writes.
    """
    path = Path(path).expanduser().absolute()
    if path.exists() and not force:
        raise BackupError(f"{path} exists; choose another path or pass --force to replace it.")
    if not path.parent.is_dir():
        raise BackupError(f"{path.parent} is not a directory.")
    url = make_url(database_url)
    backend = url.get_backend_name()
    with _temporary_beside(path) as partial:
        if backend == "sqlite":
            contents = _sqlite_backup(_sqlite_file(url), partial)
            method = "sqlite3 online backup"
        elif backend == "postgresql":
            contents = _pg_dump(url, partial)
            method = "pg_dump -Fc"
        else:
            raise BackupError(f"Backups of {backend} databases are not supported.")
        size = partial.stat().st_size
        _publish(partial, path, force=force)
    return BackupReport(path=path, size_bytes=size, method=method, contents=contents)


@contextlib.contextmanager
def _temporary_beside(path: Path) -> Iterator[Path]:
    """A temporary file name in PATH's directory (so the final rename is atomic); removed
    unless it was moved into place."""
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.partial")
    try:
        yield partial
    finally:
        partial.unlink(missing_ok=True)


def _publish(partial: Path, path: Path, *, force: bool) -> None:
    """Move the finished file to PATH in one step, flushed to disk first."""
    with open(partial, "rb") as handle:
        os.fsync(handle.fileno())
    if force:
        os.replace(partial, path)
    else:
        try:
            os.link(partial, path)  # fails if PATH appeared meanwhile: never clobbers
        except FileExistsError:
            raise BackupError(f"{path} appeared while the backup ran; nothing replaced.") from None
        partial.unlink()
    with contextlib.suppress(OSError):  # not every filesystem lets a directory be fsynced
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _sqlite_file(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError(N_("An in-memory SQLite database cannot be backed up."))
    return Path(url.database)


def _sqlite_backup(source_path: Path, partial: Path) -> Contents:
    if not source_path.exists():
        raise BackupError(f"The SQLite file {source_path} does not exist.")
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True, timeout=15)
    target = sqlite3.connect(partial)
    try:
        # pages=-1: the whole database in one step, i.e. one read transaction's snapshot.
        # Writers in other processes go on meanwhile (WAL); the copy holds the committed state.
        source.backup(target, pages=-1)
        target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside
        contents = _sqlite_contents(target)
    except sqlite3.Error as exc:
        raise BackupError(f"The SQLite backup failed: {exc}") from exc
    finally:
        target.close()
        source.close()
    return contents


def _sqlite_contents(connection: sqlite3.Connection) -> Contents:
    names = {
        row[0]
        for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    }
    revision = None
    if "alembic_version" in names:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        revision = row[0] if row else None
    rows = {
        name: connection.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]  # noqa: S608
        for name in KEY_TABLES
        if name in names
    }
    return Contents("sqlite", revision, len(names), rows)


# --- PostgreSQL ----------------------------------------------------------------------------


def pg_tool(name: str) -> str:
    """The path of pg_dump or pg_restore, or an error saying how to install it."""
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} is not installed (or not on PATH). Install PostgreSQL's client tools, "
            f"matching the server's major version or newer: on Debian or Ubuntu "
            f"`apt-get install {PG_CLIENT_PACKAGE}`."
        )
    return found


def tool_major_version(tool: str) -> int:
    """The major version of a PostgreSQL client tool (`pg_dump (PostgreSQL) 15.20` -> 15)."""
    output = subprocess.run(  # noqa: S603
        [tool, "--version"], capture_output=True, text=True, check=False, timeout=30
    ).stdout
    match = re.search(r"\(PostgreSQL\)\s+(\d+)", output) or re.search(r"(\d+)\.\d+", output)
    if match is None:
        raise BackupError(f"Could not tell the version of {tool} from {output!r}.")
    return int(match.group(1))


def version_mismatch(tool_name: str, tool_major: int, server_major: int) -> str | None:
    """The message for a client tool too old for the server, or None when they fit."""
    if tool_major >= server_major:
        return None
    return (
        f"{tool_name} is version {tool_major} but the server runs PostgreSQL {server_major}: "
        f"{tool_name} must be at least the server's major version. Install "
        f"postgresql-client-{server_major} (Debian/Ubuntu, from apt.postgresql.org if your "
        f"release lacks it) and put its {tool_name} first on PATH."
    )


def libpq_environment(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq connection URI without the password, and an environment carrying it
    (so the password never shows in the process list)."""
    user = quote(url.username or "", safe="")
    host = url.host or ""
    if host and ":" in host:
        host = f"[{host}]"
    netloc = (f"{user}@" if user else "") + host + (f":{url.port}" if url.port else "")
    query = urlencode({k: v for k, v in url.query.items() if isinstance(v, str)})
    uri = f"postgresql://{netloc}/{quote(url.database or '', safe='')}" + (
        f"?{query}" if query else ""
    )
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    return uri, env


def _pg_contents(connection) -> Contents:  # type: ignore[no-untyped-def]
    names = set(
        connection.execute(
            text(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
            )
        ).scalars()
    )
    revision = None
    if "alembic_version" in names:
        revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    rows = {
        name: connection.execute(text(f'SELECT count(*) FROM "{name}"')).scalar_one()  # noqa: S608
        for name in KEY_TABLES
        if name in names
    }
    return Contents("postgresql", revision, len(names), rows)


def _run_pg_tool(command: list[str], env: dict[str, str], tool_name: str) -> None:
    result = subprocess.run(  # noqa: S603
        command, capture_output=True, text=True, env=env, check=False
    )
    if result.returncode != 0:
        detail = result.stderr.strip() or result.stdout.strip()
        if "version mismatch" in detail or "unsupported version" in detail:
            detail += (
                f" ({tool_name} must be at least as new as the server and the archive: "
                f"install the matching {PG_CLIENT_PACKAGE})"
            )
        raise BackupError(f"{tool_name} failed: {detail}")


def _pg_dump(url: URL, partial: Path) -> Contents:
    tool = pg_tool("pg_dump")
    engine = create_engine(url.set(drivername="postgresql+psycopg"))
    try:
        with engine.connect() as connection:
            server_major = connection.execute(text("SHOW server_version_num")).scalar_one()
            problem = version_mismatch(
                "pg_dump", tool_major_version(tool), int(server_major) // 10000
            )
            if problem:
                raise BackupError(problem)
            connection.rollback()
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
            with connection.begin():
                # pg_dump reads the snapshot this transaction exports, so the counts taken
                # here are those of the file, however much the app writes meanwhile.
                snapshot = connection.execute(text("SELECT pg_export_snapshot()")).scalar_one()
                contents = _pg_contents(connection)
                uri, env = libpq_environment(url)
                _run_pg_tool(
                    [tool, "-Fc", f"--snapshot={snapshot}", "--no-password", "-f", str(partial),
                     "-d", uri],
                    env,
                    "pg_dump",
                )  # fmt: skip
    finally:
        engine.dispose()
    return contents


# --- restore -------------------------------------------------------------------------------


def inspect_backup(database_url: str, path: Path) -> Contents:
    """What the backup at `path` holds; BackupError unless it is a Trustomer database at a
    migration revision this code knows, of the configured database's engine."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"{path} is not a file.")
    backend = make_url(database_url).get_backend_name()
    if backend == "sqlite":
        contents, tables = _inspect_sqlite(path)
    elif backend == "postgresql":
        contents, tables = _inspect_pg_archive(path)
    else:
        raise BackupError(f"Restores into {backend} databases are not supported.")
    missing = [t for t in REQUIRED_TABLES if t not in tables]
    if missing:
        raise BackupError(
            f"{path} is not a Trustomer backup: it has no {', '.join(missing)} table(s)."
        )
    revisions, head = known_revisions()
    if contents.revision not in revisions:
        raise BackupError(
            f"{path} is at migration revision {contents.revision!r}, which this release does "
            f"not know (its head is {head}): restore it with the release that made it."
        )
    return contents


def _inspect_sqlite(path: Path) -> tuple[Contents, set[str]]:
    with open(path, "rb") as handle:
        if handle.read(16) != b"SQLite format 3\x00":
            raise BackupError(
                f"{path} is not an SQLite database (a PostgreSQL backup needs a PostgreSQL "
                "TRACKER_DATABASE_URL)."
            )
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            check = connection.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                raise BackupError(f"{path} is damaged: {check}")
            contents = _sqlite_contents(connection)
            tables = {
                r[0]
                for r in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
        finally:
            connection.close()
    except sqlite3.Error as exc:
        raise BackupError(f"{path} cannot be read as an SQLite database: {exc}") from exc
    return contents, tables


_TOC_TABLE = re.compile(r"^\d+; \d+ \d+ TABLE (\S+) (\S+) ", re.MULTILINE)
_TOC_DATA = re.compile(r"^\d+; \d+ \d+ TABLE DATA (\S+) (\S+) ", re.MULTILINE)


def _inspect_pg_archive(path: Path) -> tuple[Contents, set[str]]:
    with open(path, "rb") as handle:
        if handle.read(5) != b"PGDMP":
            raise BackupError(
                f"{path} is not a pg_dump custom-format archive (make one with "
                "`flask --app wsgi db backup`; an SQLite backup needs an SQLite database URL)."
            )
    tool = pg_tool("pg_restore")
    listing = subprocess.run(  # noqa: S603
        [tool, "--list", str(path)], capture_output=True, text=True, check=False
    )
    if listing.returncode != 0:
        raise BackupError(f"pg_restore cannot read {path}: {listing.stderr.strip()}")
    tables = {name for _schema, name in _TOC_TABLE.findall(listing.stdout)}
    revision = None
    if "alembic_version" in tables:
        data = subprocess.run(  # noqa: S603
            [tool, "--data-only", "--table=alembic_version", "-f", "-", str(path)],
            capture_output=True,
            text=True,
            check=False,
        ).stdout
        match = re.search(
            r"^COPY \S*alembic_version .*? FROM stdin;\n(.*?)\n\\\.$", data, re.M | re.S
        )
        if match and match.group(1).strip():
            revision = match.group(1).strip().splitlines()[0]
    return Contents("postgresql", revision, len(tables)), tables


def restore(database_url: str, path: Path) -> RestoreReport:
    """Replace everything in the configured database with the backup at `path`.

    Checks the backup first (a Trustomer database at a known revision). The app and the
    scheduler should be stopped: their connections would see the data change under them.
    """
    path = Path(path).expanduser().absolute()
    inspect_backup(database_url, path)
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        _sqlite_restore(path, _sqlite_file(url))
        target = sqlite3.connect(_sqlite_file(url))
        try:
            contents = _sqlite_contents(target)
        finally:
            target.close()
    else:
        _pg_restore(url, path)
        engine = create_engine(url.set(drivername="postgresql+psycopg"))
        try:
            with engine.connect() as connection:
                contents = _pg_contents(connection)
        finally:
            engine.dispose()
    _revisions, head = known_revisions()
    return RestoreReport(describe_target(database_url), contents, head)


def _sqlite_restore(backup_path: Path, live_path: Path) -> None:
    # The backup API writes into the live file under its write lock and through its WAL:
    # copying the file over it instead would mix with a stale -wal beside it.
    source = sqlite3.connect(f"file:{backup_path}?mode=ro", uri=True)
    target = sqlite3.connect(live_path, timeout=15)
    try:
        source.backup(target, pages=-1)
    except sqlite3.Error as exc:
        raise BackupError(f"The SQLite restore failed: {exc}") from exc
    finally:
        target.close()
        source.close()


def _pg_restore(url: URL, path: Path) -> None:
    uri, env = libpq_environment(url)
    _run_pg_tool(
        [pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction",
         "--exit-on-error", "--no-password", "-d", uri, str(path)],
        env,
        "pg_restore",
    )  # fmt: skip
