"""Configuration classes, read from the environment (see the README's table)."""

from __future__ import annotations

import os
import secrets
from email.utils import parseaddr
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("TRACKER_INSTANCE_PATH", BASE_DIR / "instance"))


class ConfigError(RuntimeError):
    """Raised at start-up when the environment cannot run the app safely."""


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, got {value!r}") from exc


def _env_positive_int(name: str, default: int) -> int:
    value = _env_int(name, default)
    if value < 1:
        raise ConfigError(f"{name} must be at least 1, got {value}")
    return value


def _development_secret_key() -> str:
    """Keep one generated key under instance/ so sessions survive restarts."""
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    path = INSTANCE_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def database_url() -> str:
    """TRACKER_DATABASE_URL, or an SQLite file under instance/."""
    url = os.environ.get("TRACKER_DATABASE_URL")
    if url:
        # Accept the common postgres:// spelling and use the psycopg 3 driver.
        if url.startswith("postgres://"):
            url = "postgresql+psycopg://" + url[len("postgres://") :]
        elif url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://") :]
        return url
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{INSTANCE_DIR / 'trustomer.db'}"


class Config:
    """Settings shared by every environment."""

    ENV_NAME = "base"
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_NAME = "trustomer_session"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = 3600 * 8
    MAX_CONTENT_LENGTH = 26 * 1024 * 1024  # five 5 MB attachments and the form around them
    JSON_LOGS = False
    LOG_LEVEL = "INFO"
    # Strict-Transport-Security max-age; 0 sends none (development and tests run over http).
    HSTS_SECONDS = 0

    def __init__(self) -> None:
        self.SQLALCHEMY_DATABASE_URI = database_url()
        self.RATELIMIT_STORAGE_URI = os.environ.get("TRACKER_RATELIMIT_STORAGE_URL", "memory://")
        self.LOGIN_FAILURES_PER_ACCOUNT = _env_int("TRACKER_LOGIN_FAILURES_PER_ACCOUNT", 5)
        self.LOGIN_FAILURES_PER_ADDRESS = _env_int("TRACKER_LOGIN_FAILURES_PER_ADDRESS", 20)
        self.LOGIN_LOCKOUT_MINUTES = _env_int("TRACKER_LOGIN_LOCKOUT_MINUTES", 15)
        self.SESSION_IDLE_MINUTES = _env_positive_int("TRACKER_SESSION_IDLE_MINUTES", 480)
        self.SESSION_MAX_HOURS = _env_positive_int("TRACKER_SESSION_MAX_HOURS", 12)
        self.INVITE_MAX_AGE_HOURS = _env_int("TRACKER_INVITE_MAX_AGE_HOURS", 72)
        self.BASE_URL = os.environ.get("TRACKER_BASE_URL", "http://127.0.0.1:5000")
        self.SMTP_HOST = os.environ.get("TRACKER_SMTP_HOST", "")
        self.SMTP_PORT = _env_int("TRACKER_SMTP_PORT", 25)
        self.SMTP_USER = os.environ.get("TRACKER_SMTP_USER", "")
        self.SMTP_PASSWORD = os.environ.get("TRACKER_SMTP_PASSWORD", "")
        self.SMTP_STARTTLS = _env_bool("TRACKER_SMTP_STARTTLS", False)
        self.MAIL_FROM = os.environ.get("TRACKER_MAIL_FROM", "Trustomer <trustomer@localhost>")
        # Replies and new conflicts arrive here; reply addresses are plus-addressed on it.
        self.MAIL_INTAKE_ADDRESS = os.environ.get("TRACKER_MAIL_INTAKE_ADDRESS") or (
            parseaddr(self.MAIL_FROM)[1] or "trustomer@localhost"
        )
        # Notices for one person about one conflict within this many seconds go out as one
        # message; 0 sends each notice as its own message at once.
        self.MAIL_COALESCE_SECONDS = _env_int("TRACKER_MAIL_COALESCE_SECONDS", 120)
        if self.MAIL_COALESCE_SECONDS < 0:
            raise ConfigError("TRACKER_MAIL_COALESCE_SECONDS must be 0 or more")
        # The local hour at which the daily digest of those who chose it goes out.
        self.MAIL_DIGEST_HOUR = _env_int("TRACKER_MAIL_DIGEST_HOUR", 8)
        if not 0 <= self.MAIL_DIGEST_HOUR <= 23:
            raise ConfigError("TRACKER_MAIL_DIGEST_HOUR must be an hour from 0 to 23")
        # Incoming mail (see the README's "E-mail" section).
        self.MAIL_MAX_BYTES = _env_positive_int("TRACKER_MAIL_MAX_BYTES", 25 * 1024 * 1024)
        self.MAIL_REQUIRE_AUTH_PASS = _env_bool("TRACKER_MAIL_REQUIRE_AUTH_PASS", False)
        self.MAIL_BOUNCE_MINUTES = _env_positive_int("TRACKER_MAIL_BOUNCE_MINUTES", 60)
        self.IMAP_HOST = os.environ.get("TRACKER_IMAP_HOST", "")
        self.IMAP_PORT = _env_positive_int("TRACKER_IMAP_PORT", 993)
        self.IMAP_USER = os.environ.get("TRACKER_IMAP_USER", "")
        self.IMAP_PASSWORD = os.environ.get("TRACKER_IMAP_PASSWORD", "")
        self.IMAP_FOLDER = os.environ.get("TRACKER_IMAP_FOLDER", "INBOX")
        self.IMAP_PROCESSED_FOLDER = os.environ.get(
            "TRACKER_IMAP_PROCESSED_FOLDER", "Trustomer-processed"
        )
        self.IMAP_CA_FILE = os.environ.get("TRACKER_IMAP_CA_FILE", "")
        self.WEBHOOK_URL = os.environ.get("TRACKER_WEBHOOK_URL", "")
        self.WEBHOOK_SECRET = os.environ.get("TRACKER_WEBHOOK_SECRET", "")
        self.ESCALATION_EMAIL = os.environ.get("TRACKER_ESCALATION_EMAIL", "")
        self.API_RATE_LIMIT = os.environ.get("TRACKER_API_RATE_LIMIT", "300/minute")
        self.API_MAX_CONTENT_LENGTH = _env_int("TRACKER_API_MAX_BODY_BYTES", 1024 * 1024)
        self.TRUST_HALF_LIFE_DAYS = _env_int("TRACKER_TRUST_HALF_LIFE_DAYS", 90)
        self.TRUST_DROP_ALERT_POINTS = _env_int("TRACKER_TRUST_DROP_ALERT_POINTS", 10)
        self.TRUST_SILENCE_DAYS = _env_int("TRACKER_TRUST_SILENCE_DAYS", 45)
        self.DELIVERY_MAX_ATTEMPTS = _env_int("TRACKER_DELIVERY_MAX_ATTEMPTS", 8)
        self.DELIVERY_BACKOFF_SECONDS = _env_int("TRACKER_DELIVERY_BACKOFF_SECONDS", 30)
        self.DELIVERY_LEASE_SECONDS = _env_int("TRACKER_DELIVERY_LEASE_SECONDS", 300)
        self.UPLOAD_DIR = os.environ.get("TRACKER_UPLOAD_DIR", str(INSTANCE_DIR / "uploads"))
        self.SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
        self.TRUSTED_PROXIES = _env_int("TRACKER_TRUSTED_PROXIES", 0)
        self.SIMILAR_CACHE_SECONDS = _env_int("TRACKER_SIMILAR_CACHE_SECONDS", 60)
        if self.SIMILAR_CACHE_SECONDS < 0:
            raise ConfigError(
                "TRACKER_SIMILAR_CACHE_SECONDS must be 0 (off) or more, "
                f"got {self.SIMILAR_CACHE_SECONDS}"
            )


