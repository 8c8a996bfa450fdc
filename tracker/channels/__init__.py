"""Outgoing delivery channels (SMTP email, signed webhooks): stdlib only, no Flask or database."""

from __future__ import annotations


class DeliveryError(Exception):
    """A send failed; `retryable` says whether trying again later can help."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable
