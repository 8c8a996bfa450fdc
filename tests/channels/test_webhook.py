"""Signed JSON webhooks, against a real HTTP receiver on loopback."""

from __future__ import annotations

import json
import socket

import pytest

from tests.servers import LOOPBACK, WebhookReceiver, free_port
from tracker.channels import DeliveryError
from tracker.channels.webhook import SIGNATURE_HEADER, encode, post_json, sign, verify

SECRET = "whsec-partner-7"
PAYLOAD = {"event": "conflict.resolved", "ref": "CF-42", "partner": "Müller GmbH", "n": [1, 2]}


def test_body_is_exactly_the_encoded_payload_and_its_signature_verifies(
    webhook_receiver: WebhookReceiver,
) -> None:
    status = post_json(webhook_receiver.url, PAYLOAD, secret=SECRET)

    assert status == 200
    [request] = webhook_receiver.requests
    assert request.method == "POST"
    assert request.path == "/hook"
    assert request.body == encode(PAYLOAD)
    assert json.loads(request.body) == PAYLOAD
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["User-Agent"] == "Trustomer-Webhook/1"
    signature = request.headers[SIGNATURE_HEADER]
    assert verify(request.body, SECRET, signature)
    assert not verify(request.body, "another-secret", signature)
    assert not verify(request.body.replace(b"CF-42", b"CF-43"), SECRET, signature)


def test_without_a_secret_no_signature_is_sent(webhook_receiver: WebhookReceiver) -> None:
    post_json(webhook_receiver.url, PAYLOAD)

    [request] = webhook_receiver.requests
    assert SIGNATURE_HEADER not in request.headers


def test_encoding_is_compact_key_sorted_utf8() -> None:
    assert encode({"b": 1, "a": {"z": None, "é": "ü"}}) == '{"a":{"z":null,"é":"ü"},"b":1}'.encode()


def test_encoding_refuses_values_json_cannot_carry() -> None:
    with pytest.raises(ValueError):
        encode({"score": float("nan")})


def test_signature_is_hex_hmac_sha256_with_prefix() -> None:
    # RFC 4231, test case 2
    expected = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    assert sign(b"what do ya want for nothing?", "Jefe") == f"sha256={expected}"


@pytest.mark.parametrize(
    "header_value",
    ["", "sha256=", "sha1=abc", sign(b"{}", SECRET).upper(), "sha256=ü" + "0" * 63],
)
def test_malformed_signatures_do_not_verify(header_value: str) -> None:
    assert verify(b"{}", SECRET, header_value) is False


def test_an_empty_secret_never_verifies_and_cannot_sign() -> None:
    assert verify(b"{}", "", "sha256=" + "0" * 64) is False
    with pytest.raises(ValueError):
        sign(b"{}", "")


def test_server_error_is_retryable_and_the_next_attempt_succeeds(
    webhook_receiver: WebhookReceiver,
) -> None:
    webhook_receiver.respond_with(500, 200)

    with pytest.raises(DeliveryError, match="500") as caught:
        post_json(webhook_receiver.url, PAYLOAD, secret=SECRET)
    assert caught.value.retryable

    assert post_json(webhook_receiver.url, PAYLOAD, secret=SECRET) == 200
    first, second = webhook_receiver.requests
    assert first.body == second.body
    assert first.headers[SIGNATURE_HEADER] == second.headers[SIGNATURE_HEADER]


@pytest.mark.parametrize(
    ("status", "retryable"),
    [
        (400, False),
        (401, False),
        (404, False),
        (410, False),
        (408, True),
        (429, True),
        (500, True),
        (502, True),
        (503, True),
    ],
)
def test_error_status_is_retryable_only_when_the_receiver_may_recover(
    webhook_receiver: WebhookReceiver, status: int, retryable: bool
) -> None:
    webhook_receiver.respond_with(status)

    with pytest.raises(DeliveryError, match=str(status)) as caught:
        post_json(webhook_receiver.url, PAYLOAD)

    assert caught.value.retryable is retryable


@pytest.mark.parametrize("status", [200, 201, 202, 204])
def test_any_2xx_status_is_returned(webhook_receiver: WebhookReceiver, status: int) -> None:
    webhook_receiver.respond_with(status)

    assert post_json(webhook_receiver.url, PAYLOAD) == status


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_redirect_is_not_followed_and_not_retryable(
    webhook_receiver: WebhookReceiver, status: int
) -> None:
    webhook_receiver.respond_with(status)

    with pytest.raises(DeliveryError, match="not followed") as caught:
        post_json(webhook_receiver.url, PAYLOAD, secret=SECRET)

    assert caught.value.retryable is False
    assert str(status) in str(caught.value)
    assert [request.path for request in webhook_receiver.requests] == ["/hook"]


def test_error_messages_leave_out_the_url_path_which_may_hold_a_token(
    webhook_receiver: WebhookReceiver,
) -> None:
    webhook_receiver.respond_with(500)

    with pytest.raises(DeliveryError) as caught:
        post_json(webhook_receiver.url + "/tok-8c1f?key=k-77", PAYLOAD)

    assert "tok-8c1f" not in str(caught.value)
    assert "k-77" not in str(caught.value)
    assert f"{LOOPBACK}:{webhook_receiver.port}" in str(caught.value)


def test_connection_refused_is_retryable() -> None:
    url = f"http://{LOOPBACK}:{free_port()}/hook"  # nothing listens there

    with pytest.raises(DeliveryError, match="unreachable") as caught:
        post_json(url, PAYLOAD)

    assert caught.value.retryable


def test_receiver_that_never_answers_times_out_as_retryable() -> None:
    with socket.create_server((LOOPBACK, 0)) as silent:  # accepts into the backlog, never speaks
        url = f"http://{LOOPBACK}:{silent.getsockname()[1]}/hook"

        with pytest.raises(DeliveryError, match="timed out") as caught:
            post_json(url, PAYLOAD, timeout=0.2)

    assert caught.value.retryable


@pytest.mark.parametrize(
    "url",
    ["ftp://example.test/hook", "file:///etc/passwd", "127.0.0.1:8000/hook", "http:///hook", ""],
)
def test_only_http_and_https_urls_are_accepted(url: str) -> None:
    with pytest.raises(ValueError, match="http"):
        post_json(url, PAYLOAD)


def test_a_delivery_id_travels_with_every_attempt(webhook_receiver) -> None:
    from tracker.channels.webhook import DELIVERY_HEADER

    webhook_receiver.respond_with(500, 200)
    with pytest.raises(DeliveryError):
        post_json(webhook_receiver.url, {"a": 1}, delivery_id="outbox-7.abcd1234")
    assert post_json(webhook_receiver.url, {"a": 1}, delivery_id="outbox-7.abcd1234") == 200
    ids = [r.headers[DELIVERY_HEADER] for r in webhook_receiver.requests]
    assert ids == ["outbox-7.abcd1234", "outbox-7.abcd1234"]
