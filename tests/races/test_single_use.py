"""Things that may happen once, asked for twice at the same instant: an invitation link
accepted twice, a sixth webhook registered twice, one e-mail address created twice."""

from __future__ import annotations

from sqlalchemy import func, select

from tests.factories import WHEN, make_admin, make_partner, make_partner_user
from tests.races.test_conflicting_actions import _at_once, _slow
from tracker.extensions import db
from tracker.models import PartnerWebhook, User
from tracker.services import accounts, partner_webhooks
from tracker.services.errors import InvalidInput

NOW = WHEN


def test_an_invitation_accepted_twice_at_once_sets_one_password(app, monkeypatch) -> None:
    partner = make_partner()
    user = accounts.create_user(
        email="new@partner.example", name="New", role="partner", partner_id=partner.id, now=NOW
    )
    token = accounts.invite_token(user, app.config["SECRET_KEY"])
    _slow(monkeypatch, accounts, "user_for_invite")  # both have judged the link unused

    def accept(password: str):  # type: ignore[no-untyped-def]
        def call():  # type: ignore[no-untyped-def]
            return accounts.accept_invite(
                token,
                password,
                secret_key=app.config["SECRET_KEY"],
                max_age_seconds=3600 * 72,
                now=NOW,
            )

        return call

    results = _at_once(app, accept("Quiet-harbour-lantern-42"), accept("Velvet-orbit-kettle-77"))
    refused = [r for r in results if isinstance(r, InvalidInput)]
    assert len(refused) == 1 and "already been used" in refused[0].message
    winner = "Velvet-orbit-kettle-77" if refused[0] is results[0] else "Quiet-harbour-lantern-42"
    assert accounts.authenticate("new@partner.example", winner, now=NOW) is not None


def test_two_registrations_at_once_never_pass_the_webhook_cap(app, monkeypatch) -> None:
    user = make_partner_user()
    for i in range(partner_webhooks.MAX_ACTIVE_HOOKS - 1):
        partner_webhooks.create(user, url=f"http://127.0.0.1:9/hook{i}", events=None, now=NOW)
    user_id = user.id
    _slow(monkeypatch, partner_webhooks.secrets, "token_hex")  # after counting, before adding

    def register(path: str):  # type: ignore[no-untyped-def]
        def call():  # type: ignore[no-untyped-def]
            actor = db.session.get(User, user_id)
            return partner_webhooks.create(
                actor, url=f"http://127.0.0.1:9/{path}", events=None, now=NOW
            )

        return call

    results = _at_once(app, register("last-a"), register("last-b"))
    assert sum(isinstance(r, InvalidInput) for r in results) == 1, results
    active = select(func.count(PartnerWebhook.id)).where(PartnerWebhook.active.is_(True))
    assert db.session.scalar(active) == partner_webhooks.MAX_ACTIVE_HOOKS


def test_one_address_created_twice_at_once_is_one_account(app, monkeypatch) -> None:
    make_admin()
    _slow(monkeypatch, accounts, "_rule")

    def create():  # type: ignore[no-untyped-def]
        return accounts.create_user(
            email="twin@trustomer.example", name="T", role="manager", now=NOW
        )

    results = _at_once(app, create, create)
    assert sum(isinstance(r, InvalidInput) for r in results) == 1, results
    count = select(func.count(User.id)).where(User.email == "twin@trustomer.example")
    assert db.session.scalar(count) == 1


def test_a_token_asked_for_during_a_password_change_does_not_outlive_it(app) -> None:
    from tests.factories import PASSWORD, make_manager
    from tracker.models import ApiToken
    from tracker.services import api_tokens

    user = make_manager()
    user_id = user.id
    with app.app_context():  # a request of a stolen session: it loaded the user already
        stale = db.session.get(User, user_id)
        assert stale.session_version is not None
        with app.app_context():  # meanwhile the owner changes the password
            owner = db.session.get(User, user_id)
            accounts.change_password(owner, PASSWORD, "Granite-meadow-violin-93", now=NOW)
            db.session.remove()
        try:
            api_tokens.create(stale, name="exfiltrate", scope="write", now=NOW)
        except InvalidInput as exc:
            assert "Sign in again" in exc.message
        db.session.remove()
    live = select(func.count(ApiToken.id)).where(ApiToken.revoked_at.is_(None))
    assert db.session.scalar(live) == 0
