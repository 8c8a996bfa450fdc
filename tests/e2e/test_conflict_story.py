"""The whole story through the real pages, a partner and a manager in two browsers."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.factories import PASSWORD, make_manager, make_partner, make_partner_user

pytestmark = pytest.mark.e2e


def sign_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/auth/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def run_action(page: Page, name: str, fields: dict[str, str] | None = None) -> None:
    """Open an action's panel, fill its fields by label, submit (one click when it has none)."""
    if not fields:
        page.locator("form.action-single").get_by_role("button", name=name).click()
        return
    panel = page.locator("details.action-panel", has=page.locator("summary", has_text=name))
    panel.locator("summary").click()
    for label, value in (fields or {}).items():
        field = panel.get_by_label(label)
        if field.evaluate("el => el.tagName") == "SELECT":
            field.select_option(label=value)
        else:
            field.fill(value)
    panel.get_by_role("button", name=name).click()


def test_partner_and_manager_resolve_a_conflict_together(
    app, live_server, chromium, tmp_path
) -> None:
    maya = make_manager(name="Maya Okafor", email="maya@trustomer.example")
    partner = make_partner(name="Northwind Logistics", owner_id=maya.id)
    anna = make_partner_user(partner=partner, name="Anna Keller", email="anna@northwind.example")

    partner_page = chromium.new_context().new_page()
    manager_page = chromium.new_context().new_page()
    sign_in(partner_page, live_server, anna.email)
    sign_in(manager_page, live_server, maya.email)

    # The partner raises a conflict and sees it at once.
    partner_page.get_by_role("link", name="New conflict").click()
    partner_page.get_by_label("Title").fill("Invoice 4711 paid 20 days late")
    partner_page.get_by_label("Category").select_option(label="Payment terms")
    partner_page.get_by_label("How severe is it for you?").select_option(label="High")
    partner_page.get_by_label("What happened").fill("Terms are **30 days**; we were paid after 50.")
    partner_page.get_by_role("button", name="Raise conflict").click()
    expect(partner_page.locator(".flash-success")).to_contain_text("was raised")
    ref = re.search(r"TR-\d{4}-\d{5}", partner_page.locator("h1").inner_text()).group(0)
    expect(partner_page.locator(".markdown strong")).to_have_text("30 days")

    # The manager finds it in the queue (its title is the link) and triages it.
    manager_page.get_by_role("link", name="Queue").click()
    manager_page.get_by_role("row", name=re.compile(ref)).get_by_role(
        "link", name="Invoice 4711 paid 20 days late"
    ).click()
    run_action(manager_page, "Triage", {"Severity": "Critical", "Assignee": "Maya Okafor"})
    expect(manager_page.locator(".page-head .badge").first).to_have_text("Triaged")

    # An internal note stays internal; a request for information goes to the partner.
    manager_page.get_by_label("Message").fill("Finance batch run failed that week.")
    manager_page.get_by_role("button", name="Add internal note").click()
    run_action(
        manager_page, "Ask the partner", {"What do you need": "Please send the remittance advice."}
    )
    expect(manager_page.locator(".page-head .badge").first).to_have_text("Waiting on partner")

    partner_page.reload()
    expect(partner_page.locator(".page-head .badge").first).to_have_text("Waiting for your answer")
    expect(partner_page.locator("#timeline")).to_contain_text("Please send the remittance advice.")
    expect(partner_page.locator("body")).not_to_contain_text("Finance batch run failed")
    partner_page.get_by_label("Message").fill("Remittance advice: paid on day 50, reference 4711.")
    partner_page.get_by_role("button", name="Send comment").click()
    expect(partner_page.locator(".page-head .badge").first).to_have_text("In progress")

    # The manager sees the reply, resolves with accountability; the partner disputes.
    manager_page.reload()
    expect(manager_page.locator("#timeline")).to_contain_text(
        "resumed work after the partner's reply"
    )
    resolution = {
        "Resolution summary": "Paid the interest for 20 days.",
        "Root cause": "Process gap",
        "Accountable side": "Us (the alliance team)",
    }
    run_action(manager_page, "Resolve", resolution)
    expect(manager_page.locator(".page-head .badge").first).to_have_text("Resolved")

    partner_page.reload()
    expect(partner_page.locator(".resolution")).to_contain_text(
        "Accountable: Us (the alliance team)"
    )
    run_action(
        partner_page, "Dispute the resolution", {"Reason": "The late-payment fee is missing."}
    )
    expect(partner_page.locator(".page-head .badge").first).to_have_text("In progress")

    # The manager resolves again; the partner accepts.
    manager_page.reload()
    expect(manager_page.locator("#timeline")).to_contain_text("The late-payment fee is missing.")
    resolution["Resolution summary"] = "Paid interest and the agreed late-payment fee."
    run_action(manager_page, "Resolve", resolution)
    partner_page.reload()
    run_action(partner_page, "Accept the resolution")
    expect(partner_page.locator(".page-head .badge").first).to_have_text("Closed")

    manager_page.reload()
    expect(manager_page.locator(".page-head .badge").first).to_have_text("Closed")
    timeline = manager_page.locator("#timeline")
    for step in (
        "raised the conflict",
        "triaged it",
        "asked the partner",
        "disputed the resolution",
        "accepted the resolution",
    ):
        expect(timeline).to_contain_text(step)
    expect(timeline.locator("li.event.internal")).to_have_count(1)
    manager_page.screenshot(path=str(tmp_path / "manager-view.png"), full_page=True)
    partner_page.screenshot(path=str(tmp_path / "partner-view.png"), full_page=True)
