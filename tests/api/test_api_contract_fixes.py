"""The API does what its OpenAPI document says: ids, date-times and booleans in queries, and a
503 (not a 500) while the database cannot be reached."""

from __future__ import annotations

import pytest

from tests.api.conftest import assert_problem, token_for
from tests.conftest import make_config
from tests.factories import make_manager, make_partner
from tests.servers import free_port
from tracker import create_app
from tracker.api.schemas import MAX_ID

ID_ROUTES = [
    ("GET", "/api/v1/conflicts/{}"),
    ("POST", "/api/v1/conflicts/{}/actions"),
    ("GET", "/api/v1/conflicts/{}/comments"),
    ("POST", "/api/v1/conflicts/{}/comments"),
    ("GET", "/api/v1/conflicts/{}/events"),
    ("POST", "/api/v1/escalations/{}/acknowledge"),
    ("GET", "/api/v1/partners/{}/agreement"),
    ("GET", "/api/v1/partners/{}/trust"),
    ("POST", "/api/v1/webhooks/{}/deactivate"),
]
BAD_IDS = [str(MAX_ID + 1), "9" * 40, "0", "01", "-1", "1.5", "abc", "%EF%BC%91", "1e3"]


@pytest.mark.parametrize(("method", "rule"), ID_ROUTES)
@pytest.mark.parametrize("bad_id", BAD_IDS)
def test_a_too_large_or_malformed_id_is_a_404_on_every_route(
    api, method: str, rule: str, bad_id: str
) -> None:
    client = api(make_manager())
    response = client.client.open(
        rule.format(bad_id),
        method=method,
        json={},
        headers={"Authorization": f"Bearer {client.token}"},
    )
    assert_problem(response, 404)


@pytest.mark.parametrize(
    "value",
    ["0.5", "1700000000", "2026-11-16", "2026-11-16T09:00:00", "2026-11-16 09:00:00Z",
     "16/11/2026", "2026-11-16T09:00:00+0100", "now"],
)  # fmt: skip
def test_updated_since_must_be_an_rfc3339_date_time(api, value: str) -> None:
    response = api(make_manager(), "read").get(
        "/api/v1/conflicts", query_string={"updated_since": value}
    )
    assert "updated_since" in assert_problem(response, 422)["errors"]


@pytest.mark.parametrize(
    "value", ["2026-11-16T09:00:00Z", "2026-11-16t09:00:00.5z", "2026-11-16T10:00:00+01:00"]
)
def test_rfc3339_date_times_are_accepted(api, value: str) -> None:
    client = api(make_manager(), "read")
    assert client.get("/api/v1/conflicts", query_string={"updated_since": value}).status_code == 200
    partner = make_partner()
    response = client.get(f"/api/v1/partners/{partner.id}/trust", query_string={"since": value})
    assert response.status_code == 200, response.get_data(as_text=True)


def test_the_trust_ledgers_since_is_not_a_unix_time(api) -> None:
    partner = make_partner()
    response = api(make_manager(), "read").get(
        f"/api/v1/partners/{partner.id}/trust", query_string={"since": "0.5"}
    )
    assert "since" in assert_problem(response, 422)["errors"]


@pytest.mark.parametrize(
    ("path", "name"), [("/api/v1/escalations", "acknowledged"), ("/api/v1/notifications", "unread")]
)
def test_query_booleans_are_true_or_false(api, path: str, name: str) -> None:
    client = api(make_manager(), "read")
    for value in ("yes", "1", "on", "TRUE", ""):
        assert name in assert_problem(client.get(path, query_string={name: value}), 422)["errors"]
    for value in ("true", "false"):
        assert client.get(path, query_string={name: value}).status_code == 200


# --- database unreachable ------------------------------------------------------------------


def unreachable_urls(tmp_path) -> list[str]:  # type: ignore[no-untyped-def]
    return [
        f"sqlite:///{tmp_path / 'no-such-directory' / 'trustomer.db'}",
        f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/trustomer?connect_timeout=2",
    ]


@pytest.mark.parametrize("which", [0, 1], ids=["sqlite", "postgresql"])
def test_the_api_answers_503_with_retry_after_while_the_database_is_down(
    app, tmp_path, which: int
) -> None:
    token = token_for(make_manager(), "read")  # valid in the real database
    down = create_app(make_config(unreachable_urls(tmp_path)[which], tmp_path))

    response = down.test_client().get(
        "/api/v1/conflicts", headers={"Authorization": f"Bearer {token}"}
    )

    body = assert_problem(response, 503)
    assert "database" in body["detail"]
    assert int(response.headers["Retry-After"]) > 0


@pytest.mark.parametrize("which", [0, 1], ids=["sqlite", "postgresql"])
def test_a_page_answers_503_while_the_database_is_down(browser, tmp_path, which: int) -> None:
    manager = make_manager()
    browser.login(manager.email)  # signed in: loading the visitor needs the database
    cookie = browser.client.get_cookie("trustomer_session")
    down = create_app(make_config(unreachable_urls(tmp_path)[which], tmp_path))
    client = down.test_client()
    client.set_cookie("trustomer_session", cookie.value)

    response = client.get("/console/queue")

    assert response.status_code == 503
    assert response.mimetype == "text/html"
    assert "Try again shortly" in response.get_data(as_text=True)
    assert int(response.headers["Retry-After"]) > 0
