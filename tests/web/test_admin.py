"""Admin pages: who may enter, users and invitations, partners."""

from __future__ import annotations

import pytest
from itsdangerous import URLSafeTimedSerializer

from tests.factories import PASSWORD, make_admin, make_manager, make_partner, make_partner_user
from tracker.extensions import db
from tracker.models import Partner, User
from tracker.services import accounts

ADMIN_GETS = ["/admin/users", "/admin/users/new", "/admin/partners/new", "/admin/settings"]


def _admin_requests(app) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """(method, url) for every admin route, ids filled with 1: new routes are covered too."""
    requests = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("admin."):
            continue
        url = rule.build({arg: 1 for arg in rule.arguments}, append_unknown=False)[1]
        for method in sorted(rule.methods & {"GET", "POST"}):
            requests.append((method, url))
    return requests


def test_the_admin_area_has_the_routes_we_expect(app) -> None:
    urls = {url for _, url in _admin_requests(app)}
    assert {"/admin/users", "/admin/users/new", "/admin/settings", "/admin/partners/new"} <= urls
    assert len(urls) >= 8


@pytest.mark.parametrize("role", ["manager", "partner"])
def test_non_admins_are_refused_every_admin_route(app, browser, role) -> None:
    target = make_manager()
    make_partner()
    user = make_manager() if role == "manager" else make_partner_user()
    browser.login(user.email)
    for method, url in _admin_requests(app):
        response = browser.get(url) if method == "GET" else browser.post(url, {"name": "x"})
        assert response.status_code == 403, (method, url)
    assert db.session.get(User, target.id).active


def test_anonymous_visitors_are_sent_to_sign_in(client) -> None:
    for url in ADMIN_GETS:
        response = client.get(url)
        assert response.status_code == 302
        assert "/auth/login" in response.headers["Location"]


def test_admin_sees_every_admin_page(browser) -> None:
    admin = make_admin()
    browser.login(admin.email)
    for url in ADMIN_GETS:
        assert browser.get(url).status_code == 200, url


def _invite(browser, app, **fields):  # type: ignore[no-untyped-def]
    data = {"email": "new.person@northwind.example", "name": "New Person", "role": "partner"}
    data.update(fields)
    response = browser.post("/admin/users/new", data, follow_redirects=True)
    html = response.get_data(as_text=True)
    return response, html


def _token_from(html: str) -> str:
    marker = "/auth/invite/"
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


def test_invite_flow_sets_password_and_signs_in(app, browser, new_browser) -> None:
    admin = make_admin()
    partner = make_partner(name="Northwind")
    browser.login(admin.email)
    response, html = _invite(browser, app, partner_id=str(partner.id))
    assert response.status_code == 200
    token = _token_from(html)
    invitee = new_browser()
    page = invitee.get(f"/auth/invite/{token}")
    assert "Northwind" in page.get_data(as_text=True)
    done = invitee.post(
        f"/auth/invite/{token}", {"password": "my-own-password", "confirm": "my-own-password"}
    )
    assert done.status_code == 302
    assert invitee.get("/organisation").status_code == 200
    again = new_browser().get(f"/auth/invite/{token}")
    assert again.status_code == 400
    assert "already been used" in again.get_data(as_text=True)


def test_invited_user_cannot_sign_in_before_setting_a_password(app, browser, new_browser) -> None:
    admin = make_admin()
    browser.login(admin.email)
    _invite(browser, app, role="manager", partner_id="")
    assert User.query.filter_by(email="new.person@northwind.example").one().password_hash is None
    response = new_browser().post(
        "/auth/login", {"email": "new.person@northwind.example", "password": "any-password-at-all"}
    )
    assert response.status_code == 401


def test_expired_invite_is_refused(app, client) -> None:
    user = accounts.create_user(email="late@example.com", name="Late", role="manager", now=_now())
    token = accounts.invite_token(user, app.config["SECRET_KEY"])
    app.config["INVITE_MAX_AGE_HOURS"] = -1
    response = client.get(f"/auth/invite/{token}")
    assert response.status_code == 400
    assert "expired" in response.get_data(as_text=True)


def test_tampered_invite_is_refused(app, client) -> None:
    user = accounts.create_user(email="t@example.com", name="T", role="manager", now=_now())
    token = accounts.invite_token(user, app.config["SECRET_KEY"])
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    assert client.get(f"/auth/invite/{tampered}").status_code == 400
    forged = URLSafeTimedSerializer("another-secret", salt=accounts.INVITE_SALT).dumps(
        {"uid": user.id, "v": user.session_version}
    )
    assert "not valid" in client.get(f"/auth/invite/{forged}").get_data(as_text=True)
    assert db.session.get(User, user.id).password_hash is None


