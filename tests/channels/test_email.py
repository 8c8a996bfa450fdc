"""Email over SMTP, against a real aiosmtpd server on loopback."""

from __future__ import annotations

import socket
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.servers import LOOPBACK, SmtpServer
from tracker.channels import DeliveryError
from tracker.channels.email import OutgoingEmail, SmtpSettings, build_message, send_email

SENDER = "Trustomer <noreply@trustomer.test>"


def settings_for(server: SmtpServer, **overrides: Any) -> SmtpSettings:
    return SmtpSettings(host=server.host, port=server.port, timeout=2.0, **overrides)


def a_mail(**overrides: Any) -> OutgoingEmail:
    fields: dict[str, Any] = {
        "to": "ana@partner.test",
        "subject": "CF-42: now resolved",
        "text": "Your conflict CF-42 was resolved.",
        "message_id": "<outbox-42@trustomer>",
    }
    fields.update(overrides)
    return OutgoingEmail(**fields)


def test_html_email_arrives_as_plain_and_html_alternatives(smtp_server: SmtpServer) -> None:
    send_email(
        settings_for(smtp_server),
        SENDER,
        a_mail(html="<p>Your conflict <b>CF-42</b> was resolved.</p>", reply_to="team@x.test"),
    )

    [mail] = smtp_server.messages
    assert mail.mail_from == "noreply@trustomer.test"
    assert mail.rcpt_tos == ["ana@partner.test"]
    message = mail.message
    assert message["From"] == SENDER
    assert message["To"] == "ana@partner.test"
    assert message["Subject"] == "CF-42: now resolved"
    assert message["Message-ID"] == "<outbox-42@trustomer>"
    assert message["Reply-To"] == "team@x.test"
    assert message["Date"]
    assert message.get_content_type() == "multipart/alternative"
    plain = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert plain is not None and "CF-42 was resolved." in plain.get_content()
    assert html is not None and "<b>CF-42</b>" in html.get_content()


def test_text_only_email_is_a_single_plain_part(smtp_server: SmtpServer) -> None:
    send_email(settings_for(smtp_server), SENDER, a_mail())

    [mail] = smtp_server.messages
    assert mail.message.get_content_type() == "text/plain"
    assert mail.message.get_content().strip() == "Your conflict CF-42 was resolved."
    assert mail.message["Reply-To"] is None


def test_non_ascii_subject_and_body_arrive_intact(smtp_server: SmtpServer) -> None:
    send_email(
        settings_for(smtp_server),
        SENDER,
        a_mail(subject="Konflikt gelöst – Müller GmbH", text="Grüße aus Zürich ✓"),
    )

    [mail] = smtp_server.messages
    assert mail.message["Subject"] == "Konflikt gelöst – Müller GmbH"
    assert mail.message.get_content().strip() == "Grüße aus Zürich ✓"


def test_message_id_and_date_are_generated_when_not_given() -> None:
    now = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)

    message = build_message(SENDER, a_mail(message_id=None), now=now)

    assert message["Message-ID"].startswith("<")
    assert message["Message-ID"].endswith("@trustomer.test>")
    assert message["Date"] == "Mon, 16 Nov 2026 09:00:00 +0000"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("to", "ana@partner.test\r\nBcc: everyone@partner.test"),
        ("reply_to", "team@x.test\rBcc: everyone@partner.test"),
        ("message_id", "<outbox-42@trustomer>\u2028Bcc: everyone@partner.test"),
    ],
)
def test_header_injection_is_refused_before_anything_is_sent(
    smtp_server: SmtpServer, field: str, value: str
) -> None:
    with pytest.raises(ValueError, match="line breaks"):
        send_email(settings_for(smtp_server), SENDER, a_mail(**{field: value}))

    assert smtp_server.messages == []


def test_sender_with_line_break_is_refused() -> None:
    with pytest.raises(ValueError, match="From"):
        build_message("noreply@trustomer.test\nBcc: x@y.test", a_mail())


def test_server_down_is_a_retryable_failure(smtp_server: SmtpServer) -> None:
    smtp_server.stop()

    with pytest.raises(DeliveryError) as caught:
        send_email(settings_for(smtp_server), SENDER, a_mail())

    assert caught.value.retryable
    assert f"{smtp_server.port}" in str(caught.value)


def test_sending_works_again_once_the_server_is_back_on_the_same_port(
    smtp_server: SmtpServer,
) -> None:
    settings = settings_for(smtp_server)
    send_email(settings, SENDER, a_mail(message_id="<outbox-1@trustomer>"))
    smtp_server.stop()
    with pytest.raises(DeliveryError):
        send_email(settings, SENDER, a_mail(message_id="<outbox-2@trustomer>"))

    smtp_server.start()
    send_email(settings, SENDER, a_mail(message_id="<outbox-2@trustomer>"))

    assert smtp_server.port == settings.port
    ids = [mail.message["Message-ID"] for mail in smtp_server.messages]
    assert ids == ["<outbox-1@trustomer>", "<outbox-2@trustomer>"]


