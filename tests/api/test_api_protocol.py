"""HTTP-level behaviour: problem+json errors, idempotency keys, the OpenAPI document."""

from __future__ import annotations

from sqlalchemy import func, select

from tests.api.conftest import assert_problem
from tests.factories import make_manager, make_partner_user
from tracker.domain import workflow
from tracker.extensions import db
from tracker.models import Conflict

NEW = {
    "title": "Customer handed over without contract",
    "description": "The customer file arrived without the signed contract.",
    "category": "customer_handover",
    "severity": "high",
}


def _count() -> int:
    return db.session.scalar(select(func.count(Conflict.id)))


# --- problems ------------------------------------------------------------------------------


def test_malformed_json_is_400(api) -> None:
    client = api(make_partner_user())
    response = client.post(
        "/api/v1/conflicts", data="{not json", headers={"Content-Type": "application/json"}
    )
    assert "not valid JSON" in assert_problem(response, 400)["detail"]


def test_a_body_that_is_not_json_is_415(api) -> None:
    response = api(make_partner_user()).post("/api/v1/conflicts", data={"title": "form post"})
    assert_problem(response, 415)


def test_a_body_over_the_limit_is_413(app, api) -> None:
    app.config["API_MAX_CONTENT_LENGTH"] = 1000
    body = {**NEW, "description": "x" * 2000}
    assert_problem(api(make_partner_user()).post("/api/v1/conflicts", json=body), 413)


def test_a_json_array_is_422_not_500(api) -> None:
    response = api(make_partner_user()).post("/api/v1/conflicts", json=[1, 2])
    assert_problem(response, 422)


def test_unknown_paths_and_methods_under_the_api_are_problems(api) -> None:
    client = api(make_manager())
    assert_problem(client.get("/api/v1/nothing-here"), 404)
    assert_problem(client.get("/api/v1/conflicts/999999"), 404)
    assert_problem(client.get("/api/v1/conflicts/99999999999999"), 404)
    not_allowed = client.client.delete("/api/v1/conflicts")
    assert_problem(not_allowed, 405)
    assert "GET" in not_allowed.headers["Allow"]


def test_pages_outside_the_api_keep_their_html_errors(client) -> None:
    response = client.get("/no-such-page")
    assert response.status_code == 404 and response.mimetype == "text/html"


def test_the_api_needs_no_csrf_token(api) -> None:
    # Tokens, not cookies, authenticate: a JSON POST without a CSRF token works.
    assert api(make_partner_user()).post("/api/v1/conflicts", json=NEW).status_code == 201


# --- idempotency -----------------------------------------------------------------------------


def test_a_retry_with_the_same_key_returns_the_first_result(api) -> None:
    client = api(make_partner_user())
    headers = {"Idempotency-Key": "raise-42"}
    first = client.post("/api/v1/conflicts", json=NEW, headers=headers)
    again = client.post("/api/v1/conflicts", json=NEW, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert _count() == 1


def test_the_same_key_with_another_body_is_422(api) -> None:
    client = api(make_partner_user())
    headers = {"Idempotency-Key": "raise-43"}
    client.post("/api/v1/conflicts", json=NEW, headers=headers)
    other = client.post("/api/v1/conflicts", json={**NEW, "severity": "low"}, headers=headers)
    assert "Idempotency-Key" in assert_problem(other, 422)["errors"]
    assert _count() == 1


def test_keys_belong_to_one_user_and_failures_are_not_remembered(api) -> None:
    headers = {"Idempotency-Key": "shared-key"}
    one, two = api(make_partner_user()), api(make_partner_user())
    assert (
        one.post("/api/v1/conflicts", json={**NEW, "title": "x"}, headers=headers).status_code
        == 422
    )
    assert one.post("/api/v1/conflicts", json=NEW, headers=headers).status_code == 201
    assert two.post("/api/v1/conflicts", json=NEW, headers=headers).status_code == 201
    assert _count() == 2


def test_an_overlong_key_is_422(api) -> None:
    response = api(make_partner_user()).post(
        "/api/v1/conflicts", json=NEW, headers={"Idempotency-Key": "k" * 201}
    )
    assert_problem(response, 422)


# --- the contract ----------------------------------------------------------------------------


def test_the_openapi_document_is_3_1_and_lists_every_route(client) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.1") and spec["info"]["title"]
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    expected = {
        ("/api/v1/conflicts", "get"),
        ("/api/v1/conflicts", "post"),
        ("/api/v1/conflicts/{conflict_id}", "get"),
        ("/api/v1/conflicts/{conflict_id}/actions", "post"),
        ("/api/v1/conflicts/{conflict_id}/comments", "get"),
        ("/api/v1/conflicts/{conflict_id}/comments", "post"),
        ("/api/v1/conflicts/{conflict_id}/events", "get"),
        ("/api/v1/partners", "get"),
        ("/api/v1/partners/{partner_id}/agreement", "get"),
        ("/api/v1/escalations", "get"),
        ("/api/v1/escalations/{escalation_id}/acknowledge", "post"),
        ("/api/v1/notifications", "get"),
        ("/api/v1/webhooks", "get"),
        ("/api/v1/webhooks", "post"),
    }
    listed = {(p, m) for p, methods in spec["paths"].items() for m in methods}
    assert expected <= listed
    refs = []

    def walk(node):  # type: ignore[no-untyped-def]
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "$ref":
                    refs.append(value)
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(spec)
    schemas = spec["components"]["schemas"]
    for ref in refs:
        assert ref.startswith("#/components/schemas/") and ref.rsplit("/", 1)[1] in schemas
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            assert operation["operationId"] and operation["responses"], (path, method)
            for status, response in operation["responses"].items():
                assert status.isdigit() and response["description"]


def test_the_document_lists_the_enums(client) -> None:
    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    assert schemas["Category"]["enum"] == list(workflow.CATEGORIES)
    assert schemas["RootCause"]["enum"] == list(workflow.ROOT_CAUSES)
    assert schemas["Severity"]["enum"] == list(workflow.SEVERITIES)
    assert "withdraw" in schemas["Action"]["enum"]


def test_the_api_page_is_readable_without_script(client) -> None:
    page = client.get("/api/v1/docs")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert "POST /api/v1/conflicts/{conflict_id}/actions" in text
    assert "payment_terms" in text and "process_gap" in text
    assert "<script>" not in text
