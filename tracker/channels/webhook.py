"""Signed JSON webhooks: the receiver can check that a body came from us, unchanged."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import http.client
import ipaddress
import json
import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from tracker.channels import DeliveryError
from tracker.channels.addresses import IPAddress

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


Resolver = Callable[..., list[tuple[Any, ...]]]


@dataclass(frozen=True)
class Targets:
    """How a webhook's host is resolved, and which of its addresses may be called.

    The host is resolved once; every address it resolves to must pass `allows(host, address)`,
    and the connection goes to one of exactly those addresses (no second lookup a DNS answer
    could change in between). The default allows anything: the admin-configured escalation
    webhook may point at this machine.
    """

    resolve: Resolver = socket.getaddrinfo
    allows: Callable[[str, IPAddress], bool] = lambda host, address: True


ANY_ADDRESS = Targets()
_MAX_RESPONSE_BYTES = 64 * 1024


def _abort(connection: http.client.HTTPConnection, expired: threading.Event) -> None:
    """Unblock a connection's pending read or write from another thread (the deadline).
    `expired` is set first, so the sender knows why its read failed."""
    expired.set()
    sock = connection.sock
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def post_json(
    url: str,
    payload: dict[str, Any],
    *,
    secret: str = "",
    timeout: float = 5.0,
    user_agent: str = "Trustomer-Webhook/1",
    delivery_id: str | None = None,
    targets: Targets = ANY_ADDRESS,
    total_timeout: float = 30.0,
) -> int:
    """POST `payload`, signed when `secret` is set; the 2xx status, or DeliveryError.

    `timeout` bounds each socket operation, `total_timeout` the whole exchange: a receiver
    that trickles a byte every few seconds is cut off, so a send never outlives the outbox's
    lease (after which another deliverer would send the message again).

    `delivery_id` goes out as X-Trustomer-Delivery and stays the same on every retry of one
    message, so a receiver can drop a repeat (delivery is at least once). Redirects are not
    followed: they would re-send a signed body to a place nobody configured.
    """
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = -1
    if parts.scheme not in ("http", "https") or not parts.hostname or port == -1:
        shown = f"{parts.scheme}:" if parts.scheme else "a URL without a scheme"
        raise ValueError(f"webhook URL must be http:// or https:// with a host, not {shown}")
    host = parts.hostname
    port = port or (443 if parts.scheme == "https" else 80)
    # Only the host in messages: webhook URLs often carry a token in the path or query.
    where = f"webhook at {host}" + (f":{parts.port}" if parts.port else "")
    addresses = _checked_addresses(host, port, targets, where)
    body = encode(payload)
    headers = {"Content-Type": "application/json", "User-Agent": user_agent}
    if secret:
        headers[SIGNATURE_HEADER] = sign(body, secret)
    if delivery_id:
        headers[DELIVERY_HEADER] = delivery_id
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        connection = _PinnedHTTPSConnection(host, port, addresses, timeout, _tls_context())
    else:
        connection = _PinnedHTTPConnection(host, port, addresses, timeout)
    expired = threading.Event()
    cut_off = threading.Timer(total_timeout, _abort, args=(connection, expired))
    cut_off.daemon = True
    cut_off.start()
    try:
        try:
            connection.connect()
        except ssl.SSLCertVerificationError as exc:
            raise DeliveryError(
                f"{where} has an untrusted TLS certificate: {exc}", retryable=False
            ) from exc
        except OSError as exc:
            raise DeliveryError(f"{where} unreachable: {_reason(exc)}") from exc
        path = urlunsplit(("", "", parts.path or "/", parts.query, ""))
        try:
            connection.request("POST", path, body, headers)
            response = connection.getresponse()
            response.read(_MAX_RESPONSE_BYTES)
        except (OSError, http.client.HTTPException) as exc:  # timeouts and resets mid-exchange
            if expired.is_set():
                raise DeliveryError(f"{where} took longer than {total_timeout:g} s") from exc
            raise DeliveryError(f"{where} failed: {_reason(exc)}") from exc
    finally:
        cut_off.cancel()
        connection.close()
    if 200 <= response.status < 300:
        return response.status
    raise _status_error(where, response.status, response.reason, response.getheader("Location"))


def _tls_context() -> ssl.SSLContext:
    """The system's trust roots, hostname checking on (a function so tests can add a root)."""
    return ssl.create_default_context()


def _checked_addresses(
    host: str, port: int, targets: Targets, where: str
) -> list[tuple[int, tuple[Any, ...]]]:
    """Resolve once; every answer must be allowed, or nothing is sent (not retryable)."""
    try:
        infos = targets.resolve(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError, ValueError) as exc:
        raise DeliveryError(f"{where} unreachable: {_reason(exc)}") from exc
    found: list[tuple[int, tuple[Any, ...]]] = []
    for family, _, _, _, sockaddr in infos:
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        try:
            address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        except ValueError:
            address = None
        if address is None or not targets.allows(host, address):
            raise DeliveryError(
                f"{where} resolves to {address or sockaddr[0]}, not a public address; not sent",
                retryable=False,
            )
        found.append((family, (str(address), port, *sockaddr[2:])))
    if not found:
        raise DeliveryError(f"{where} unreachable: no address")
    return found


def _connect_pinned(
    addresses: list[tuple[int, tuple[Any, ...]]], timeout: float | None
) -> socket.socket:
    """A TCP connection to the first of the checked addresses that answers."""
    error: OSError = OSError("no address")
    for family, sockaddr in addresses:
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.settimeout(timeout)
            sock.connect(sockaddr)
        except OSError as exc:
            sock.close()
            error = exc
            continue
        return sock
    raise error


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """HTTP to an address checked beforehand; the Host header still names the URL's host."""

    def __init__(
        self, host: str, port: int, addresses: list[tuple[int, tuple[Any, ...]]], timeout: float
    ) -> None:
        super().__init__(host, port, timeout=timeout)
        self._addresses = addresses

    def connect(self) -> None:
        self.sock = _connect_pinned(self._addresses, self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to a checked address; SNI and the certificate check use the URL's host name."""

    def __init__(
        self,
        host: str,
        port: int,
        addresses: list[tuple[int, tuple[Any, ...]]],
        timeout: float,
        context: ssl.SSLContext,
    ) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self._addresses = addresses
        self._tls = context

    def connect(self) -> None:
        sock = _connect_pinned(self._addresses, self.timeout)
        try:
            self.sock = self._tls.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise


def _status_error(where: str, status: int, reason: str, location: str | None) -> DeliveryError:
    if 300 <= status < 400:
        return DeliveryError(
            f"{where} answered {status} {reason} (redirect to {location!r}"
            " not followed; update the webhook URL)",
            retryable=False,
        )
    retryable = status in _RETRYABLE_STATUSES or 500 <= status < 600
    return DeliveryError(f"{where} answered {status} {reason}", retryable=retryable)


def _reason(reason: object) -> str:
    if isinstance(reason, TimeoutError):
        return "timed out"
    return str(reason) or type(reason).__name__
