"""One password rule wherever a password is set: common, breached, runs, one's own name."""

from __future__ import annotations

import pytest

from tests.factories import PASSWORD, WHEN, make_admin, make_manager, make_partner_user
from tracker.domain.accounts import AccountRuleError
from tracker.domain.passwords import check_password_strength
from tracker.models import User
from tracker.services import accounts
from tracker.services.errors import InvalidInput

SECRET = "test-secret-key-for-invites-0123456789"
DAY = 24 * 3600

COMMON = ["password12", "qwertyuiop", "1q2w3e4r5t", "iloveyou12", "Password123!", "Summer2024!"]
RUNS = ["aaaaaaaaaa", "abcdefghij", "1234567890", "zyxwvutsrq", "abcabcabcabc", "1234abcd9876"]
FINE = ["correct-horse-battery", "a-brand-new-pass", "long-enough-password", "Trellis vane 47!"]


@pytest.mark.parametrize("password", COMMON)
def test_common_and_breached_passwords_are_refused(password: str) -> None:
    with pytest.raises(AccountRuleError, match="This password is too common: "):
        check_password_strength(password)


@pytest.mark.parametrize("password", RUNS)
def test_repeated_and_sequential_characters_are_refused(password: str) -> None:
    with pytest.raises(AccountRuleError, match="repeats characters or follows a sequence"):
        check_password_strength(password)


@pytest.mark.parametrize(
    "password", ["maya.smith-rules", "Smith-family-2026", "my mail maya.smith@example.com"]
)
def test_a_password_with_ones_own_email_or_name_is_refused(password: str) -> None:
    with pytest.raises(AccountRuleError, match="contains your e-mail address or name"):
        check_password_strength(password, email="maya.smith@example.com", name="Maya Smith")


@pytest.mark.parametrize("password", FINE)
def test_uncommon_passphrases_are_accepted(password: str) -> None:
    check_password_strength(password, email="maya.smith@example.com", name="Maya Smith")


def test_a_long_password_is_judged_without_error() -> None:
    long_one = "Trellis vane 47! " + "-".join(str(n * 7919) for n in range(1, 45))
    assert len(long_one) > 200  # zxcvbn itself stops at 72 characters
    check_password_strength(long_one)
    with pytest.raises(AccountRuleError):
        check_password_strength("password" * 30)


def test_the_message_never_repeats_the_password() -> None:
    with pytest.raises(AccountRuleError) as refused:
        check_password_strength("password12")
    assert "password12" not in str(refused.value)


# --- every way of setting a password uses the rule ----------------------------------------


def test_creating_a_user_refuses_a_common_password(app) -> None:
    with pytest.raises(InvalidInput) as refused:
        accounts.create_user(
            email="lee@example.com", name="Lee", role="manager", password="password12", now=WHEN
        )
    assert "too common" in refused.value.field_errors["password"]
    assert User.query.filter_by(email="lee@example.com").count() == 0


def test_changing_a_password_refuses_ones_own_name(app) -> None:
    user = make_manager(email="maya.smith@example.com", name="Maya Smith")
    with pytest.raises(InvalidInput) as refused:
        accounts.change_password(user, PASSWORD, "maya.smith-rules-ok", now=WHEN)
    assert "e-mail address or name" in refused.value.field_errors["new_password"]
    assert accounts.authenticate(user.email, PASSWORD, now=WHEN) is not None


def test_accepting_an_invitation_refuses_repeated_characters(app) -> None:
    user = make_partner_user(password=None)
    token = accounts.invite_token(user, SECRET)
    with pytest.raises(InvalidInput) as refused:
        accounts.accept_invite(
            token, "aaaaaaaaaa", secret_key=SECRET, max_age_seconds=DAY, now=WHEN
        )
    assert "repeats characters" in refused.value.field_errors["password"]
    assert accounts.user_for_invite(token, SECRET, DAY) is user  # the link still works


def test_the_cli_refuses_a_common_password(runner) -> None:
    result = runner.invoke(
        args=["users", "create", "lee@trustomer.example", "--role", "manager"]
        + ["--password", "password12"]
    )
    assert result.exit_code != 0
    assert "This password is too common" in result.output
    assert User.query.filter_by(email="lee@trustomer.example").count() == 0


def test_the_password_form_shows_why_a_password_is_refused(browser) -> None:
    make_manager(email="maya@example.com")
    browser.login("maya@example.com")
    response = browser.post(
        "/auth/password",
        {"current_password": PASSWORD, "new_password": "password12", "confirm": "password12"},
    )
    assert response.status_code == 200
    assert "This password is too common: " in response.get_data(as_text=True)


def test_the_invitation_form_shows_why_a_password_is_refused(app, browser, new_browser) -> None:
    make_admin()
    user = make_partner_user(password=None)
    token = accounts.invite_token(user, app.config["SECRET_KEY"])
    invitee = new_browser()
    response = invitee.post(
        f"/auth/invite/{token}", {"password": "1234567890", "confirm": "1234567890"}
    )
    assert response.status_code == 200
    assert "follows a sequence" in response.get_data(as_text=True)


def test_refused_passwords_are_never_logged(browser, caplog) -> None:
    make_manager(email="maya@example.com")
    browser.login("maya@example.com")
    with caplog.at_level("DEBUG"):
        browser.post(
            "/auth/password",
            {"current_password": PASSWORD, "new_password": "password12", "confirm": "password12"},
        )
    assert "password12" not in caplog.text and PASSWORD not in caplog.text
