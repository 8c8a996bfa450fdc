"""Who counts as active: deactivated partners, invitations already used, who is notified."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.factories import (
    PASSWORD,
    WHEN,
    make_conflict,
    make_manager,
    make_partner,
    make_partner_user,
    triage,
)
from tracker.extensions import db
from tracker.models import Notification, User
from tracker.services import accounts, conflicts, partners, sessions
from tracker.services.errors import InvalidInput

SECRET = "test-secret-key-for-invites-0123456789"
DAY = 24 * 3600


def _sign_in(user: User) -> str:
    """A server-side session for `user`, as the sign-in page opens one; its token."""
    return sessions.start(user, now=WHEN, lifetime=timedelta(hours=12))


def _loaded(token: str) -> User | None:
    return accounts.load_session_user(token, now=WHEN)


def _set_partner_active(partner, active: bool) -> None:  # type: ignore[no-untyped-def]
    partners.update_partner(
        partner.id,
        name=partner.name,
        tier=partner.tier,
        timezone=partner.timezone,
        country=partner.country,
        owner_id=partner.owner_id,
        active=active,
    )


def test_users_of_an_inactive_partner_are_inactive_and_cannot_sign_in(app) -> None:
    partner = make_partner()
    user = make_partner_user(partner=partner)
    session_id = _sign_in(user)
    assert _loaded(session_id) is user
    _set_partner_active(partner, False)
    assert not user.is_active
    assert accounts.authenticate(user.email, PASSWORD, now=WHEN) is None
    assert _loaded(session_id) is None


def test_reactivating_a_partner_lets_its_users_sign_in_again_with_a_fresh_session(app) -> None:
    partner = make_partner()
    user = make_partner_user(partner=partner)
    old_session = _sign_in(user)
    _set_partner_active(partner, False)
    _set_partner_active(partner, True)
    assert accounts.authenticate(user.email, PASSWORD, now=WHEN) is user
    assert _loaded(_sign_in(user)) is user
    assert _loaded(old_session) is None  # deactivation ended it for good


def test_editing_an_active_partner_keeps_its_users_signed_in(app) -> None:
    partner = make_partner()
    user = make_partner_user(partner=partner)
    session_id = _sign_in(user)
    _set_partner_active(partner, True)
    assert _loaded(session_id) is user


def test_deactivating_a_partner_leaves_other_partners_and_staff_alone(app) -> None:
    partner = make_partner()
    make_partner_user(partner=partner)
    other = make_partner_user()
    manager = make_manager()
    tokens = {u.id: _sign_in(u) for u in (other, manager)}
    _set_partner_active(partner, False)
    for user in (other, manager):
        assert _loaded(tokens[user.id]) is user


def test_an_invitation_is_refused_once_a_password_is_set(app) -> None:
    user = make_partner_user()  # created with a password
    token = accounts.invite_token(user, SECRET)
    with pytest.raises(InvalidInput, match="already been used"):
        accounts.user_for_invite(token, SECRET, DAY)
    with pytest.raises(InvalidInput, match="already been used"):
        accounts.accept_invite(
            token, "another-long-password", secret_key=SECRET, max_age_seconds=DAY, now=WHEN
        )
    assert accounts.authenticate(user.email, PASSWORD, now=WHEN) is user


def test_an_invitation_works_for_a_user_without_a_password(app) -> None:
    user = make_partner_user(password=None)
    token = accounts.invite_token(user, SECRET)
    assert accounts.user_for_invite(token, SECRET, DAY) is user


def _notified(conflict_id: int) -> set[int]:
    return set(
        db.session.scalars(
            select(Notification.user_id).where(Notification.conflict_id == conflict_id)
        )
    )


def test_invited_users_and_users_of_inactive_partners_are_not_notified(app) -> None:
    manager = make_manager()
    partner = make_partner(owner_id=manager.id)
    author = make_partner_user(partner=partner)
    colleague = make_partner_user(partner=partner)
    invited = make_partner_user(partner=partner, password=None)
    conflict = make_conflict(author)
    triage(conflict, manager)
    conflicts.comment(manager, conflict.id, "Looking into it.", now=WHEN + timedelta(hours=1))
    assert {author.id, colleague.id} <= _notified(conflict.id)
    assert invited.id not in _notified(conflict.id)

    quiet = make_partner_user()
    quiet_conflict = make_conflict(quiet)
    _set_partner_active(db.session.get(User, quiet.id).partner, False)
    conflicts.comment(manager, quiet_conflict.id, "Anyone there?", now=WHEN + timedelta(hours=1))
    assert quiet.id not in _notified(quiet_conflict.id)
