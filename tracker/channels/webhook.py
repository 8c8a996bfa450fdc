"""Signed JSON webhooks: the receiver can check that a body came from us, unchanged."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import ssl
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from tracker.channels import DeliveryError

SIGNATURE_HEADER = "X-Trustomer-Signature"
DELIVERY_HEADER = "X-Trustomer-Delivery"
_SIGNATURE_PREFIX = "sha256="
_RETRYABLE_STATUSES = frozenset({408, 429})


def sign(body: bytes, secret: str) -> str:
    """The signature header value for `body`: "sha256=" and the hex HMAC-SHA256."""
    if not secret:
        raise ValueError("a webhook secret must not be empty")
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return _SIGNATURE_PREFIX + digest


def verify(body: bytes, secret: str, header_value: str) -> bool:
    """Whether `header_value` signs `body` with `secret`; constant-time, never raises."""
    if not secret or not header_value or not header_value.isascii():
        return False
    return hmac.compare_digest(sign(body, secret).encode("ascii"), header_value.encode("ascii"))


def encode(payload: dict[str, Any]) -> bytes:
    """Compact, key-sorted UTF-8 JSON: the exact bytes that are signed and sent."""
    text = json.dumps(
        payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
    )
    return text.encode("utf-8")


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirect would re-send a signed body to a place nobody configured.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def post_json(
    url: str,
    payload: dict[str, Any],
    *,
    secret: str = "",
    timeout: float = 5.0,
    user_agent: str = "Trustomer-Webhook/1",
    delivery_id: str | None = None,
) -> int:
    """POST `payload`, signed when `secret` is set; the 2xx status, or DeliveryError.

    `delivery_id` goes out as X-Trustomer-Delivery and stays the same on every retry of one
    message, so a receiver can drop a repeat (delivery is at least once).
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        shown = f"{parts.scheme}:" if parts.scheme else "a URL without a scheme"
        raise ValueError(f"webhook URL must be http:// or https:// with a host, not {shown}")
    # Only the host in messages: webhook URLs often carry a token in the path or query.
    where = f"webhook at {parts.hostname}" + (f":{parts.port}" if parts.port else "")
    body = encode(payload)
    headers = {"Content-Type": "application/json", "User-Agent": user_agent}
    if secret:
        headers[SIGNATURE_HEADER] = sign(body, secret)
    if delivery_id:
        headers[DELIVERY_HEADER] = delivery_id
    request = urllib.request.Request(url, body, headers, method="POST")  # noqa: S310 - scheme checked
    try:
        with _opener.open(request, timeout=timeout) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as exc:
        exc.close()
        raise _status_error(where, exc) from None
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, ssl.SSLCertVerificationError):
            raise DeliveryError(
                f"{where} has an untrusted TLS certificate: {exc.reason}", retryable=False
            ) from exc
        raise DeliveryError(f"{where} unreachable: {_reason(exc.reason)}") from exc
    except (OSError, http.client.HTTPException) as exc:  # timeouts and resets mid-exchange
        raise DeliveryError(f"{where} failed: {_reason(exc)}") from exc


def _status_error(where: str, exc: urllib.error.HTTPError) -> DeliveryError:
    status = exc.code
    if 300 <= status < 400:
        return DeliveryError(
            f"{where} answered {status} {exc.reason} (redirect to {exc.headers.get('Location')!r}"
            " not followed; update the webhook URL)",
            retryable=False,
        )
    retryable = status in _RETRYABLE_STATUSES or 500 <= status < 600
    return DeliveryError(f"{where} answered {status} {exc.reason}", retryable=retryable)


def _reason(reason: object) -> str:
    if isinstance(reason, TimeoutError):
        return "timed out"
    return str(reason) or type(reason).__name__
