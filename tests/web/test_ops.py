"""Probes for load balancers, and the error pages."""

from sqlalchemy import text

from tests.factories import make_admin, make_manager, make_partner_user
from tracker.extensions import db


def test_healthz_answers_without_login(client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_readyz_is_ok_at_head(client) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json["status"] == "ok"
    assert response.json["migrations"] == "at head"


def test_readyz_fails_when_the_schema_is_behind(client) -> None:
    (current,) = db.session.execute(text("SELECT version_num FROM alembic_version")).one()
    db.session.execute(text("UPDATE alembic_version SET version_num = 'behind'"))
    db.session.commit()
    try:
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.json["migrations"] == "behind"
    finally:
        db.session.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": current})
        db.session.commit()


def test_not_found_page_uses_the_layout(client) -> None:
    response = client.get("/no/such/page")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "Not found" in html and "Trustomer" in html


def test_unexpected_error_shows_the_500_page(app, client) -> None:
    @app.route("/boom-for-test")
    def boom():  # type: ignore[no-untyped-def]
        raise RuntimeError("kaboom")

    response = client.get("/boom-for-test")
    assert response.status_code == 500
    assert "Something went wrong" in response.get_data(as_text=True)
    assert "kaboom" not in response.get_data(as_text=True)


def _nav(browser) -> str:  # type: ignore[no-untyped-def]
    html = browser.get("/", follow_redirects=True).get_data(as_text=True)
    return html[html.index('<nav class="main-nav"') : html.index("</nav>")]


def test_each_role_sees_its_own_navigation(new_browser) -> None:
    expectations = {
        make_admin: ["Queue", "Users", "Partners", "Settings"],
        make_manager: ["Queue", "Partners"],
        make_partner_user: ["My conflicts", "New conflict", "My organisation"],
    }
    for factory, labels in expectations.items():
        browser = new_browser()
        browser.login(factory().email)
        nav = _nav(browser)
        for label in labels:
            assert f">{label}</a>" in nav, (factory.__name__, label)
        if factory is not make_admin:
            assert ">Users</a>" not in nav and ">Settings</a>" not in nav
        if factory is make_partner_user:
            assert ">Queue</a>" not in nav and ">Partners</a>" not in nav


def test_staff_choose_the_timezone_they_read_times_in(browser) -> None:
    from tracker.extensions import db
    from tracker.models import User

    manager = make_manager()
    browser.login(manager.email)
    page = browser.get("/account/").get_data(as_text=True)
    assert "shown in <strong>UTC</strong>" in page
    browser.post("/account/", {"timezone": "America/New_York"})
    assert db.session.get(User, manager.id).timezone == "America/New_York"
    assert "shown in <strong>America/New_York</strong>" in browser.get("/account/").get_data(
        as_text=True
    )
    response = browser.post("/account/", {"timezone": "Mars/Olympus"})
    assert response.status_code == 200 and "Not a valid choice" in response.get_data(as_text=True)
    assert db.session.get(User, manager.id).timezone == "America/New_York"


def test_favicon_is_served_from_the_app(client) -> None:
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response.headers["Location"].endswith(
        "/static/favicon.svg"
    )
    assert client.get("/static/favicon.svg").status_code == 200


def test_deactivation_asks_for_confirmation_first(browser) -> None:
    admin = make_admin()
    target = make_manager(name="Leo Brandt")
    browser.login(admin.email)
    page = browser.get(f"/admin/users/{target.id}").get_data(as_text=True)
    assert '<details class="confirm">' in page and "Yes, deactivate" in page
