"""API hardening: idempotency under concurrency, secrets, purging, rate-limit keys,
response-validation errors, strict query strings, next links and Cache-Control."""

from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.api.conftest import ApiClient, assert_problem, token_for
from tests.factories import make_conflict, make_manager, make_partner_user
from tracker.api import paging
from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import Conflict, IdempotencyRecord
from tracker.services import conflicts, idempotency

NEW = {
    "title": "Customer handed over without contract",
    "description": "The customer file arrived without the signed contract.",
    "category": "customer_handover",
    "severity": "high",
}


def _conflicts() -> int:
    return db.session.scalar(select(func.count(Conflict.id)))


def _records() -> list[IdempotencyRecord]:
    db.session.expire_all()
    return list(db.session.scalars(select(IdempotencyRecord)))


# --- 1. idempotency under concurrency ------------------------------------------------------


def test_two_concurrent_retries_with_one_key_create_one_conflict(app, monkeypatch) -> None:
    user = make_partner_user()
    token = token_for(user)
    original = conflicts.submit
    entered = threading.Event()

    def slow_submit(*args, **kwargs):  # type: ignore[no-untyped-def]
        entered.set()
        time.sleep(0.5)
        return original(*args, **kwargs)

    monkeypatch.setattr(conflicts, "submit", slow_submit)
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "concurrent-1"}
    responses: dict[str, object] = {}
    errors: list[BaseException] = []

    def post(name: str) -> None:
        try:
            with app.app_context():
                responses[name] = app.test_client().post(
                    "/api/v1/conflicts", json=NEW, headers=headers
                )
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001  (reported below)
            errors.append(exc)

    first = threading.Thread(target=post, args=("first",))
    first.start()
    assert entered.wait(10)  # the first request holds the key and is inside the view
    second = threading.Thread(target=post, args=("second",))
    second.start()
    for thread in (first, second):
        thread.join(timeout=30)
    assert errors == []
    assert responses["first"].status_code == 201  # type: ignore[attr-defined]
    other = responses["second"]
    # The twin waits for the first's transaction (claim and work commit together) and then
    # gets its response: never a second conflict, and no "retry later" either.
    assert other.status_code == 201  # type: ignore[attr-defined]
    assert other.headers["Idempotent-Replayed"] == "true"  # type: ignore[attr-defined]
    assert other.get_json() == responses["first"].get_json()  # type: ignore[attr-defined]
    assert _conflicts() == 1
    # Once the first has finished, a retry gets its response.
    again = ApiClient(app.test_client(), token).post(
        "/api/v1/conflicts", json=NEW, headers={"Idempotency-Key": "concurrent-1"}
    )
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == responses["first"].get_json()  # type: ignore[attr-defined]
    assert _conflicts() == 1


def test_a_claim_left_by_an_interrupted_request_never_blocks_its_retry(app, api) -> None:
    """A worker killed mid-request leaves an uncommitted claim: its transaction ends with
    the connection, taking the claim and the half-done work with it; the retry, which waited
    on the key meanwhile, then does the work once."""
    user = make_partner_user()
    client = api(user)
    user_id = user.id
    raw = json.dumps(NEW).encode()
    held, release = threading.Event(), threading.Event()

    def interrupted_request() -> None:
        with app.app_context():
            claimed = idempotency.claim(
                db.session.get(type(user), user_id),
                "interrupted",
                method="POST",
                path="/api/v1/conflicts",
                request_hash=idempotency.fingerprint("POST", "/api/v1/conflicts", raw),
                now=utcnow(),
            )
            assert isinstance(claimed, idempotency.Claim)
            held.set()
            release.wait(10)
            db.session.rollback()  # what the database does when the worker's connection dies
            db.session.remove()

    holder = threading.Thread(target=interrupted_request)
    holder.start()
    assert held.wait(10)
    threading.Timer(0.3, release.set).start()
    headers = {"Content-Type": "application/json", "Idempotency-Key": "interrupted"}
    retried = client.post("/api/v1/conflicts", data=raw, headers=headers)
    holder.join(10)
    assert retried.status_code == 201 and "Idempotent-Replayed" not in retried.headers
    assert _conflicts() == 1
    again = client.post("/api/v1/conflicts", data=raw, headers=headers)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["id"] == retried.get_json()["id"]
    assert _conflicts() == 1
    other = json.dumps({**NEW, "severity": "low"}).encode()
    problem = assert_problem(client.post("/api/v1/conflicts", data=other, headers=headers), 422)
    assert "Idempotency-Key" in problem["errors"]


