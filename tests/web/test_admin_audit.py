"""Admin changes are recorded (who, when, before, after), on the chain, and listed for admins
with filters and a CSV that spreadsheets read safely."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from tests.factories import WHEN, make_admin, make_manager, make_partner, make_partner_user
from tests.web.test_admin_agreements import POLICY_FORM
from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import AdminAuditEntry, OutboxMessage
from tracker.services import (
    admin_audit,
    api_tokens,
    audit_chain,
    outbox,
    partner_webhooks,
    partners,
)


def _entries(kind: str | None = None) -> list[AdminAuditEntry]:
    query = select(AdminAuditEntry).order_by(AdminAuditEntry.chain_seq)
    if kind:
        query = query.where(AdminAuditEntry.kind == kind)
    return list(db.session.scalars(query))


def _signed_in_admin(browser):  # type: ignore[no-untyped-def]
    admin = make_admin(name="Ada Admin", email="ada@trustomer.example")
    browser.login(admin.email)
    return admin


def test_partner_changes_through_the_pages_are_recorded_with_before_and_after(browser) -> None:
    admin = _signed_in_admin(browser)
    owner = make_manager(name="Maya Okafor")
    form = {"name": "Bluefin Systems", "tier": "preferred", "timezone": "America/New_York",
            "country": "us", "owner_id": str(owner.id)}  # fmt: skip
    assert browser.post("/admin/partners/new", form).status_code == 302
    (created,) = _entries("partner.created")
    assert (created.actor_id, created.actor_label) == (
        admin.id,
        "Ada Admin <ada@trustomer.example>",
    )
    assert created.before is None and created.after["tier"] == "preferred"
    partner_id = int(created.subject.split()[0].removeprefix("partner:"))
    browser.post(f"/admin/partners/{partner_id}/edit", {**form, "tier": "strategic", "active": "y"})
    (updated,) = _entries("partner.updated")
    assert (updated.before["tier"], updated.after["tier"]) == ("preferred", "strategic")
    assert updated.at >= created.at


def test_saving_a_form_unchanged_records_nothing(app) -> None:
    partner = make_partner(name="Kestrel")
    before = len(_entries())
    partners.update_partner(
        partner.id, name="Kestrel", tier=partner.tier, timezone=partner.timezone,
        country=partner.country, owner_id=partner.owner_id, now=WHEN,
    )  # fmt: skip
    assert len(_entries()) == before


def test_users_roles_agreements_reapply_and_outbox_retry_are_recorded(browser) -> None:
    admin = _signed_in_admin(browser)
    partner = make_partner(name="Northwind")
    response = browser.post(
        "/admin/users/new", {"email": "jonas@northwind.example", "name": "Jonas", "role": "partner",
                             "partner_id": str(partner.id)},
    )  # fmt: skip
    assert response.status_code == 302
    created = _entries("user.created")[-1]
    assert created.actor_id == admin.id and created.after["role"] == "partner"
    assert "password" not in str(created.after)
    user_id = int(created.subject.split()[0].removeprefix("user:"))
    browser.post(f"/admin/users/{user_id}/active")
    (off,) = _entries("user.deactivated")
    assert (off.before["active"], off.after["active"]) == (True, False)

    assert browser.post("/admin/agreements/policies/new", POLICY_FORM).status_code == 302
    (policy,) = _entries("policy.created")
    policy_id = int(policy.subject.split()[0].removeprefix("policy:"))
    browser.post(
        f"/admin/agreements/policies/{policy_id}/edit", {**POLICY_FORM, "high_triage": "2"}
    )
    (changed,) = _entries("policy.updated")
    assert changed.before["targets"]["high"]["triage_minutes"] == 240
    assert changed.after["targets"]["high"]["triage_minutes"] == 120
    browser.post(f"/admin/agreements/policies/{policy_id}/reapply")
    (reapplied,) = _entries("policy.reapplied")
    assert reapplied.after == {"policy": POLICY_FORM["name"], "conflicts": 0}

    outbox.enqueue_email(dedupe_key="x", address="a@northwind.example", subject="s", text="t",
                         html=None, now=WHEN)  # fmt: skip
    db.session.commit()
    db.session.execute(update(OutboxMessage).values(status="failed", attempts=8))
    db.session.commit()
    message = db.session.scalar(select(OutboxMessage))
    browser.post(f"/admin/outbox/{message.id}/retry")
    (retried,) = _entries("outbox.retried")
    assert (retried.before, retried.after) == (
        {"status": "failed", "attempts": 8},
        {"status": "pending", "attempts": 0},
    )
    assert audit_chain.verify_all().intact


def test_tokens_and_webhooks_are_recorded_without_their_secrets(app) -> None:
    user = make_partner_user(partner=make_partner(name="Northwind"), email="anna@northwind.example")
    token, raw = api_tokens.create(user, name="ERP", scope="read", now=utcnow())
    api_tokens.revoke(user, token.id, utcnow())
    hook, secret = partner_webhooks.create(
        user, url="https://hooks.northwind.example/t", events=None, now=utcnow(), resolved=True
    )
    partner_webhooks.deactivate(user, hook.id, utcnow())
    kinds = [e.kind for e in _entries()]
    for kind in ("token.created", "token.revoked", "webhook.created", "webhook.deactivated"):
        assert kind in kinds
    text = " ".join(str((e.before, e.after, e.subject)) for e in _entries())
    assert raw not in text and token.token_hash not in text and secret not in text


def test_the_log_is_append_only_in_the_application(app) -> None:
    make_partner(name="Northwind")
    entry = _entries()[0]
    entry.subject = "something else"
    with pytest.raises(RuntimeError):
        db.session.flush()
    db.session.rollback()
    with pytest.raises(RuntimeError):
        db.session.delete(_entries()[0])
        db.session.flush()
    db.session.rollback()


def test_the_page_filters_by_actor_kind_and_days(browser) -> None:
    admin = _signed_in_admin(browser)
    other = make_admin(name="Bo Other", email="bo@trustomer.example")
    partners.create_partner(name="Early", tier="standard", timezone="UTC", now=WHEN, actor=other)
    later = WHEN + timedelta(days=3)
    partners.create_partner(name="Later", tier="standard", timezone="UTC", now=later, actor=admin)
    page = browser.get("/admin/audit").get_data(as_text=True)
    assert "Early" in page and "Later" in page
    by_other = browser.get(f"/admin/audit?actor={other.id}").get_data(as_text=True)
    assert "partner:" in by_other and "Early" in by_other and "Later" not in by_other
    days = browser.get("/admin/audit?since=2026-11-18&until=2026-11-19").get_data(as_text=True)
    assert "Later" in days and "Early" not in days
    kinds = browser.get("/admin/audit?kind=user.created").get_data(as_text=True)
    assert "Early" not in kinds and "bo@trustomer.example" in kinds
    bad = browser.get("/admin/audit?actor=x&since=yesterday&kind=nope")
    assert bad.status_code == 200 and "Check the filters" in bad.get_data(as_text=True)
    assert browser.get("/admin/audit.csv?since=yesterday").status_code == 400
    # Dates at the ends of the calendar are refused, not overflowed into a 500.
    for far in ("until=9999-12-31", "since=0001-01-01"):
        page = browser.get(f"/admin/audit?{far}")
        assert page.status_code == 200 and "between 2000 and 2100" in page.get_data(as_text=True)
        assert browser.get(f"/admin/audit.csv?{far}").status_code == 400


def test_csv_is_dated_utf8_with_bom_and_neutralised(browser) -> None:
    _signed_in_admin(browser)
    evil = make_admin(name="=HYPERLINK(1)", email="evil@trustomer.example")
    partners.create_partner(name="Größe Ltd", tier="standard", timezone="UTC", now=WHEN, actor=evil)
    response = browser.get("/admin/audit.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    today = utcnow().date().isoformat()
    disposition = response.headers["Content-Disposition"]
    assert disposition == f'attachment; filename="admin-audit-{today}.csv"'
    assert response.headers["Cache-Control"] == "no-store"
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == list(admin_audit.CSV_HEADER)
    (row,) = [r for r in rows if r[2] == "partner.created"]
    assert row[3] == "partner:1 Größe Ltd" and row[5].startswith("active: True")
    assert row[1] == "'=HYPERLINK(1) <evil@trustomer.example>"  # shown as text, never run
    assert row[0].endswith("Z") and len(row[7]) == 64


def test_only_admins_see_the_log(browser) -> None:
    manager = make_manager(email="maya@trustomer.example")
    browser.login(manager.email)
    assert browser.get("/admin/audit").status_code in (403, 404)
    assert browser.get("/admin/audit.csv").status_code in (403, 404)
