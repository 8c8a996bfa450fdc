"""The admin Inbound mail page: every message seen, newest first, filterable, escaped."""

from __future__ import annotations

from datetime import timedelta

from tests.conftest import NOW
from tests.factories import make_admin
from tracker.services import inbound_mail


def _receive(raw: bytes, minutes: int = 0) -> None:
    inbound_mail.receive(raw, now=NOW + timedelta(minutes=minutes), source=inbound_mail.PIPE)


def test_admin_sees_every_message_with_its_outcome_and_conflict(world, browser) -> None:
    _receive(world.reply("gmail_reply.eml"))
    _receive(world.reply("out_of_office.eml"), 1)
    stranger = world.reply("gmail_reply.eml").replace(b"petra@acme.example", b"eve@evil.example")
    _receive(stranger.replace(b"gmailreply0001", b"stranger"), 2)
    browser.login(make_admin().email)

    html = browser.get("/admin/inbound-mail").get_data(as_text=True)

    assert 'href="/admin/inbound-mail"' in html  # in the navigation
    assert "&lt;CAHx7Yk3fQ9gmailreply0001@mail.gmail.example&gt;" in html
    assert f'href="/console/conflicts/{world.conflict.id}"' in html
    assert "unknown or deactivated sender" in html and "auto-submitted" in html
    # Newest first.
    assert html.index("eve@evil.example") < html.index("&lt;ooo-0001@acme.example&gt;")


def test_filters_by_outcome_and_sender(world, browser) -> None:
    _receive(world.reply("gmail_reply.eml"))
    _receive(world.reply("out_of_office.eml"), 1)
    browser.login(make_admin().email)

    dropped = browser.get("/admin/inbound-mail?outcome=dropped").get_data(as_text=True)
    by_sender = browser.get("/admin/inbound-mail?sender=nobody%25").get_data(as_text=True)

    assert "ooo-0001" in dropped and "gmailreply0001" not in dropped
    assert "No messages match." in by_sender  # % is a character, not a wildcard


def test_values_from_the_mail_are_escaped(world, browser) -> None:
    raw = world.reply("gmail_reply.eml").replace(
        b"Subject: Re: We need your answer:", b"Subject: <script>alert(1)</script>"
    )
    _receive(raw)
    browser.login(make_admin().email)

    html = browser.get("/admin/inbound-mail").get_data(as_text=True)

    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_only_admins_see_the_page(world, new_browser) -> None:
    manager = new_browser()
    manager.login(world.manager.email)
    assert manager.get("/admin/inbound-mail").status_code in (403, 404)
    partner = new_browser()
    partner.login(world.partner_user.email)
    assert partner.get("/admin/inbound-mail").status_code in (403, 404)