def test_a_claim_is_never_committed_without_its_response(api, monkeypatch) -> None:
    client = api(make_partner_user())
    seen_by_others: list[int] = []
    original = idempotency.complete

    def spy(claimed, *, status, body):  # type: ignore[no-untyped-def]
        with db.engine.connect() as other:  # another process's view while the work runs
            seen_by_others.extend(
                other.execute(select(IdempotencyRecord.response_status)).scalars()
            )
            seen_by_others.append(other.execute(select(func.count(Conflict.id))).scalar_one())
        return original(claimed, status=status, body=body)

    monkeypatch.setattr(idempotency, "complete", spy)
    response = client.post("/api/v1/conflicts", json=NEW, headers={"Idempotency-Key": "k"})
    assert response.status_code == 201
    assert seen_by_others == [0]  # no claim row and no conflict visible before the commit
    assert [r.response_status for r in _records()] == [201]
    assert _conflicts() == 1


def test_the_claim_is_given_back_when_the_view_fails(api, monkeypatch) -> None:
    client = api(make_partner_user())

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("database on fire")

    monkeypatch.setattr(conflicts, "submit", broken)
    headers = {"Idempotency-Key": "fails-once"}
    assert_problem(client.post("/api/v1/conflicts", json=NEW, headers=headers), 500)
    assert _records() == []
    monkeypatch.undo()
    assert client.post("/api/v1/conflicts", json=NEW, headers=headers).status_code == 201
    assert [r.response_status for r in _records()] == [201]


def test_a_service_error_gives_the_claim_back(api) -> None:
    client = api(make_partner_user())
    body = {**NEW, "partner_id": 12345}  # partners may not name a partner: not 2xx
    response = client.post("/api/v1/conflicts", json=body, headers={"Idempotency-Key": "k1"})
    assert 400 <= response.status_code < 500
    assert _records() == []


# --- 2 and 8. secrets ----------------------------------------------------------------------


def test_a_webhook_secret_is_never_stored_or_replayed(api, webhook_receiver) -> None:
    client = api(make_partner_user())
    headers = {"Idempotency-Key": "hook-1"}
    created = client.post("/api/v1/webhooks", json={"url": webhook_receiver.url}, headers=headers)
    assert created.status_code == 201
    secret = created.get_json()["secret"]
    assert secret and created.headers["Cache-Control"] == "no-store"
    [record] = _records()
    assert "secret" not in record.response_body and secret not in str(record.response_body)
    assert record.response_body["id"] == created.get_json()["id"]

    again = client.post("/api/v1/webhooks", json={"url": webhook_receiver.url}, headers=headers)
    problem = assert_problem(again, 409)
    assert secret not in again.get_data(as_text=True)
    assert f"id {created.get_json()['id']}" in problem["detail"]
    assert "shown only once" in problem["detail"]
    assert again.headers["Idempotent-Replayed"] == "true"


def test_the_webhook_replay_rule_is_documented(client) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/webhooks"]["post"]
    assert "no-store" in operation["description"] and "409" in operation["description"]
    assert "409" in operation["responses"]


def test_responses_without_secrets_are_not_stored_either(api) -> None:
    # ASVS 8.2.1: every API answer is private to its caller, so none is stored by a cache.
    response = api(make_partner_user()).post("/api/v1/conflicts", json=NEW)
    assert response.status_code == 201 and response.headers["Cache-Control"] == "no-store"


# --- 3. purge ------------------------------------------------------------------------------


def _record(user, key: str, created_at) -> None:  # type: ignore[no-untyped-def]
    db.session.add(
        IdempotencyRecord(
            user_id=user.id, key=key, method="POST", path="/api/v1/conflicts",
            request_hash="0" * 64, response_status=201, response_body={"id": 1},
            created_at=created_at,
        )
    )  # fmt: skip
    db.session.commit()


def test_records_older_than_a_day_are_purged(app) -> None:
    user, now = make_partner_user(), utcnow()
    _record(user, "old", now - timedelta(hours=25))
    _record(user, "fresh", now - timedelta(hours=23))
    assert idempotency.purge_expired(now) == 1
    assert [r.key for r in _records()] == ["fresh"]


def test_the_claim_path_purges_at_most_once_an_hour(api, monkeypatch) -> None:
    monkeypatch.setattr(idempotency, "_last_purge", None)
    user, now = make_partner_user(), utcnow()
    client = api(user)
    _record(user, "old-1", now - timedelta(days=2))
    client.post("/api/v1/conflicts", json=NEW, headers={"Idempotency-Key": "a"})
    assert sorted(r.key for r in _records()) == ["a"]
    _record(user, "old-2", now - timedelta(days=2))
    client.post("/api/v1/conflicts", json=NEW, headers={"Idempotency-Key": "b"})
    assert sorted(r.key for r in _records()) == ["a", "b", "old-2"]  # not again within the hour
    monkeypatch.setattr(idempotency, "_last_purge", now - timedelta(hours=2))
    client.post("/api/v1/conflicts", json=NEW, headers={"Idempotency-Key": "c"})
    assert sorted(r.key for r in _records()) == ["a", "b", "c"]


# --- 4. rate limits ------------------------------------------------------------------------


