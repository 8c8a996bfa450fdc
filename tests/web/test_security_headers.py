"""Transport and caching headers, absolute links on the configured address, start-up warnings."""

from __future__ import annotations

import logging

import pytest

from config import ProductionConfig
from tests.api.conftest import ApiClient, assert_problem, token_for
from tests.conftest import IsolatedClient
from tests.factories import WHEN, make_admin, make_manager, make_partner_user
from tracker import create_app
from tracker.extensions import db
from tracker.models import OutboxMessage, User
from tracker.services import accounts
from tracker.services.health import PROCESS_LOCAL_LIMITS

HSTS = "max-age=31536000; includeSubDomains"
PRODUCTION_KEY = "a-production-secret-key-for-tests-0123456789"


@pytest.fixture
def production_app(migrated_database, monkeypatch):  # type: ignore[no-untyped-def]
    """The real production configuration, on the test database."""
    monkeypatch.setenv("TRACKER_SECRET_KEY", PRODUCTION_KEY)
    monkeypatch.delenv("TRACKER_RATELIMIT_STORAGE_URL", raising=False)
    # Alembic's logging set-up (the session's migration run) disables existing loggers.
    monkeypatch.setattr(logging.getLogger("tracker"), "disabled", False)

    def make(**overrides):  # type: ignore[no-untyped-def]
        config = ProductionConfig()
        config.SQLALCHEMY_DATABASE_URI = migrated_database
        for key, value in overrides.items():
            setattr(config, key, value)
        app = create_app(config)
        app.test_client_class = IsolatedClient
        return app

    return make


# --- HSTS ---------------------------------------------------------------------------------


def test_production_sends_strict_transport_security(production_app) -> None:
    app = production_app()
    with app.app_context():
        for path in ("/healthz", "/auth/login", "/api/v1/conflicts"):
            assert app.test_client().get(path).headers["Strict-Transport-Security"] == HSTS
        db.engine.dispose()


def test_development_and_tests_over_http_send_no_hsts(client) -> None:
    for path in ("/healthz", "/auth/login"):
        assert "Strict-Transport-Security" not in client.get(path).headers


# --- Cache-Control: no-store ---------------------------------------------------------------


def test_every_signed_in_page_is_not_stored(browser) -> None:
    browser.login(make_manager().email)
    for path in ("/", "/partners/", "/account/", "/auth/password", "/no/such/page"):
        response = browser.get(path, follow_redirects=True)
        assert response.headers["Cache-Control"] == "no-store", path


def test_the_csv_export_is_not_stored(browser) -> None:
    user = make_partner_user()
    browser.login(user.email)
    response = browser.get("/portal/trust.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Cache-Control"] == "no-store"


def test_api_answers_are_not_stored(client) -> None:
    token = token_for(make_manager(), "read")
    ok = ApiClient(client, token).get("/api/v1/conflicts")
    assert ok.status_code == 200 and ok.headers["Cache-Control"] == "no-store"
    refused = ApiClient(client, None).get("/api/v1/conflicts")
    assert_problem(refused, 401)
    assert refused.headers["Cache-Control"] == "no-store"
    unknown = ApiClient(client, token).get("/api/v1/no-such-thing")
    assert_problem(unknown, 404)
    assert unknown.headers["Cache-Control"] == "no-store"


def test_static_files_stay_cacheable(browser) -> None:
    browser.login(make_manager().email)
    assert browser.get("/static/style.css").headers.get("Cache-Control") != "no-store"


# --- links are built on TRACKER_BASE_URL, never on the Host header ---------------------------


def test_an_invitation_link_ignores_a_forged_host_header(app, browser) -> None:
    app.config["BASE_URL"] = "https://trustomer.example.com"
    admin = make_admin()
    browser.login(admin.email)
    browser.csrf_token()  # before copying the cookie: the token's secret lives in the session
    cookie = browser.client.get_cookie("trustomer_session")
    browser.client.set_cookie("trustomer_session", cookie.value, domain="evil.example")
    response = browser.post(
        "/admin/users/new",
        {"email": "new.person@example.com", "name": "New Person", "role": "manager"},
        headers={"Host": "evil.example", "X-Forwarded-Host": "evil.example"},
    )
    assert response.status_code == 302
    user = User.query.filter_by(email="new.person@example.com").one()
    mail = db.session.query(OutboxMessage).one()
    assert "https://trustomer.example.com/auth/invite/" in (mail.body_text or "")
    assert "evil.example" not in (mail.body_text or "")
    page = browser.get(
        f"/admin/users/{user.id}?invite=1", headers={"Host": "evil.example"}
    ).get_data(as_text=True)
    assert "https://trustomer.example.com/auth/invite/" in page
    assert "evil.example" not in page


def test_an_invitation_link_keeps_the_base_urls_mount_point(app) -> None:
    app.config["BASE_URL"] = "https://example.com/trustomer/"
    user = accounts.create_user(email="m@example.com", name="M", role="manager", now=WHEN)
    assert accounts.invite_url(user).startswith("https://example.com/trustomer/auth/invite/")


# --- per-process rate-limit storage in production -------------------------------------------


def test_production_with_memory_storage_warns_at_start_and_in_readyz(production_app, capsys):  # type: ignore[no-untyped-def]
    app = production_app()
    assert "TRACKER_RATELIMIT_STORAGE_URL=redis://" in capsys.readouterr().err
    with app.app_context():
        response = app.test_client().get("/readyz")
        db.engine.dispose()
    assert response.status_code == 200
    assert response.json["status"] == "ok"
    assert response.json["warnings"] == [PROCESS_LOCAL_LIMITS]


def test_production_with_shared_storage_has_no_warning(production_app, capsys) -> None:  # type: ignore[no-untyped-def]
    app = production_app(RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379")
    assert "CONFIGURATION WARNING" not in capsys.readouterr().err
    with app.app_context():
        response = app.test_client().get("/readyz")
        db.engine.dispose()
    assert response.status_code == 200 and "warnings" not in response.json


def test_development_with_memory_storage_has_no_warning(client) -> None:
    assert "warnings" not in client.get("/readyz").json
