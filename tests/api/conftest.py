"""API test helpers: a client that sends a bearer token and JSON."""

from __future__ import annotations

from typing import Any

import pytest

from tracker.clock import utcnow
from tracker.models import User
from tracker.services import api_tokens


def token_for(user: User, scope: str = "write", **overrides: Any) -> str:
    values: dict[str, Any] = {"name": "test", "scope": scope, "now": utcnow()}
    values.update(overrides)
    return api_tokens.create(user, **values)[1]


class ApiClient:
    """The Flask test client with `Authorization: Bearer <token>` on every request."""

    def __init__(self, client, token: str | None) -> None:  # type: ignore[no-untyped-def]
        self.client = client
        self.token = token

    def _headers(self, extra: dict[str, str] | None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        headers.update(extra or {})
        return headers

    def get(self, path: str, headers: dict[str, str] | None = None, **kwargs: Any):  # type: ignore[no-untyped-def]
        return self.client.get(path, headers=self._headers(headers), **kwargs)

    def post(
        self, path: str, json: Any = None, headers: dict[str, str] | None = None, **kwargs: Any
    ):  # type: ignore[no-untyped-def]
        if json is not None:
            kwargs["json"] = json
        return self.client.post(path, headers=self._headers(headers), **kwargs)


@pytest.fixture
def api(client):  # type: ignore[no-untyped-def]
    """api(user, scope="write") -> an ApiClient holding a fresh token of that user."""

    def make(user: User | None, scope: str = "write") -> ApiClient:
        return ApiClient(client, token_for(user, scope) if user is not None else None)

    return make


def assert_problem(response, status: int) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json(force=True)
    assert body["status"] == status and body["title"] and body["type"]
    return body