def test_invented_tokens_share_the_address_bucket(app, client) -> None:
    app.config["API_RATE_LIMIT"] = "3/minute"
    statuses = [
        ApiClient(client, f"tt_{uuid.uuid4().hex}").get("/api/v1/partners").status_code
        for _ in range(10)
    ]
    assert statuses[:3] == [401, 401, 401]
    assert 429 in statuses
    # A real token still has its own bucket.
    assert ApiClient(client, token_for(make_manager())).get("/api/v1/partners").status_code == 200


# --- 5. response validation ----------------------------------------------------------------


def test_a_response_we_cannot_build_is_a_logged_500_not_a_422(app, api, monkeypatch) -> None:
    from tracker.api import present

    logged: list[str] = []
    monkeypatch.setattr(app.logger, "exception", lambda message, *a, **k: logged.append(message))
    make_partner_user()
    monkeypatch.setattr(present, "partner", lambda row: {"id": "not a number", "name": None})
    response = api(make_manager()).get("/api/v1/partners")
    body = assert_problem(response, 500)
    assert "errors" not in body
    assert logged == ["unhandled error in the API"]


# --- 6. strict query strings ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=new&status=closed", "status"),
        ("limit=5&limit=6", "limit"),
        ("limit=5.0", "limit"),
        ("limit=1_0", "limit"),
        ("limit=%205", "limit"),
        ("limit=5%20", "limit"),
        ("limit=%2B5", "limit"),
        ("limit=-5", "limit"),
        ("limit=%EF%BC%95", "limit"),  # a full-width digit five
        ("partner_id=1e3", "partner_id"),
    ],
)
def test_query_strings_are_strict(api, query, field) -> None:
    body = assert_problem(api(make_manager()).get(f"/api/v1/conflicts?{query}"), 422)
    assert field in body["errors"]


def test_repeated_parameters_say_so(api) -> None:
    body = assert_problem(
        api(make_manager()).get("/api/v1/conflicts?status=new&status=closed"), 422
    )
    assert body["errors"]["status"] == "given more than once"


def test_plain_digits_still_work(api) -> None:
    assert api(make_manager()).get("/api/v1/conflicts?limit=05").status_code == 200


def _b64(text: str) -> str:
    import base64

    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "payload",
    ["after:5", "after:05", "after:0", "after: 5", "after:+5", "after:5\n", "after:1_0",
     "after:99999999999", "after:5.0"],
)  # fmt: skip
def test_cursors_are_strict_and_signed(app, api, payload) -> None:
    client = api(make_manager())
    forged = [_b64(payload)]  # the old unsigned form
    if payload != "after:5":
        signature = paging.encode(5).partition(".")[2]
        forged.append(f"{_b64(payload)}.{signature}")
    for cursor in forged:
        body = assert_problem(client.get(f"/api/v1/conflicts?cursor={cursor}"), 422)
        assert "cursor" in body["errors"]


def test_a_genuine_cursor_works(app, api) -> None:
    user = make_partner_user()
    ids = sorted((make_conflict(user).id for _ in range(3)), reverse=True)
    items = api(user).get(f"/api/v1/conflicts?cursor={paging.encode(ids[0])}").get_json()["items"]
    assert [i["id"] for i in items] == ids[1:]


# --- 7. next links -------------------------------------------------------------------------


def test_the_next_link_uses_base_url_not_the_host_header(app, api) -> None:
    app.config["BASE_URL"] = "https://trustomer.example/"
    user = make_partner_user()
    for _ in range(3):
        make_conflict(user)
    response = api(user).get(
        "/api/v1/conflicts?limit=2", headers={"Host": "evil.example", "X-Forwarded-Host": "evil"}
    )
    link = response.get_json()["next"]
    assert link.startswith("https://trustomer.example/api/v1/conflicts?")
    assert "evil" not in link and "limit=2" in link and "cursor=" in link


def test_a_webhooks_dns_lookup_runs_before_its_key_is_claimed(api, monkeypatch) -> None:
    """The claim opens the key's transaction (on SQLite: the write lock); a partner's slow
    name server must not hold every other writer up meanwhile."""
    from tracker.services import partner_webhooks

    order: list[str] = []
    resolve, claim = partner_webhooks.resolve, idempotency.claim

    def traced_resolve(*args, **kwargs):  # type: ignore[no-untyped-def]
        order.append("dns")
        return resolve(*args, **kwargs)

    def traced_claim(*args, **kwargs):  # type: ignore[no-untyped-def]
        order.append("claim")
        return claim(*args, **kwargs)

    monkeypatch.setattr(partner_webhooks, "resolve", traced_resolve)
    monkeypatch.setattr(idempotency, "claim", traced_claim)
    client = api(make_partner_user())
    created = client.post(
        "/api/v1/webhooks",
        json={"url": "https://erp.example.com/hooks/trustomer"},
        headers={"Idempotency-Key": "hook-dns"},
    )
    assert created.status_code == 201, created.get_data(as_text=True)
    assert order == ["dns", "claim"]
