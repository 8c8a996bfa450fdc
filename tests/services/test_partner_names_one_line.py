"""A partner's name goes into mail subjects: it is kept on one line where it is entered, and
a name stored before that rule still cannot make a mail unsendable."""

from __future__ import annotations

import pytest

from tests.conftest import NOW
from tests.factories import make_partner
from tests.servers import SmtpServer
from tracker.channels.email import OutgoingEmail, SmtpSettings, build_message, send_email
from tracker.extensions import db
from tracker.services import partners
from tracker.services.errors import InvalidInput


@pytest.mark.parametrize(
    "name", ["North\r\nwind", "North\nBcc: all@x.example", "North\u2028wind", "North\x00wind"]
)
def test_a_partner_name_must_be_one_line(app, name: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        partners.create_partner(name=name, tier="standard", timezone="Europe/Berlin", now=NOW)
    assert "one line" in caught.value.field_errors["name"]


def test_renaming_to_a_multi_line_name_is_refused_too(app) -> None:
    partner = make_partner()
    with pytest.raises(InvalidInput) as caught:
        partners.update_partner(
            partner.id, name="North\rwind", tier=partner.tier, timezone=partner.timezone,
            country=partner.country, owner_id=partner.owner_id, active=True,
        )  # fmt: skip
    assert "name" in caught.value.field_errors


def test_subject_and_display_names_are_put_on_one_line_at_the_header() -> None:
    message = build_message(
        '"Trust\r\nomer" <noreply@trustomer.example>',
        OutgoingEmail(
            to="Ana\nBcc: all@x.example <ana@partner.example>",
            subject="[Trustomer] Trust is falling: North\r\nwind\u2028Ltd",
            text="x",
        ),
    )
    assert message["Subject"] == "[Trustomer] Trust is falling: North wind Ltd"
    assert message["From"].addresses[0].addr_spec == "noreply@trustomer.example"
    assert [a.addr_spec for a in message["To"].addresses] == ["ana@partner.example"]
    assert "\n" not in str(message["To"]) and "\n" not in str(message["From"])


def test_a_stored_multi_line_name_still_lets_the_alert_be_sent(
    app, smtp_server: SmtpServer
) -> None:
    partner = make_partner()
    partner.name = "Old\r\nName Ltd"  # written before names were checked
    db.session.commit()
    send_email(
        SmtpSettings(host=smtp_server.host, port=smtp_server.port),
        "Trustomer <noreply@trustomer.example>",
        OutgoingEmail(
            to="owner@trustomer.example",
            subject=f"[Trustomer] Trust is falling: {partner.name}",
            text="x",
        ),
    )
    [mail] = smtp_server.messages
    assert mail.message["Subject"] == "[Trustomer] Trust is falling: Old Name Ltd"
    assert mail.rcpt_tos == ["owner@trustomer.example"]
