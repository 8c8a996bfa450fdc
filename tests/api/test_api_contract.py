"""Schemathesis against the live app: no 5xx, and every response matches the OpenAPI document."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.conftest import token_for
from tests.factories import make_conflict, make_manager, make_partner, make_partner_user, triage

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


class OwnContext:
    """Each request in its own app context and database session, as in production."""

    def __init__(self, app) -> None:  # type: ignore[no-untyped-def]
        self.app = app

    def __call__(self, environ, start_response):  # type: ignore[no-untyped-def]
        with self.app.app_context():
            return list(self.app(environ, start_response))


@pytest.fixture
def manager_token(app) -> str:  # type: ignore[no-untyped-def]
    manager = make_manager()
    partner = make_partner(owner_id=manager.id)
    user = make_partner_user(partner=partner)
    triage(make_conflict(user), manager)
    make_conflict(user, severity="critical")
    return token_for(manager, "write")


def _operations() -> list[tuple[str, str]]:
    from tracker.api import openapi

    return sorted({(op.path, op.method) for op in openapi.OPERATIONS})


@pytest.mark.parametrize(("path", "method"), _operations())
def test_the_api_keeps_its_contract(app, manager_token, path, method) -> None:  # type: ignore[no-untyped-def]
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", OwnContext(app))
    operation = schema[path][method]
    headers = {"Authorization": f"Bearer {manager_token}"}

    @given(case=operation.as_strategy(schemathesis.GenerationMode.POSITIVE))
    @settings(
        max_examples=25,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case) -> None:  # type: ignore[no-untyped-def]
        case.call_and_validate(headers=headers, checks=CHECKS)

    run()
