"""Fixtures: one migrated database per test session (SQLite, or PostgreSQL when
TRACKER_TEST_DATABASE_URL is set), emptied after every test."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from config import TestConfig
from tracker import create_app
from tracker.extensions import db
from tracker.models.search import LEXEME_TABLE

pytest_plugins = ["tests.servers"]

PG_URL = os.environ.get("TRACKER_TEST_DATABASE_URL", "").strip()
NOW = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)  # a Monday, 09:00 UTC


def _normalise(url: str) -> str:
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


@contextmanager
def temporary_database(tmp_dir) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A private, empty database: a temp SQLite file, or a fresh PostgreSQL database."""
    if not PG_URL:
        yield f"sqlite:///{tmp_dir / f'test-{uuid.uuid4().hex[:8]}.db'}"
        return
    server = make_url(_normalise(PG_URL))
    name = f"trustomer_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with temporary_database(tmp_path_factory.mktemp("db")) as url:
        yield url


def make_config(database_url: str, tmp_path=None, **overrides) -> TestConfig:  # type: ignore[no-untyped-def]
    config = TestConfig()
    config.SQLALCHEMY_DATABASE_URI = database_url
    if tmp_path is not None:
        config.UPLOAD_DIR = str(tmp_path / "uploads")
    for key, value in overrides.items():
        setattr(config, key, value)
    return config


@pytest.fixture(scope="session")
def migrated_database(database_url: str) -> str:
    """Run the real migrations once: the schema under test is the one production gets."""
    from flask_migrate import upgrade

    app = create_app(make_config(database_url))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return database_url


def _empty_all_tables() -> None:
    tables = [t for t in reversed(db.metadata.sorted_tables)]
    if db.engine.dialect.name == "postgresql":
        # With the engine's own table of the index's lexemes (no model describes it).
        names = ", ".join([f'"{t.name}"' for t in tables] + [LEXEME_TABLE])
        db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        db.session.execute(text("PRAGMA foreign_keys=OFF"))
        for table in tables:
            db.session.execute(table.delete())
        db.session.execute(text("PRAGMA foreign_keys=ON"))
    db.session.commit()


class IsolatedClient(FlaskClient):
    """Each request runs in its own app context, as in production: fresh `g`, its own session.

    Without this, requests would share the fixture's app context (and its `g` and
    database session) and hide bugs that only show between separate requests.
    """

    def open(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        # Buffered: a streamed body (the CSV exports) is read while its request is live, as a
        # WSGI server reads it, not after this wrapper's app context has ended.
        kwargs.setdefault("buffered", True)
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        db.session.expire_all()  # the test's own session sees what the request committed
        return response


@pytest.fixture
def app(migrated_database: str, tmp_path) -> Iterator[Flask]:  # type: ignore[no-untyped-def]
    app = create_app(make_config(migrated_database, tmp_path))
    app.test_client_class = IsolatedClient
    ctx = app.app_context()
    ctx.push()
    try:
        yield app
    finally:
        db.session.rollback()
        _empty_all_tables()
        db.session.remove()
        db.engine.dispose()
        ctx.pop()


class Browser:
    """A test client that signs in and sends forms with their CSRF token, as a browser would."""

    _TOKEN_RE = re.compile(r'name="csrf[_-]token"[^>]*(?:value|content)="([^"]+)"')

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self._token: str | None = None

    def get(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return self.client.get(*args, **kwargs)

    def csrf_token(self) -> str:
        if self._token is None:
            page = self.client.get("/auth/login" if not self._signed_in() else "/auth/password")
            match = self._TOKEN_RE.search(page.get_data(as_text=True))
            assert match, "no CSRF token on the page"
            self._token = match.group(1)
        return self._token

    def _signed_in(self) -> bool:
        with self.client.session_transaction() as session:
            return "_user_id" in session

    def post(self, url: str, data: dict | None = None, **kwargs):  # type: ignore[no-untyped-def]
        payload = dict(data or {})
        payload.setdefault("csrf_token", self.csrf_token())
        response = self.client.post(url, data=payload, **kwargs)
        if url.startswith(("/auth/login", "/auth/logout", "/auth/password", "/auth/invite")):
            self._token = None  # the session was renewed
        return response

    def login(self, email: str, password: str = "correct-horse-battery") -> None:
        response = self.post("/auth/login", {"email": email, "password": password})
        assert response.status_code == 302, f"sign-in failed for {email}: {response.status_code}"


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def browser(app: Flask) -> Browser:
    return Browser(app.test_client())


@pytest.fixture
def new_browser(app: Flask):  # type: ignore[no-untyped-def]
    """Several independent sessions in one test (a partner and a manager, say)."""
    return lambda: Browser(app.test_client())


@pytest.fixture
def runner(app: Flask):  # type: ignore[no-untyped-def]
    return app.test_cli_runner()


PUBLIC_TEST_ADDRESS = "93.184.216.34"  # what invented names resolve to; never connected to


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch):  # type: ignore[no-untyped-def]
    """No test opens a connection off this machine: a connect() to any address outside
    127.0.0.0/8 and ::1 is refused before a packet leaves, as if nothing answered there."""
    import ipaddress
    import socket

    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def _check(sock, address) -> None:  # type: ignore[no-untyped-def]
        if sock.family not in (socket.AF_INET, socket.AF_INET6):
            return
        host = str(address[0]).split("%")[0]
        try:
            loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise ConnectionRefusedError(f"tests reach loopback only, not {host}")

    def connect(sock, address):  # type: ignore[no-untyped-def]
        _check(sock, address)
        return real_connect(sock, address)

    def connect_ex(sock, address):  # type: ignore[no-untyped-def]
        _check(sock, address)
        return real_connect_ex(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)


TEST_NAMES = {"internal.example.com": "10.1.2.3"}


@pytest.fixture(autouse=True)
def invented_hosts(monkeypatch):  # type: ignore[no-untyped-def]
    """Tests name hosts like erp.example.com; this machine has no DNS, so answer for them."""
    import socket

    from tracker.services import partner_webhooks

    real = partner_webhooks.resolve

    def fake(host, port, *args, **kwargs):  # type: ignore[no-untyped-def]
        if host in TEST_NAMES or host.endswith(("example.com", ".example")):
            address = TEST_NAMES.get(host, PUBLIC_TEST_ADDRESS)
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(partner_webhooks, "resolve", fake)
