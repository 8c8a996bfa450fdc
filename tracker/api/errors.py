"""RFC 9457 problem details for every error under /api/ (the pages keep their HTML errors)."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, current_app, json, request
from flask_babel import gettext
from flask_limiter.errors import RateLimitExceeded
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from tracker.clock import utcnow
from tracker.database import is_unavailable
from tracker.domain.text import N_
from tracker.extensions import limiter
from tracker.services import transactions
from tracker.services.errors import ServiceError

PROBLEM_JSON = "application/problem+json"
RETRY_AFTER_UNAVAILABLE = 30  # seconds; a restarting database is usually back within that
DOCS_PATH = "/api/v1/docs"


class ApiError(Exception):
    """An error a route raises with its status, message and extra headers."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        headers: dict[str, str] | None = None,
        errors: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = headers or {}
        self.errors = errors or {}


# HTTP's reason phrases (as werkzeug spells them), marked for the catalog: `title` is read
# in the client's Accept-Language.
_TITLES: dict[int, str] = {
    400: N_("Bad Request"),
    401: N_("Unauthorized"),
    403: N_("Forbidden"),
    404: N_("Not Found"),
    405: N_("Method Not Allowed"),
    409: N_("Conflict"),
    410: N_("Gone"),
    412: N_("Precondition Failed"),
    413: N_("Request Entity Too Large"),
    415: N_("Unsupported Media Type"),
    422: N_("Unprocessable Entity"),
    428: N_("Precondition Required"),
    429: N_("Too Many Requests"),
    500: N_("Internal Server Error"),
    503: N_("Service Unavailable"),
}


def problem(
    status: int,
    detail: str | None = None,
    *,
    errors: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """A problem+json response; `type` points at the status's entry on the API page."""
    body: dict[str, Any] = {
        "type": f"{DOCS_PATH}#problem-{status}",
        "title": gettext(HTTP_STATUS_CODES.get(status, "Error")),
        "status": status,
        "detail": gettext(detail) if detail else detail,
    }
    if errors:
        body["errors"] = {name: gettext(message) for name, message in errors.items()}
    response = current_app.response_class(
        json.dumps(body), status=status, mimetype=PROBLEM_JSON, headers=headers
    )
    return response


def validation_errors(error: ValidationError) -> dict[str, str]:
    """Pydantic's errors per field ("items.0.name"; "body" when the whole body is wrong)."""
    errors: dict[str, str] = {}
    for item in error.errors(include_url=False, include_input=False):
        name = ".".join(str(part) for part in item["loc"]) or "body"
        errors.setdefault(name, item["msg"])
    return errors


def _retry_after() -> str:
    current = limiter.current_limit
    if current is None:
        return "60"
    return str(max(1, int(current.reset_at - utcnow().timestamp()) + 1))


def register_handlers(bp: Any) -> None:
    """Error handlers for errors raised inside API views."""

    @bp.errorhandler(ServiceError)
    def service_error(error: ServiceError) -> Response:
        transactions.discard()
        return problem(error.status, error.message, errors=error.field_errors or None)

    # No handler for pydantic's ValidationError: endpoint() turns a request's into a 422
    # where it validates the request; one raised anywhere else (building a response) is our
    # bug, logged and answered with a 500 by `unexpected` below.

    @bp.errorhandler(ApiError)
    def api_error(error: ApiError) -> Response:
        return problem(
            error.status, error.detail, errors=error.errors or None, headers=error.headers
        )

    @bp.errorhandler(RateLimitExceeded)
    def rate_limited(error: RateLimitExceeded) -> Response:
        return problem(
            429,
            gettext(
                "Too many requests with this token (%(limit)s); slow down.",
                limit=error.description,
            ),
            headers={"Retry-After": _retry_after()},
        )

    @bp.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        headers = {k: v for k, v in error.get_headers() if k.lower() not in ("content-type",)}
        return problem(error.code or 500, error.description, headers=headers)

    @bp.errorhandler(Exception)
    def unexpected(error: Exception) -> Response:
        if is_unavailable(error):
            return database_unavailable(error)
        current_app.logger.exception("unhandled error in the API")
        transactions.discard()
        return problem(500, N_("We could not complete the request. It has been logged."))


def database_unavailable(error: BaseException) -> Response:
    """503 problem+json with Retry-After: the database is down, the request may be fine."""
    current_app.logger.error("database unavailable: %s", type(error).__name__)
    transactions.discard_after_outage()
    return problem(
        503,
        N_("The service cannot reach its database right now; try again shortly."),
        headers={"Retry-After": str(RETRY_AFTER_UNAVAILABLE)},
    )


def register_fallback(app: Flask) -> None:
    """Errors no API view saw (unknown path, wrong method) become problems too under /api/."""

    @app.after_request
    def api_problem_for_routing_errors(response: Response) -> Response:
        if (
            request.path.startswith("/api/")
            and response.status_code >= 400
            and response.mimetype != PROBLEM_JSON
        ):
            replacement = problem(response.status_code, _routing_detail(response.status_code))
            for name in ("Allow", "Retry-After", "WWW-Authenticate"):
                if name in response.headers:
                    replacement.headers[name] = response.headers[name]
            return replacement
        return response


def _routing_detail(status: int) -> str:
    return {
        404: N_("There is nothing at this address, or it is not yours to see."),
        405: N_("This method is not allowed here; see the Allow header."),
    }.get(status, HTTP_STATUS_CODES.get(status, "Error"))
