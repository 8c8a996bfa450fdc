"""Errors that services raise and the web and API layers translate for people."""

from __future__ import annotations


class ServiceError(Exception):
    """Base: the message is safe to show to the user who caused it."""

    status = 400

    def __init__(self, message: str, *, field_errors: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field_errors = field_errors or {}


class InvalidInput(ServiceError):
    status = 422


class NotFound(ServiceError):
    status = 404


class PermissionDenied(ServiceError):
    status = 403


class StateConflict(ServiceError):
    status = 409
