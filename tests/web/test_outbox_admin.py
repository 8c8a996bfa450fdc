"""The admin Outbox page: admins see what waits and what failed, and retry by hand."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.conftest import NOW
from tests.factories import make_admin, make_manager, make_partner_user
from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import OutboxMessage
from tracker.services import outbox


@pytest.fixture
def mail(app, smtp_server):  # type: ignore[no-untyped-def]
    app.config.update(SMTP_HOST=smtp_server.host, SMTP_PORT=smtp_server.port)
    return smtp_server


def _queue(key: str, **overrides) -> OutboxMessage:  # type: ignore[no-untyped-def]
    values = {
        "dedupe_key": key,
        "address": f"{key}@partner.test",
        "subject": f"Subject for {key}",
        "text": "Body",
        "html": None,
        "now": NOW,
    }
    values.update(overrides)
    outbox.enqueue_email(**values)
    db.session.commit()  # enqueued rows are written with the transaction
    return db.session.scalar(select(OutboxMessage).where(OutboxMessage.dedupe_key == key))


def _failed(mail, key: str = "bounced") -> OutboxMessage:  # type: ignore[no-untyped-def]
    message = _queue(key)
    mail.reject_next(550, "no such user here")
    assert outbox.deliver_due(NOW).gave_up == 1
    return message


def test_admin_sees_messages_with_their_state_and_last_error(browser, mail) -> None:
    failed = _failed(mail)
    _queue("waiting", now=NOW + timedelta(hours=1))
    outbox.enqueue_webhook(
        dedupe_key="hook", url="https://hooks.example/in?token=s3cr3t-token", payload={}, now=NOW
    )
    db.session.commit()
    hook = db.session.scalar(select(OutboxMessage).where(OutboxMessage.dedupe_key == "hook"))
    browser.login(make_admin().email)

    html = browser.get("/admin/outbox").get_data(as_text=True)

    assert "bounced@partner.test" in html and "Subject for bounced" in html
    assert "550 no such user here" in html
    assert "waiting@partner.test" in html
    assert "https://hooks.example/" in html and "s3cr3t-token" not in html
    assert f"/admin/outbox/{failed.id}/retry" in html
    assert html.index(f"<td>{hook.id}</td>") < html.index(f"<td>{failed.id}</td>")  # newest first


def test_status_filter_shows_only_that_status(browser, mail) -> None:
    _failed(mail)
    _queue("waiting")
    browser.login(make_admin().email)

    html = browser.get("/admin/outbox?status=failed").get_data(as_text=True)

    assert "bounced@partner.test" in html
    assert "waiting@partner.test" not in html
    assert "Failed (1)" in html and "Pending (1)" in html


def test_the_page_holds_fifty_messages_newest_first(browser) -> None:
    for n in range(51):
        _queue(f"user{n:02d}")
    browser.login(make_admin().email)
    first = browser.get("/admin/outbox").get_data(as_text=True)
    second = browser.get("/admin/outbox?page=2").get_data(as_text=True)
    assert "user50@partner.test" in first and "user00@partner.test" not in first
    assert "user00@partner.test" in second and "51 in all" in second


def test_admin_retries_a_failed_message_and_it_is_then_delivered(browser, mail) -> None:
    message = _failed(mail)
    browser.login(make_admin().email)

    response = browser.post(f"/admin/outbox/{message.id}/retry", follow_redirects=True)

    assert response.status_code == 200
    assert f"Message #{message.id} is queued again" in response.get_data(as_text=True)
    row = db.session.get(OutboxMessage, message.id)
    assert (row.status, row.attempts) == ("pending", 0)
    assert outbox.deliver_due(utcnow() + timedelta(seconds=1)).sent == 1
    assert len(mail.messages) == 1


def test_retrying_a_message_that_has_not_failed_changes_nothing(browser) -> None:
    message = _queue("waiting")
    browser.login(make_admin().email)

    response = browser.post(f"/admin/outbox/{message.id}/retry", follow_redirects=True)

    assert "Only failed messages can be retried" in response.get_data(as_text=True)
    assert browser.post("/admin/outbox/999999/retry").status_code == 404


def test_retry_without_a_csrf_token_is_refused(browser, mail) -> None:
    message = _failed(mail)
    browser.login(make_admin().email)
    response = browser.client.post(f"/admin/outbox/{message.id}/retry")
    assert response.status_code == 400
    assert db.session.get(OutboxMessage, message.id).status == "failed"


@pytest.mark.parametrize("make_user", [make_manager, make_partner_user], ids=["manager", "partner"])
def test_only_admins_may_see_or_retry_the_outbox(browser, mail, make_user) -> None:
    message = _failed(mail)
    browser.login(make_user().email)
    assert browser.get("/admin/outbox").status_code == 403
    assert browser.post(f"/admin/outbox/{message.id}/retry").status_code == 403
    assert db.session.get(OutboxMessage, message.id).status == "failed"


def test_anonymous_visitors_are_sent_to_sign_in(client) -> None:
    response = client.get("/admin/outbox")
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]
