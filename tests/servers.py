"""Real loopback servers for tests: an SMTP sink (aiosmtpd) and a scriptable webhook receiver."""

from __future__ import annotations

import email
import email.policy
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

T = TypeVar("T")
LOOPBACK = "127.0.0.1"


def free_port(host: str = LOOPBACK) -> int:
    """A port nothing listens on right now (the OS picks it; we release it at once)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def wait_for(predicate: Callable[[], T], timeout: float = 5.0, interval: float = 0.01) -> T:
    """Poll until `predicate()` is truthy and return it: for work done in another thread."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise TimeoutError(f"condition not met within {timeout}s")
        time.sleep(interval)


# --- SMTP -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceivedMail:
    """One accepted message: the SMTP envelope and the parsed content."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


class _RecordingHandler:
    def __init__(self, server: SmtpServer) -> None:
        self._server = server

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list
    ) -> str:
        rejection = self._server._take_rejection("RCPT")
        if rejection:
            return rejection
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        rejection = self._server._take_rejection("DATA")
        if rejection:
            return rejection
        content = envelope.original_content or envelope.content
        assert isinstance(content, bytes)
        message = email.message_from_bytes(content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self._server._record(
            ReceivedMail(envelope.mail_from or "", list(envelope.rcpt_tos), message)
        )
        return "250 Message accepted for delivery"


class SmtpServer:
    """An SMTP sink on a fixed loopback port that can go down and come back on the same port.

    `credentials=(user, password)` makes it offer AUTH (without TLS) and check them.
    """

    def __init__(self, credentials: tuple[str, str] | None = None) -> None:
        self.host = LOOPBACK
        self.port = free_port()
        self._credentials = credentials
        self._lock = threading.Lock()
        self._messages: list[ReceivedMail] = []
        self._rejections: dict[str, str] = {}
        self._controller: Controller | None = None

    @property
    def messages(self) -> list[ReceivedMail]:
        """The mails accepted so far, oldest first (a snapshot)."""
        with self._lock:
            return list(self._messages)

    @property
    def running(self) -> bool:
        return self._controller is not None

    def start(self) -> None:
        """Listen again on the same port (a new Controller: a stopped one cannot restart)."""
        if self._controller is not None:
            return
        smtp_options: dict[str, Any] = {}
        if self._credentials is not None:
            smtp_options = {"authenticator": self._authenticate, "auth_require_tls": False}
        controller = Controller(
            _RecordingHandler(self),
            hostname=self.host,
            port=self.port,
            ready_timeout=5.0,
            server_hostname="smtp.loopback.test",  # skips a DNS lookup for the banner
            **smtp_options,
        )
        controller.start()  # asyncio binds with SO_REUSEADDR: TIME_WAIT does not block it
        self._controller = controller

    def stop(self) -> None:
        """Close the listening socket: new connections are refused until start()."""
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    def reject_next(self, code: int, text: str = "rejected by test", *, at: str = "RCPT") -> None:
        """Make the next RCPT (or, with at="DATA", the next DATA) fail with `code text`."""
        if at not in ("RCPT", "DATA"):
            raise ValueError("at must be 'RCPT' or 'DATA'")
        with self._lock:
            self._rejections[at] = f"{code} {text}"

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()
            self._rejections.clear()

    def _take_rejection(self, stage: str) -> str | None:
        with self._lock:
            return self._rejections.pop(stage, None)

    def _record(self, mail: ReceivedMail) -> None:
        with self._lock:
            self._messages.append(mail)

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and self._credentials is not None
            and (data.login.decode(), data.password.decode()) == self._credentials
        )
        return AuthResult(success=ok, handled=False)

    def __enter__(self) -> SmtpServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A running SMTP sink on 127.0.0.1; `.messages`, `.stop()`, `.start()`, `.reject_next()`."""
    with SmtpServer() as server:
        yield server


# --- HTTP -------------------------------------------------------------------------------


class Headers(dict[str, str]):
    """Request headers looked up case-insensitively (urllib sends "X-trustomer-signature")."""

    def __init__(self, items: Iterable[tuple[str, str]]) -> None:
        super().__init__((name.lower(), value) for name, value in items)

    def __getitem__(self, name: str) -> str:
        return super().__getitem__(name.lower())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and super().__contains__(name.lower())

    def get(self, name: str, default: Any = None) -> Any:  # type: ignore[override]
        return super().get(name.lower(), default)


@dataclass(frozen=True)
class ReceivedRequest:
    """One request as the receiver saw it."""

    method: str
    path: str
    headers: Headers
    body: bytes


class WebhookReceiver:
    """An HTTP server that records every request and answers with scripted statuses."""

    def __init__(self, path: str = "/hook") -> None:
        self._lock = threading.Lock()
        self._requests: list[ReceivedRequest] = []
        self._script: list[int] = []
        self._httpd = ThreadingHTTPServer((LOOPBACK, 0), self._handler_class())
        self._httpd.daemon_threads = True
        self.host, self.port = LOOPBACK, self._httpd.server_address[1]
        self.url = f"http://{self.host}:{self.port}{path}"
        self._thread: threading.Thread | None = None

    @property
    def requests(self) -> list[ReceivedRequest]:
        """The requests received so far, oldest first (a snapshot)."""
        with self._lock:
            return list(self._requests)

    def respond_with(self, *statuses: int) -> None:
        """Answer the next requests with these statuses, in order; 200 once they run out."""
        with self._lock:
            self._script.extend(statuses)

    def start(self) -> None:
        # A short poll interval keeps shutdown() (and so every test's teardown) quick.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        self._httpd.server_close()

    def _next_status(self, request: ReceivedRequest) -> int:
        with self._lock:
            self._requests.append(request)
            return self._script.pop(0) if self._script else 200

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                request = ReceivedRequest(
                    self.command, self.path, Headers(self.headers.items()), body
                )
                status = receiver._next_status(request)
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", "/redirected")
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST = do_PUT = _answer

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep test output clean

        return Handler

    def __enter__(self) -> WebhookReceiver:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    """A running HTTP receiver on 127.0.0.1; `.url`, `.requests`, `.respond_with()`."""
    with WebhookReceiver() as receiver:
        yield receiver


# --- processes to kill ------------------------------------------------------------------


def read_until(process: subprocess.Popen, marker: str) -> None:
    """Read the process's stderr until a line holds `marker` (it says where it stopped)."""
    assert process.stderr is not None
    line = ""
    while marker not in line:
        line = process.stderr.readline()
        assert line or process.poll() is None, f"the process ended before saying {marker!r}"
