"""The OpenAPI document and a readable page made from it (server-rendered, no script)."""

from __future__ import annotations

from typing import Any

from flask import Response, render_template

from tracker.api import openapi
from tracker.api.blueprint import bp
from tracker.api.endpoint import json_response
from tracker.api.openapi import STATUS_DESCRIPTIONS


@bp.route("/openapi.json")
def openapi_json() -> Response:
    """The contract: public, so tools can read it before anyone has a token."""
    return json_response(openapi.document(), 200)


@bp.route("/docs")
def docs() -> str:
    spec = openapi.document()
    return render_template(
        "api/docs.html",
        spec=spec,
        operations=_operations(spec),
        schemas=spec["components"]["schemas"],
        type_of=type_of,
        problems=STATUS_DESCRIPTIONS,
    )


def _operations(spec: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            rows.append({"path": path, "method": method.upper(), **operation})
    return rows


def type_of(schema: dict[str, Any] | bool | None) -> str:
    """A schema in a few words: "Conflict", "array of Event", "integer (1–2147483647)"."""
    if not isinstance(schema, dict) or not schema:
        return "any"
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if "anyOf" in schema:
        return " or ".join(type_of(option) for option in schema["anyOf"])
    kind = schema.get("type", "any")
    if kind == "array":
        return f"array of {type_of(schema.get('items'))}"
    if kind == "object" and "additionalProperties" in schema:
        return f"object of {type_of(schema['additionalProperties'])}"
    if "enum" in schema:
        return "one of " + ", ".join(str(v) for v in schema["enum"])
    details = [schema[k] for k in ("format",) if k in schema]
    if "minimum" in schema or "maximum" in schema:
        details.append(f"{schema.get('minimum', '')}–{schema.get('maximum', '')}")
    if "maxLength" in schema:
        details.append(f"{schema.get('minLength', 0)}–{schema['maxLength']} characters")
    return f"{kind} ({', '.join(str(d) for d in details)})" if details else str(kind)
