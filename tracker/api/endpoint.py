"""`endpoint()`: declare a route once; it authenticates, validates, serialises and documents."""

from __future__ import annotations

import json
import re
import types
from collections.abc import Callable
from functools import cache, wraps
from typing import Any, Union, get_args, get_origin

from flask import Response, current_app, request
from pydantic import BaseModel, ValidationError

from tracker.api.auth import authenticate, staff_only
from tracker.api.blueprint import bp
from tracker.api.errors import ApiError, validation_errors
from tracker.api.openapi import Operation, register
from tracker.api.schemas import MAX_ID
from tracker.clock import utcnow
from tracker.domain.text import N_
from tracker.services import idempotency, transactions

JSON = "application/json"
INVALID = N_("The request is not valid.")
_DIGITS = re.compile(r"[0-9]+")


def json_response(body: Any, status: int, headers: dict[str, str] | None = None) -> Response:
    return current_app.response_class(
        json.dumps(body, ensure_ascii=False), status=status, mimetype=JSON, headers=headers
    )


def _json_body() -> bytes:
    mimetype = request.mimetype or ""
    if mimetype != JSON and not mimetype.endswith("+json"):
        raise ApiError(415, N_("Send the body as JSON with Content-Type: application/json."))
    raw = request.get_data(cache=True)  # 413 past the API's size limit
    try:
        json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise ApiError(400, f"The body is not valid JSON: {exc}.") from None
    return raw


@cache
def _integer_fields(model: type[BaseModel]) -> frozenset[str]:
    """The query model's fields that are integers (`int` or `int | None`, constraints aside)."""
    names = set()
    for name, info in model.model_fields.items():
        annotation = info.annotation
        if get_origin(annotation) in (Union, types.UnionType):
            options = [a for a in get_args(annotation) if a is not type(None)]
            annotation = options[0] if len(options) == 1 else None
        if annotation is int:
            names.add(info.alias or name)
    return frozenset(names)


def _query_args(model: type[BaseModel]) -> dict[str, str]:
    """The query string as one value per name: a name given twice, or an integer written
    other than as plain ASCII digits ("5.0", "1_0", " 5"), is a 422."""
    errors: dict[str, str] = {}
    values: dict[str, str] = {}
    integers = _integer_fields(model)
    for name in request.args:
        given = request.args.getlist(name)
        if len(given) > 1:
            errors[name] = "given more than once"
        elif name in integers and not _DIGITS.fullmatch(given[0]):
            errors[name] = "Input should be a whole number written with the digits 0-9"
        else:
            values[name] = given[0]
    if errors:
        raise ApiError(422, INVALID, errors=errors)
    return values


def _validated(validate: Callable[[], BaseModel]) -> BaseModel:
    """A request model: its validation errors are the client's (422). Only here: a
    ValidationError anywhere else is a bug of ours and becomes a logged 500."""
    try:
        return validate()
    except ValidationError as exc:
        raise ApiError(422, INVALID, errors=validation_errors(exc)) from None


def _secret_replay(body: Any, headers: dict[str, str]) -> ApiError:
    """A replay of a response that carried a secret: the secret is not kept, so say so."""
    what = f" (id {body['id']})" if isinstance(body, dict) and "id" in body else ""
    return ApiError(
        409,
        f"This request already succeeded{what}; its secret is shown only once, so the "
        "response cannot be replayed. If the secret was lost, deactivate it and create "
        "another.",
        headers=headers,
    )


def _run(view: Callable, kwargs: dict[str, Any], success: int) -> tuple[int, Any]:
    """Call the view; its (status, JSON-ready body)."""
    result = view(**kwargs)
    status = success
    if isinstance(result, tuple):
        result, status = result
    return status, result.model_dump(mode="json", by_alias=True)


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
    secret_fields: tuple[str, ...] = (),
    before_claim: Callable[[Any, Any], None] | None = None,
) -> Callable:
    """Register `view` at `rule` on the API blueprint and in the OpenAPI document.

    The view gets `user` (the token's), `body` and `query` (validated models) and the path
    values; it returns a response model, or (model, status). POSTs need the write scope and
    honour an Idempotency-Key header.

    `secret_fields` name response fields shown once (a signing secret): the response is sent
    with Cache-Control: no-store, the idempotency record keeps the body without them, and a
    replay is a 409 that says so instead of a body without its secret.

    `before_claim(user, body)` runs slow checks (a DNS lookup) before the Idempotency-Key is
    claimed: the claim opens the transaction, which on SQLite holds the write lock.
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
                raise ApiError(404, N_("There is nothing with this id."))
            user = authenticate(scope).user
            if staff:
                staff_only(user)
            raw = _json_body() if body is not None else b""
            key = request.headers.get("Idempotency-Key") if method == "POST" else None
            if key is not None:
                key = idempotency.check_key(key)
            kwargs: dict[str, Any] = dict(path, user=user)
            if query is not None:
                args = _query_args(query)
                kwargs["query"] = _validated(lambda: query.model_validate(args))
            if body is not None:
                kwargs["body"] = _validated(lambda: body.model_validate_json(raw, strict=True))
            if before_claim is not None:
                before_claim(user, kwargs.get("body"))
            if key is None:
                status, payload = _run(view, kwargs, success)
            else:
                outcome = idempotency.claim(
                    user,
                    key,
                    method=method,
                    path=request.path,
                    request_hash=idempotency.fingerprint(method, request.path, raw),
                    now=utcnow(),
                )
                if isinstance(outcome, idempotency.Replay):
                    replayed = {"Idempotent-Replayed": "true"}
                    if secret_fields:
                        raise _secret_replay(outcome.body, replayed)
                    return json_response(outcome.body, outcome.status, replayed)
                with transactions.held_together():  # the key commits with the work, or neither
                    status, payload = _run(view, kwargs, success)
                    if 200 <= status < 300:
                        kept = {k: v for k, v in payload.items() if k not in secret_fields}
                        idempotency.complete(outcome, status=status, body=kept)
                    else:
                        idempotency.forget(outcome)
            headers = {"Cache-Control": "no-store"} if secret_fields else None
            return json_response(payload, status, headers)

        bp.add_url_rule(rule, endpoint=view.__name__, view_func=handler, methods=[method])
        return handler

    return decorator
