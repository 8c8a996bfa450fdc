"""The OpenAPI 3.1 document, assembled from the routes' own declarations and pydantic schemas.

Each route is declared once with `api.endpoint.endpoint(...)`: the declaration both validates
requests (and shapes responses) and lands here, so the contract cannot drift from the code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from tracker.api import schemas

REF_TEMPLATE = "#/components/schemas/{model}"
PREFIX = "/api/v1"
_PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")
STATUS_DESCRIPTIONS = {
    200: "OK",
    201: "Created",
    400: "Malformed JSON",
    401: "No usable token",
    403: "Not allowed for this user or token",
    404: "Not found, or not yours to see",
    405: "Method not allowed here (see Allow)",
    409: "Not possible in the current state",
    413: "Body too large",
    415: "The body must be application/json",
    422: "Invalid input (see `errors`)",
    429: "Too many requests with this token (see Retry-After)",
    500: "Our fault; it has been logged",
}


@dataclass
class Operation:
    """One route as the document describes it."""

    name: str
    method: str
    rule: str
    summary: str
    tag: str
    responses: dict[int, type[BaseModel] | None]
    scope: str | None
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    staff_only: bool = False
    description: str = ""
    errors: set[int] = field(default_factory=set)

    @property
    def path(self) -> str:
        return PREFIX + _PARAM.sub(r"{\2}", self.rule)

    @property
    def path_params(self) -> list[str]:
        return [m.group(2) for m in _PARAM.finditer(self.rule)]

    def error_statuses(self) -> list[int]:
        statuses = set(self.errors) | {401, 403, 429}
        if self.path_params:
            statuses.add(404)
        if self.query or self.body:
            statuses.add(422)
        if self.method == "POST":
            statuses |= {400, 404, 409, 413, 415, 422}
        return sorted(statuses)


OPERATIONS: list[Operation] = []


def register(operation: Operation) -> None:
    OPERATIONS[:] = [
        o for o in OPERATIONS if (o.method, o.rule) != (operation.method, operation.rule)
    ]
    OPERATIONS.append(operation)


def _component_schemas() -> tuple[dict[tuple[type[BaseModel], str], dict[str, Any]], dict]:
    wanted: dict[tuple[type[BaseModel], str], None] = {(schemas.Problem, "serialization"): None}
    for op in OPERATIONS:
        for model in (op.body, op.query):
            if model is not None:
                wanted[(model, "validation")] = None
        for model in op.responses.values():
            if model is not None:
                wanted[(model, "serialization")] = None
    refs, top = models_json_schema(list(wanted), ref_template=REF_TEMPLATE)  # type: ignore[arg-type]
    return refs, top.get("$defs", {})  # type: ignore[return-value]


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A query parameter is absent rather than null."""
    schema = {k: v for k, v in schema.items() if not (k == "default" and v is None)}
    options = schema.get("anyOf")
    if options:
        kept = [o for o in options if o != {"type": "null"}]
        if len(kept) == 1:
            rest = {k: v for k, v in schema.items() if k != "anyOf"}
            return {**kept[0], **rest}
        schema["anyOf"] = kept
    return schema


def _query_parameters(model: type[BaseModel], components: dict[str, Any]) -> list[dict]:
    schema = components[model.__name__]
    required = set(schema.get("required", []))
    parameters = []
    for name, prop in schema.get("properties", {}).items():
        prop = _without_null(dict(prop))
        prop.pop("title", None)
        description = prop.pop("description", None)
        parameter: dict[str, Any] = {
            "name": name,
            "in": "query",
            "required": name in required,
            "schema": prop,
        }
        if description:
            parameter["description"] = description
        parameters.append(parameter)
    return parameters


def _problem_response(status: int, ref: dict[str, Any]) -> dict[str, Any]:
    return {
        "description": STATUS_DESCRIPTIONS.get(status, "Error"),
        "content": {"application/problem+json": {"schema": ref}},
    }


def _operation(op: Operation, refs: dict, components: dict[str, Any]) -> dict[str, Any]:
    parameters: list[dict[str, Any]] = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "integer", "minimum": 1, "maximum": schemas.MAX_ID},
        }
        for name in op.path_params
    ]
    if op.query is not None:
        parameters.extend(_query_parameters(op.query, components))
    if op.method == "POST":
        parameters.append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "description": "Retrying with the same key and body returns the first result.",
                "schema": {"type": "string", "minLength": 1, "maxLength": 200},
            }
        )
    responses: dict[str, Any] = {}
    for status, model in op.responses.items():
        response: dict[str, Any] = {"description": STATUS_DESCRIPTIONS.get(status, "OK")}
        if model is not None:
            schema = refs[(model, "serialization")]
            response["content"] = {"application/json": {"schema": schema}}
        responses[str(status)] = response
    problem_ref = refs[(schemas.Problem, "serialization")]
    for status in op.error_statuses():
        responses.setdefault(str(status), _problem_response(status, problem_ref))
    scope_note = f"Scope: `{op.scope}`." if op.scope else ""
    staff_note = " Alliance managers and admins only." if op.staff_only else ""
    document: dict[str, Any] = {
        "operationId": op.name,
        "summary": op.summary,
        "description": "\n\n".join(p for p in (op.description, scope_note + staff_note) if p),
        "tags": [op.tag],
        "parameters": parameters,
        "responses": responses,
    }
    if op.body is not None:
        document["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": refs[(op.body, "validation")]}},
        }
    return document


def document() -> dict[str, Any]:
    """The whole OpenAPI 3.1 document."""
    refs, components = _component_schemas()
    paths: dict[str, dict[str, Any]] = {}
    for op in sorted(OPERATIONS, key=lambda o: (o.path, o.method)):
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op, refs, components)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Trustomer API",
            "version": "1.0.0",
            "description": (
                "Raise and follow partner conflicts from your own systems. Authenticate with a "
                "personal API token (Authorization: Bearer trk_...); the same rules as the web "
                "pages apply. Errors are RFC 9457 problem+json."
            ),
        },
        "tags": [{"name": tag} for tag in dict.fromkeys(o.tag for o in OPERATIONS)],
        "security": [{"bearerAuth": []}],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A personal API token from Account > API tokens.",
                }
            },
        },
    }