def test_reissued_invite_invalidates_the_old_link(app, browser, client) -> None:
    admin = make_admin()
    user = accounts.create_user(email="r@example.com", name="R", role="manager", now=_now())
    old = accounts.invite_token(user, app.config["SECRET_KEY"])
    browser.login(admin.email)
    assert browser.post(f"/admin/users/{user.id}/invite").status_code == 302
    assert client.get(f"/auth/invite/{old}").status_code == 400


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"email": "not-an-email"}, "not a valid email address"),
        ({"role": "partner", "partner_id": ""}, "must belong to a partner"),
        ({"role": "manager", "partner_id": "PARTNER"}, "Only partner users"),
        ({"email": "taken@example.com"}, "Already in use"),
    ],
)
def test_invalid_user_form_explains_and_creates_nothing(app, browser, fields, message) -> None:
    admin = make_admin()
    partner = make_partner()
    make_manager(email="taken@example.com")
    browser.login(admin.email)
    if fields.get("partner_id") == "PARTNER":
        fields["partner_id"] = str(partner.id)
    before = User.query.count()
    response, html = _invite(browser, app, **fields)
    assert message.lower() in html.lower()
    assert User.query.count() == before


def test_admin_deactivates_and_reactivates_a_user(browser) -> None:
    admin = make_admin()
    target = make_manager()
    browser.login(admin.email)
    browser.post(f"/admin/users/{target.id}/active")
    assert db.session.get(User, target.id).active is False
    browser.post(f"/admin/users/{target.id}/active")
    assert db.session.get(User, target.id).active is True


def test_admin_cannot_deactivate_themselves(browser) -> None:
    admin = make_admin()
    browser.login(admin.email)
    browser.post(f"/admin/users/{admin.id}/active")
    assert db.session.get(User, admin.id).active is True


def test_admin_creates_and_edits_a_partner(browser) -> None:
    admin = make_admin()
    owner = make_manager(name="Maya Okafor")
    browser.login(admin.email)
    response = browser.post(
        "/admin/partners/new",
        {
            "name": "Bluefin Systems",
            "tier": "preferred",
            "timezone": "America/New_York",
            "country": "us",
            "owner_id": str(owner.id),
        },
    )
    assert response.status_code == 302
    partner = Partner.query.filter_by(name="Bluefin Systems").one()
    assert (partner.tier, partner.timezone, partner.country, partner.owner_id) == (
        "preferred",
        "America/New_York",
        "US",
        owner.id,
    )
    detail = browser.get(f"/partners/{partner.id}").get_data(as_text=True)
    assert "Maya Okafor" in detail
    browser.post(
        f"/admin/partners/{partner.id}/edit",
        {
            "name": "Bluefin Systems Inc",
            "tier": "strategic",
            "timezone": "America/Chicago",
            "country": "US",
            "owner_id": "",
            "active": "y",
        },
    )
    partner = db.session.get(Partner, partner.id)
    assert (partner.name, partner.tier, partner.timezone, partner.owner_id) == (
        "Bluefin Systems Inc",
        "strategic",
        "America/Chicago",
        None,
    )


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": ""}, "Enter the partner"),
        ({"timezone": "Mars/Olympus"}, "Not a valid choice"),
        ({"country": "D1"}, "two-letter ISO code"),
        ({"tier": "gold"}, "Not a valid choice"),
        ({"name": "Existing Co"}, "Already in use"),
    ],
)
def test_invalid_partner_form_explains_and_creates_nothing(browser, fields, message) -> None:
    admin = make_admin()
    make_partner(name="Existing Co")
    browser.login(admin.email)
    before = Partner.query.count()
    data = {
        "name": "Fresh Co",
        "tier": "standard",
        "timezone": "Europe/Berlin",
        "country": "DE",
        "owner_id": "",
    }
    data.update(fields)
    response = browser.post("/admin/partners/new", data)
    assert response.status_code == 200
    assert message.lower() in response.get_data(as_text=True).lower()
    assert Partner.query.count() == before


def test_settings_page_shows_no_secrets(app, browser) -> None:
    admin = make_admin()
    browser.login(admin.email)
    html = browser.get("/admin/settings").get_data(as_text=True)
    assert app.config["SECRET_KEY"] not in html
    assert "Database engine" in html


def test_managers_see_partners_but_partners_do_not(browser, new_browser) -> None:
    partner = make_partner()
    manager = make_manager()
    browser.login(manager.email)
    assert browser.get("/partners/").status_code == 200
    assert browser.get(f"/partners/{partner.id}").status_code == 200
    outsider = new_browser()
    outsider.login(make_partner_user(partner=partner).email, PASSWORD)
    assert outsider.get("/partners/").status_code == 403


def _now():  # type: ignore[no-untyped-def]
    from tests.factories import WHEN

    return WHEN


def test_an_invitation_is_e_mailed_through_the_outbox(app, browser) -> None:
    from tracker.models import OutboxMessage

    admin = make_admin()
    browser.login(admin.email)
    _invite(browser, app, role="manager", partner_id="")
    message = (
        db.session.query(OutboxMessage).filter_by(address="new.person@northwind.example").one()
    )
    assert (
        "/auth/invite/" in message.body_text and message.subject == "You are invited to Trustomer"
    )