class DevelopmentConfig(Config):
    ENV_NAME = "development"

    def __init__(self) -> None:
        super().__init__()
        self.SECRET_KEY = os.environ.get("TRACKER_SECRET_KEY") or _development_secret_key()


class ProductionConfig(Config):
    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    JSON_LOGS = True
    HSTS_SECONDS = 31536000  # one year, subdomains included: production is served over HTTPS

    def __init__(self) -> None:
        super().__init__()
        key = os.environ.get("TRACKER_SECRET_KEY", "")
        if len(key) < 32:
            raise ConfigError(
                "TRACKER_SECRET_KEY must be set to a random string of at least 32 characters "
                "in production. Make one with: "
                "python -c 'import secrets; print(secrets.token_hex(32))'"
            )
        self.SECRET_KEY = key


class TestConfig(Config):
    ENV_NAME = "test"
    TESTING = True

    def __init__(self) -> None:
        super().__init__()
        self.SECRET_KEY = "test-secret-key-not-for-production-use-0123456789"  # noqa: S105
        self.RATELIMIT_STORAGE_URI = "memory://"
        # Lower scrypt cost only to keep the suite fast; production keeps werkzeug's default.
        self.PASSWORD_HASH_METHOD = "scrypt:1024:8:1"  # noqa: S105
        # Tests that are not about coalescing read each notice's message at once.
        self.MAIL_COALESCE_SECONDS = 0


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "production": ProductionConfig,
    "test": TestConfig,
}


def load_config(env: str | None = None) -> Config:
    """Build the Config for TRACKER_ENV (development when unset)."""
    name = (env or os.environ.get("TRACKER_ENV") or "development").strip().lower()
    if name not in CONFIGS:
        raise ConfigError(f"TRACKER_ENV must be one of {', '.join(CONFIGS)}; got {name!r}")
    return CONFIGS[name]()
