"""Partner webhooks reach public unicast addresses only, in every spelling, and connect to the
very address that was checked (one lookup: no DNS-rebinding window). No test here connects
anywhere but this machine's loopback."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.servers import LOOPBACK, WebhookReceiver
from tracker.channels import DeliveryError, addresses, webhook
from tracker.channels.webhook import Targets, post_json
from tracker.extensions import db
from tracker.models import OutboxMessage, PartnerWebhook
from tracker.services import outbox, partner_webhooks
from tracker.services.errors import InvalidInput

INTERNAL_FORMS = [
    "https://[::127.0.0.1]/",  # IPv4-compatible IPv6
    "https://[::7f00:1]/",
    "https://[::ffff:127.0.0.1]/",  # IPv4-mapped
    "https://[::ffff:a00:1]/",
    "https://[64:ff9b::7f00:1]/",  # NAT64 of 127.0.0.1
    "https://[64:ff9b::a00:1]/",  # NAT64 of 10.0.0.1
    "https://[64:ff9b:1::a00:1]/",  # local-use NAT64
    "https://[2002:7f00:1::]/",  # 6to4 of 127.0.0.1
    "https://[2002:c0a8:101::1]/",  # 6to4 of 192.168.1.1
    "https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/",  # Teredo
    "https://[ff02::1]/",  # multicast
    "https://[fe80::1%25eth0]/",  # link-local with a zone
    "https://[fc00::1]/",
    "https://224.0.0.1/",  # multicast
    "https://239.255.255.250:1900/",
    "https://255.255.255.255/",
    "https://100.64.0.1/",  # carrier-grade NAT
    "https://192.0.2.10/",  # documentation
    "https://2130706433/",  # decimal
    "https://0177.0.0.1/",  # octal
    "https://0x7f.1/",  # hex, short
    "https://0x7f000001/",
    "https://127.1/",  # short
    "https://127.0.0.1./",  # trailing dot
    "https://0/",
    "https://1.2.3.4.5/",  # malformed numeric hosts
    "https://256.0.0.1/",
    "https://08.0.0.1/",
    "https://[::1/",
]


@pytest.fixture
def production_rules(app):  # type: ignore[no-untyped-def]
    app.config.update(TESTING=False, ENV_NAME="production")
    yield
    app.config.update(TESTING=True, ENV_NAME="test")


@pytest.fixture
def no_lookups(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """An IP literal is judged as written: asking DNS (or anyone) about it is a failure."""

    def refuse(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError(f"looked up {args[0]!r}")

    monkeypatch.setattr(partner_webhooks, "resolve", refuse)


@pytest.mark.parametrize("url", INTERNAL_FORMS)
def test_every_spelling_of_an_internal_address_is_refused(
    app, production_rules, no_lookups, url
) -> None:
    with pytest.raises(InvalidInput) as caught:
        partner_webhooks.check_url(url)
    assert "url" in caught.value.field_errors


@pytest.mark.parametrize("url", [u.replace("https", "http", 1) for u in INTERNAL_FORMS[:6]])
def test_loopback_spellings_get_no_test_mode_exemption(app, no_lookups, url) -> None:
    with pytest.raises(InvalidInput):
        partner_webhooks.check_url(url)


@pytest.mark.parametrize(
    "answers",
    [
        ["127.0.0.2"],
        ["::ffff:127.0.0.1"],
        ["64:ff9b::7f00:1"],
        ["2002:7f00:1::"],
        ["ff02::1"],
        ["::1", "127.0.0.1"],
    ],
)
def test_a_name_resolving_to_any_internal_address_is_refused(
    app, production_rules, monkeypatch, answers
) -> None:
    def fake(host, port, *args, **kwargs):  # type: ignore[no-untyped-def]
        family = socket.AF_INET6 if ":" in answers[0] else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (a, port)) for a in answers]

    monkeypatch.setattr(partner_webhooks, "resolve", fake)
    with pytest.raises(InvalidInput, match="public internet address"):
        partner_webhooks.check_url("https://hooks.example/hook")


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("2130706433", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("10.1", "10.0.0.1"),
        ("::127.0.0.1", "::7f00:1"),
        ("hooks.example", None),
        ("123.example", None),
    ],
)
def test_ip_literals_are_read_as_resolvers_read_them(host: str, address: str | None) -> None:
    literal = addresses.ip_literal(host)
    assert (str(literal) if literal else None) == address


# --- at delivery: one lookup, the connection pinned to what was checked -------------------------


def counting_resolver(*answers: str):  # type: ignore[no-untyped-def]
    """A resolver for invented names that answers `answers[n]` on the n-th lookup."""
    calls: list[str] = []

    def resolve(host, port, *args, **kwargs):  # type: ignore[no-untyped-def]
        answer = answers[min(len(calls), len(answers) - 1)]
        calls.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answer, port))]

    return resolve, calls


def test_the_connection_goes_to_the_checked_address_with_the_original_host_header(
    webhook_receiver: WebhookReceiver,
) -> None:
    # The second answer would be a rebinding: it must never be asked for.
    resolve, calls = counting_resolver(LOOPBACK, "127.0.0.99")
    url = f"http://hooks.example:{webhook_receiver.port}/hook"

    status = post_json(
        url, {"a": 1}, targets=Targets(resolve=resolve, allows=lambda h, a: a.is_loopback)
    )

    assert status == 200
    assert calls == ["hooks.example"]
    [request] = webhook_receiver.requests
    assert request.headers["Host"] == f"hooks.example:{webhook_receiver.port}"
    assert request.path == "/hook"


def test_a_refused_answer_stops_the_call_before_any_connection(
    webhook_receiver: WebhookReceiver, monkeypatch
) -> None:
    resolve, calls = counting_resolver(LOOPBACK)
    monkeypatch.setattr(
        webhook, "_connect_pinned", lambda *a: pytest.fail("connected to a refused address")
    )

    with pytest.raises(DeliveryError, match="not a public address") as caught:
        post_json(
            f"http://hooks.example:{webhook_receiver.port}/hook",
            {"a": 1},
            targets=Targets(resolve=resolve, allows=lambda h, a: addresses.is_public(a)),
        )

    assert caught.value.retryable is False
    assert calls == ["hooks.example"]
    assert webhook_receiver.requests == []


def test_a_partner_hook_whose_name_turns_internal_is_not_called(
    app, webhook_receiver, monkeypatch
) -> None:
    from tests.factories import make_partner_user
    from tracker.clock import utcnow

    user = make_partner_user()
    hook = PartnerWebhook(
        partner_id=user.partner_id,
        url=f"https://hooks.example:{webhook_receiver.port}/hook",
        secret="s" * 64,
        events=list(partner_webhooks.EVENTS),
        active=True,
        created_by_id=user.id,
        created_at=utcnow(),
    )
    db.session.add(hook)
    db.session.commit()
    resolve, calls = counting_resolver(LOOPBACK)  # registered while public; now rebound
    monkeypatch.setattr(partner_webhooks, "resolve", resolve)
    outbox.enqueue_webhook(
        dedupe_key="pwh-test",
        url=hook.url,
        payload={"event": "conflict.created"},
        secret_ref=f"{partner_webhooks.SECRET_PREFIX}{hook.id}",
        now=utcnow(),
    )
    db.session.commit()

    report = outbox.deliver_due(utcnow())

    assert report.gave_up == 1
    assert calls == ["hooks.example"]  # one lookup, at send time
    assert webhook_receiver.requests == []
    row = db.session.query(OutboxMessage).one()
    assert "not a public address" in row.last_error


# --- HTTPS: SNI and the certificate check name the host, the socket goes to the address --------


class _Ok(BaseHTTPRequestHandler):
    hosts: list[str] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.hosts.append(self.headers["Host"])
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def tls_receiver(tmp_path: Path, monkeypatch) -> Iterator[tuple[int, list[str | None]]]:
    """A loopback HTTPS server with a self-signed certificate for hooks.example, trusted here."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=hooks.example", "-addext", "subjectAltName=DNS:hooks.example",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    server_names: list[str | None] = []
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda sock, name, ctx: server_names.append(name)
    server = ThreadingHTTPServer((LOOPBACK, 0), _Ok)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01})
    thread.start()
    monkeypatch.setattr(webhook, "_tls_context", lambda: ssl.create_default_context(cafile=cert))
    _Ok.hosts = []
    try:
        yield server.server_address[1], server_names
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_https_checks_the_certificate_for_the_name_while_connecting_to_the_pinned_address(
    tls_receiver,
) -> None:
    port, server_names = tls_receiver
    resolve, calls = counting_resolver(LOOPBACK)

    status = post_json(
        f"https://hooks.example:{port}/hook",
        {"a": 1},
        targets=Targets(resolve=resolve, allows=lambda h, a: a.is_loopback),
    )

    assert status == 200
    assert calls == ["hooks.example"]
    assert server_names == ["hooks.example"]
    assert _Ok.hosts == [f"hooks.example:{port}"]


def test_https_to_a_name_the_certificate_does_not_cover_is_refused_for_good(tls_receiver) -> None:
    port, _ = tls_receiver
    resolve, _ = counting_resolver(LOOPBACK)

    with pytest.raises(DeliveryError, match="untrusted TLS certificate") as caught:
        post_json(
            f"https://other.example:{port}/hook",
            {"a": 1},
            targets=Targets(resolve=resolve, allows=lambda h, a: a.is_loopback),
        )

    assert caught.value.retryable is False
    assert _Ok.hosts == []