@pytest.mark.parametrize(
    ("at", "code", "retryable"),
    [
        ("RCPT", 550, False),  # no such mailbox: retrying cannot help
        ("RCPT", 451, True),  # greylisting, local error: try later
        ("DATA", 554, False),
        ("DATA", 452, True),
    ],
)
def test_refusal_is_retryable_only_when_temporary(
    smtp_server: SmtpServer, at: str, code: int, retryable: bool
) -> None:
    smtp_server.reject_next(code, "refused by test", at=at)

    with pytest.raises(DeliveryError) as caught:
        send_email(settings_for(smtp_server), SENDER, a_mail())

    assert caught.value.retryable is retryable
    assert str(code) in str(caught.value)
    assert smtp_server.messages == []


def test_rejection_applies_to_the_next_send_only(smtp_server: SmtpServer) -> None:
    smtp_server.reject_next(451, "try later")
    with pytest.raises(DeliveryError):
        send_email(settings_for(smtp_server), SENDER, a_mail())

    send_email(settings_for(smtp_server), SENDER, a_mail())

    assert len(smtp_server.messages) == 1


def test_partial_refusal_is_not_retried_because_others_already_have_the_mail(
    smtp_server: SmtpServer,
) -> None:
    smtp_server.reject_next(550, "no such user")

    with pytest.raises(DeliveryError, match="gone@partner.test") as caught:
        send_email(
            settings_for(smtp_server), SENDER, a_mail(to="gone@partner.test, ana@partner.test")
        )

    assert caught.value.retryable is False
    assert [mail.rcpt_tos for mail in smtp_server.messages] == [["ana@partner.test"]]


def test_starttls_required_but_not_offered_is_a_permanent_failure(
    smtp_server: SmtpServer,
) -> None:
    with pytest.raises(DeliveryError, match="does not offer STARTTLS") as caught:
        send_email(settings_for(smtp_server, starttls=True), SENDER, a_mail())

    assert caught.value.retryable is False
    assert smtp_server.messages == []


def test_login_with_the_right_password_sends() -> None:
    with SmtpServer(credentials=("relay-user", "s3cret-pw")) as server:
        send_email(settings_for(server, user="relay-user", password="s3cret-pw"), SENDER, a_mail())

        assert len(server.messages) == 1


def test_wrong_password_is_permanent_and_never_shown() -> None:
    with SmtpServer(credentials=("relay-user", "s3cret-pw")) as server:
        settings = settings_for(server, user="relay-user", password="wrong-pw-123")

        with pytest.raises(DeliveryError) as caught:
            send_email(settings, SENDER, a_mail())

        assert caught.value.retryable is False
        assert "535" in str(caught.value)
        assert "wrong-pw-123" not in str(caught.value)
        assert "wrong-pw-123" not in repr(settings)
        assert server.messages == []


def test_login_against_a_server_without_auth_is_permanent(smtp_server: SmtpServer) -> None:
    settings = settings_for(smtp_server, user="relay-user", password="s3cret-pw")

    with pytest.raises(DeliveryError, match="does not offer AUTH") as caught:
        send_email(settings, SENDER, a_mail())

    assert caught.value.retryable is False
    assert "s3cret-pw" not in str(caught.value)


def test_server_that_never_answers_times_out_as_retryable() -> None:
    with socket.create_server((LOOPBACK, 0)) as silent:  # accepts into the backlog, never speaks
        settings = SmtpSettings(host=LOOPBACK, port=silent.getsockname()[1], timeout=0.2)

        with pytest.raises(DeliveryError) as caught:
            send_email(settings, SENDER, a_mail())

    assert caught.value.retryable
    assert "timed out" in str(caught.value)


def test_notice_headers_arrive_and_unknown_or_broken_ones_are_refused(
    smtp_server: SmtpServer,
) -> None:
    headers = {
        "In-Reply-To": "<conflict-1.abc@trustomer.test>",
        "References": "<conflict-1.abc@trustomer.test>",
        "Auto-Submitted": "auto-generated",
        "List-Unsubscribe": "<https://trustomer.test/mail/unsubscribe/t>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    send_email(settings_for(smtp_server), SENDER, a_mail(headers=headers))
    [mail] = smtp_server.messages
    for name, value in headers.items():
        assert mail.message[name] == value
    with pytest.raises(ValueError, match="Bcc is not a header notices may set"):
        build_message(SENDER, a_mail(headers={"Bcc": "everyone@example.com"}))
    with pytest.raises(ValueError, match="header injection"):
        build_message(SENDER, a_mail(headers={"References": "<a@b>\r\nBcc: everyone@example.com"}))
