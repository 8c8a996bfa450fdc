"""Failed sign-ins lock out the address that fails, never the account's owner."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from limits.storage import storage_from_string

from tests.factories import PASSWORD, WHEN, make_manager
from tracker.services.login_throttle import LOCKED, PACED, LoginThrottle
from tracker.web.auth import routes as auth_routes

OWNER_HOME = "198.51.100.7"
STRANGER = "203.0.113.9"
EMAIL = "maya@example.com"


def _from(browser, address: str):  # type: ignore[no-untyped-def]
    browser.client.environ_base["REMOTE_ADDR"] = address
    return browser


def _attempt(browser, password: str, email: str = EMAIL):  # type: ignore[no-untyped-def]
    return browser.post("/auth/login", {"email": email, "password": password})


def test_a_stranger_cannot_lock_the_owner_out(app, new_browser) -> None:
    make_manager(email=EMAIL)
    owner = _from(new_browser(), OWNER_HOME)
    owner.login(EMAIL)
    owner.post("/auth/logout")
    stranger = _from(new_browser(), STRANGER)
    for _ in range(app.config["LOGIN_FAILURES_PER_ACCOUNT"] * 3):
        assert _attempt(stranger, "guess-guess-guess").status_code in (401, 429)
    locked = _attempt(stranger, PASSWORD)
    assert locked.status_code == 429  # even the right password, from the stranger's address
    assert "Too many failed sign-in attempts" in locked.get_data(as_text=True)
    assert int(locked.headers["Retry-After"]) > 0
    owner.login(EMAIL)  # from home, with the right password: straight in
    assert owner.get("/partners/").status_code == 200


def test_the_owner_from_a_new_address_gets_in_while_the_account_is_attacked(
    app, new_browser, monkeypatch
) -> None:
    make_manager(email=EMAIL)
    stranger = _from(new_browser(), STRANGER)
    for _ in range(app.config["LOGIN_FAILURES_PER_ACCOUNT"]):
        assert _attempt(stranger, "guess-guess-guess").status_code == 401
    monkeypatch.setattr(auth_routes, "utcnow", lambda: WHEN)  # one instant for the pace
    traveller = _from(new_browser(), "192.0.2.44")
    assert _attempt(traveller, PASSWORD).status_code == 302


def test_attempts_from_new_addresses_on_an_attacked_account_are_paced(
    app, new_browser, monkeypatch
) -> None:
    make_manager(email=EMAIL)
    stranger = _from(new_browser(), STRANGER)
    for _ in range(app.config["LOGIN_FAILURES_PER_ACCOUNT"]):
        _attempt(stranger, "guess-guess-guess")
    monkeypatch.setattr(auth_routes, "utcnow", lambda: WHEN)
    assert _attempt(_from(new_browser(), "192.0.2.1"), "guess-again-guess").status_code == 401
    paced = _attempt(_from(new_browser(), "192.0.2.2"), "guess-again-guess")
    assert paced.status_code == 429
    assert "wait a few seconds" in paced.get_data(as_text=True)
    assert 1 <= int(paced.headers["Retry-After"]) <= 2


def test_failures_on_one_account_do_not_lock_the_address_out_of_others_early(
    app, new_browser
) -> None:
    make_manager(email=EMAIL)
    make_manager(email="lee@example.com")
    shared_office = _from(new_browser(), STRANGER)
    for _ in range(app.config["LOGIN_FAILURES_PER_ACCOUNT"]):
        _attempt(shared_office, "typo-typo-typo")
    assert _attempt(shared_office, PASSWORD).status_code == 429
    assert _attempt(shared_office, PASSWORD, email="lee@example.com").status_code == 302


# --- the throttle's rules, with time as a parameter ----------------------------------------


def _redis_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.2):
            return True
    except OSError:
        return False


@pytest.fixture(params=["memory", "redis"])
def throttle(request) -> Iterator[LoginThrottle]:  # type: ignore[no-untyped-def]
    """The same rules on per-process memory and on the shared Redis production uses."""
    if request.param == "memory":
        yield LoginThrottle.from_uri("memory://", per_account=3, per_address=50, window_minutes=15)
        return
    if not _redis_answers():
        pytest.skip("no Redis on 127.0.0.1:6379")
    storage = storage_from_string("redis://127.0.0.1:6379", key_prefix=f"test-{uuid.uuid4().hex}")
    yield LoginThrottle(storage, per_account=3, per_address=50, window_minutes=15)
    storage.reset()


def _fail(throttle: LoginThrottle, times: int, address: str = STRANGER) -> None:
    """Failed attempts as the sign-in page makes them: counted as they start, then failed."""
    for _ in range(times):
        throttle.check(EMAIL, address, now=WHEN)
        throttle.record_failure(EMAIL, address)


def test_the_pair_is_locked_and_the_owners_address_is_not(throttle) -> None:
    _fail(throttle, 3)
    assert throttle.check(EMAIL, STRANGER, now=WHEN).refused == LOCKED
    throttle.record_success(EMAIL, OWNER_HOME)
    assert throttle.check(EMAIL, OWNER_HOME, now=WHEN).refused is None


def test_an_address_is_locked_after_its_failures_on_any_accounts() -> None:
    throttle = LoginThrottle.from_uri("memory://", per_account=5, per_address=4, window_minutes=1)
    for n in range(4):
        throttle.record_failure(f"guess{n}@example.com", STRANGER)
    assert throttle.check("someone@example.com", STRANGER, now=WHEN).refused == LOCKED
    assert throttle.check("someone@example.com", OWNER_HOME, now=WHEN).refused is None


def test_an_account_without_many_failures_is_never_paced(throttle) -> None:
    _fail(throttle, 2)
    for address in ("192.0.2.1", "192.0.2.2", "192.0.2.3"):
        assert throttle.check(EMAIL, address, now=WHEN).refused is None


def test_new_addresses_keep_a_pace_that_grows_to_two_seconds(throttle) -> None:
    _fail(throttle, 3)
    assert throttle.check(EMAIL, "192.0.2.1", now=WHEN).refused is None
    paced = throttle.check(EMAIL, "192.0.2.2", now=WHEN)
    assert (paced.refused, paced.retry_after) == (PACED, 1)
    assert throttle.check(EMAIL, "192.0.2.2", now=WHEN + timedelta(seconds=1)).refused is None
    _fail(throttle, 3, address="192.0.2.9")  # six failures: the pace doubles
    start = WHEN + timedelta(seconds=10)
    assert throttle.check(EMAIL, "192.0.2.3", now=start).refused is None
    assert throttle.check(EMAIL, "192.0.2.4", now=start + timedelta(seconds=1)).refused == PACED
    assert throttle.check(EMAIL, "192.0.2.4", now=start + timedelta(seconds=2)).refused is None


def test_the_owners_known_address_is_never_paced(throttle) -> None:
    throttle.record_success(EMAIL, OWNER_HOME)
    _fail(throttle, 30, address="192.0.2.9")
    for _ in range(5):  # each of the owner's sign-ins succeeds, as they do
        assert throttle.check(EMAIL, OWNER_HOME, now=WHEN).refused is None
        throttle.record_success(EMAIL, OWNER_HOME)


@pytest.mark.parametrize(
    ("failures", "pace"), [(0, 0), (2, 0), (3, 1), (5, 1), (6, 2), (9, 2), (1000, 2)]
)
def test_pace_by_failures(throttle, failures: int, pace: int) -> None:
    assert throttle.pace_seconds(failures) == pace


def test_a_success_forgives_only_its_own_pairs_typos(throttle) -> None:
    _fail(throttle, 2, address=OWNER_HOME)
    throttle.record_success(EMAIL, OWNER_HOME)
    _fail(throttle, 2, address=OWNER_HOME)
    assert throttle.check(EMAIL, OWNER_HOME, now=WHEN).refused is None
    _fail(throttle, 3)
    assert throttle.check(EMAIL, STRANGER, now=WHEN).refused == LOCKED


def test_guesses_sent_all_at_once_get_no_more_tries_than_one_by_one(
    app, new_browser, monkeypatch
) -> None:
    """Each attempt is counted as it starts: parallel guesses cannot all pass a check that
    none of them has failed yet."""
    import threading
    import time

    from tracker.services import accounts

    make_manager(email=EMAIL)
    browsers = [_from(new_browser(), STRANGER) for _ in range(12)]
    for browser in browsers:
        browser.csrf_token()
    real = accounts.authenticate

    def slow(*args, **kwargs):  # type: ignore[no-untyped-def]
        time.sleep(0.2)  # the password check is slow (scrypt): all requests are in by now
        return real(*args, **kwargs)

    monkeypatch.setattr(accounts, "authenticate", slow)
    start = threading.Barrier(len(browsers))
    statuses: list[int] = []

    def guess(browser) -> None:  # type: ignore[no-untyped-def]
        with app.app_context():
            start.wait()
            statuses.append(_attempt(browser, "guess-guess-guess").status_code)

    threads = [threading.Thread(target=guess, args=(b,)) for b in browsers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    checked = statuses.count(401)
    assert len(statuses) == 12 and checked == app.config["LOGIN_FAILURES_PER_ACCOUNT"]
    assert statuses.count(429) == 12 - checked
