"""`endpoint()`: declare a route once; it authenticates, validates, serialises and documents."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Response, current_app, request
from pydantic import BaseModel

from tracker.api import bp
from tracker.api.auth import authenticate, staff_only
from tracker.api.errors import ApiError
from tracker.api.openapi import Operation, register
from tracker.api.schemas import MAX_ID
from tracker.clock import utcnow
from tracker.services import idempotency

JSON = "application/json"


def json_response(body: Any, status: int, headers: dict[str, str] | None = None) -> Response:
    return current_app.response_class(
        json.dumps(body, ensure_ascii=False), status=status, mimetype=JSON, headers=headers
    )


def _json_body() -> bytes:
    mimetype = request.mimetype or ""
    if mimetype != JSON and not mimetype.endswith("+json"):
        raise ApiError(415, "Send the body as JSON with Content-Type: application/json.")
    raw = request.get_data(cache=True)  # 413 past the API's size limit
    try:
        json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise ApiError(400, f"The body is not valid JSON: {exc}.") from None
    return raw


def endpoint(
    rule: str,
    method: str = "GET",
    *,
    summary: str,
    tag: str,
    responses: dict[int, type[BaseModel] | None],
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    scope: str | None = None,
    staff: bool = False,
    description: str = "",
) -> Callable:
    """Register `view` at `rule` on the API blueprint and in the OpenAPI document.

    The view gets `user` (the token's), `body` and `query` (validated models) and the path
    values; it returns a response model, or (model, status). POSTs need the write scope and
    honour an Idempotency-Key header.
    """
    scope = scope or ("write" if method == "POST" else "read")
    success = min(responses)

    def decorator(view: Callable) -> Callable:
        register(
            Operation(
                name=view.__name__,
                method=method,
                rule=rule,
                summary=summary,
                tag=tag,
                responses=responses,
                scope=scope,
                body=body,
                query=query,
                staff_only=staff,
                description=description or (view.__doc__ or "").strip(),
            )
        )

        @wraps(view)
        def handler(**path: Any) -> Response:
            if any(isinstance(v, int) and v > MAX_ID for v in path.values()):
                raise ApiError(404, "There is nothing with this id.")
            user = authenticate(scope).user
            if staff:
                staff_only(user)
            raw = _json_body() if body is not None else b""
            key = request.headers.get("Idempotency-Key") if method == "POST" else None
            fingerprint = ""
            if key is not None:
                key = idempotency.check_key(key)
                fingerprint = idempotency.fingerprint(method, request.path, raw)
                replay = idempotency.previous(user, key, fingerprint)
                if replay is not None:
                    return json_response(
                        replay.body, replay.status, {"Idempotent-Replayed": "true"}
                    )
            kwargs: dict[str, Any] = dict(path, user=user)
            if query is not None:
                kwargs["query"] = query.model_validate(request.args.to_dict())
            if body is not None:
                kwargs["body"] = body.model_validate_json(raw, strict=True)
            result = view(**kwargs)
            status = success
            if isinstance(result, tuple):
                result, status = result
            payload = result.model_dump(mode="json", by_alias=True)
            if key is not None and 200 <= status < 300:
                idempotency.remember(
                    user,
                    key,
                    method=method,
                    path=request.path,
                    request_hash=fingerprint,
                    status=status,
                    body=payload,
                    now=utcnow(),
                )
            return json_response(payload, status)

        bp.add_url_rule(rule, endpoint=view.__name__, view_func=handler, methods=[method])
        return handler

    return decorator
