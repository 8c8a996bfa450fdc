"""Error pages in the site's layout."""

from __future__ import annotations

from flask import Flask, g, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from tracker.database import is_unavailable
from tracker.domain.text import N_
from tracker.extensions import login_manager
from tracker.services import transactions

MESSAGES = {
    400: (
        N_("Bad request"),
        N_("The request could not be understood. Please go back and try again."),
    ),
    403: (N_("Not allowed"), N_("Your account does not have access to this page.")),
    404: (N_("Not found"), N_("There is nothing here, or it is not yours to see.")),
    405: (N_("Not allowed"), N_("That action is not available here.")),
    413: (N_("Too large"), N_("The upload is larger than allowed.")),
    429: (N_("Too many requests"), N_("Please slow down and try again in a moment.")),
    500: (N_("Something went wrong"), N_("We could not complete the request. It has been logged.")),
    503: (
        N_("Temporarily unavailable"),
        N_("We cannot reach our database right now. Try again shortly."),
    ),
}


def _render(status: int, detail: str | None = None):  # type: ignore[no-untyped-def]
    title, message = MESSAGES.get(status, (N_("Error"), N_("Something went wrong.")))
    return render_template(
        "errors/error.html", status=status, title=title, message=detail or message
    ), status


def register_errorhandlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):  # type: ignore[no-untyped-def]
        app.logger.info("CSRF rejected: %s", error.description)
        return _render(
            400, N_("The form expired or was sent from elsewhere. Reload the page and try again.")
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):  # type: ignore[no-untyped-def]
        if request.path.startswith("/api/"):
            return error
        return _render(error.code or 500)

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):  # type: ignore[no-untyped-def]
        if is_unavailable(error):
            if request.path.startswith("/api/"):
                from tracker.api.errors import database_unavailable

                return database_unavailable(error)
            app.logger.error("database unavailable: %s", type(error).__name__)
            transactions.discard_after_outage()
            g._login_user = login_manager.anonymous_user()  # the page must not ask the database
            body, status = _render(503)
            return body, status, {"Retry-After": "30"}
        app.logger.exception("unhandled error")
        transactions.discard()
        return _render(500)
