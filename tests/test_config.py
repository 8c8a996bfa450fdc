"""Configuration from the environment, and the engine settings it implies."""

import pytest
from sqlalchemy import text

import config
from tracker.extensions import db


def test_production_refuses_to_start_without_a_secret_key(monkeypatch) -> None:
    monkeypatch.delenv("TRACKER_SECRET_KEY", raising=False)
    with pytest.raises(config.ConfigError, match="TRACKER_SECRET_KEY"):
        config.load_config("production")


def test_production_uses_secure_cookies(monkeypatch) -> None:
    monkeypatch.setenv("TRACKER_SECRET_KEY", "k" * 40)
    settings = config.load_config("production")
    assert settings.SESSION_COOKIE_SECURE is True
    assert settings.JSON_LOGS is True


def test_development_generates_and_keeps_a_secret_key(monkeypatch, tmp_path) -> None:
    monkeypatch.delenv("TRACKER_SECRET_KEY", raising=False)
    monkeypatch.setattr(config, "INSTANCE_DIR", tmp_path)
    first = config.load_config("development").SECRET_KEY
    second = config.load_config("development").SECRET_KEY
    assert first == second and len(first) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_unknown_environment_is_refused() -> None:
    with pytest.raises(config.ConfigError, match="TRACKER_ENV"):
        config.load_config("staging")


def test_postgres_urls_use_the_psycopg_driver(monkeypatch) -> None:
    monkeypatch.setenv("TRACKER_DATABASE_URL", "postgres://u@db/x")
    assert config.database_url() == "postgresql+psycopg://u@db/x"


def test_sqlite_runs_in_wal_mode_with_foreign_keys(app) -> None:
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite pragmas")
    assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1
    assert db.session.execute(text("PRAGMA busy_timeout")).scalar() == 15000


def test_json_logs_carry_the_request_id(migrated_database) -> None:
    import io
    import json
    import logging

    from tests.conftest import make_config
    from tracker import create_app

    app = create_app(make_config(migrated_database, JSON_LOGS=True))
    stream = io.StringIO()
    logging.getLogger("tracker").handlers[0].setStream(stream)
    app.test_client().get("/healthz", headers={"X-Request-ID": "req-1234567890"})
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert any(
        line["request_id"] == "req-1234567890"
        and line["path"] == "/healthz"
        and line["status"] == 200
        for line in lines
    )


def test_the_similar_cache_takes_zero_or_more_seconds(monkeypatch) -> None:
    monkeypatch.setenv("TRACKER_SIMILAR_CACHE_SECONDS", "-1")
    with pytest.raises(config.ConfigError, match="TRACKER_SIMILAR_CACHE_SECONDS"):
        config.load_config("development")
    monkeypatch.setenv("TRACKER_SIMILAR_CACHE_SECONDS", "0")
    assert config.load_config("development").SIMILAR_CACHE_SECONDS == 0
    monkeypatch.delenv("TRACKER_SIMILAR_CACHE_SECONDS")
    assert config.load_config("development").SIMILAR_CACHE_SECONDS == 60
