"""Every id on a page is unique: pages with several forms once repeated id="csrf_token"
(invalid HTML; a label or aria reference then points at the wrong element)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.factories import (
    WHEN,
    make_admin,
    make_conflict,
    make_manager,
    make_partner,
    make_partner_user,
)
from tests.factories import triage as triage_conflict
from tracker.jobs.sweep import sweep

ROOT = Path(__file__).resolve().parents[2]


class _Ids(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: Counter[str] = Counter()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name == "id" and value is not None:
                self.ids[value] += 1


def duplicate_ids(html: str) -> list[str]:
    parser = _Ids()
    parser.feed(html)
    return sorted(i for i, n in parser.ids.items() if n > 1)


@pytest.fixture
def world():  # type: ignore[no-untyped-def]
    """A manager, an admin and a partner, an escalated conflict and a triaged one."""
    manager, admin = make_manager(), make_admin()
    partner = make_partner(owner_id=manager.id)
    user = make_partner_user(partner=partner)
    escalated = make_conflict(user, severity="critical", now=WHEN)
    triaged = make_conflict(user, now=WHEN)
    triage_conflict(triaged, manager, now=WHEN + timedelta(minutes=5))
    make_conflict(make_partner_user(partner=partner), title="Second open conflict", now=WHEN)
    sweep(WHEN + timedelta(days=1))
    return {"manager": manager, "admin": admin, "partner": user, "p": partner,
            "escalated": escalated, "triaged": triaged}  # fmt: skip


STAFF_PAGES = [
    "/console/queue",
    "/console/conflicts/{escalated}",
    "/console/conflicts/{triaged}",
    "/console/escalations",
    "/console/reports",
    "/console/portfolio",
    "/partners/",
    "/partners/{partner_id}",
    "/partners/{partner_id}/trust",
    "/account/",
    "/account/tokens",
    "/notifications",
    "/notifications/preferences",
    "/auth/password",
]
ADMIN_PAGES = [
    "/admin/users",
    "/admin/users/new",
    "/admin/users/{manager_id}",
    "/admin/partners/new",
    "/admin/partners/{partner_id}/edit",
    "/admin/agreements",
    "/admin/agreements/calendars/new",
    "/admin/agreements/policies/new",
    "/admin/outbox",
    "/admin/audit",
    "/admin/inbound-mail",
    "/admin/settings",
]
PARTNER_PAGES = [
    "/portal/conflicts",
    "/portal/conflicts/new",
    "/portal/conflicts/{escalated}",
    "/portal/conflicts/{triaged}",
    "/portal/trust",
    "/organisation",
    "/account/",
    "/account/webhooks",
    "/notifications",
]


@pytest.mark.parametrize(
    ("role", "pages"),
    [("manager", STAFF_PAGES), ("admin", STAFF_PAGES + ADMIN_PAGES), ("partner", PARTNER_PAGES)],
)
def test_no_page_repeats_an_id(browser, world, role: str, pages: list[str]) -> None:
    browser.login(world[role].email)
    values = {
        "escalated": world["escalated"].id,
        "triaged": world["triaged"].id,
        "partner_id": world["p"].id,
        "manager_id": world["manager"].id,
    }
    for page in pages:
        url = page.format(**values)
        response = browser.get(url)
        assert response.status_code == 200, url
        html = response.get_data(as_text=True)
        assert duplicate_ids(html) == [], url
        assert 'id="csrf_token"' not in html, url


def test_the_sign_in_page_has_unique_ids(client) -> None:
    assert duplicate_ids(client.get("/auth/login").get_data(as_text=True)) == []


def test_templates_render_hidden_fields_without_ids() -> None:
    """`form.hidden_tag()` gives every CSRF input id="csrf_token"; `hidden_fields(form)` none."""
    offenders = [
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "templates").rglob("*.html")
        if "hidden_tag(" in p.read_text(encoding="utf-8")
    ]
    assert offenders == []


@pytest.mark.parametrize("lang", ["de", "fr"])
def test_the_api_reference_says_it_is_english_on_a_translated_request(client, lang: str) -> None:
    """The reference is deliberately English (generated from the OpenAPI contract): marked
    lang="en" and introduced in the reader's language, never English passed off as German."""
    html = client.get("/api/v1/docs", headers={"Accept-Language": lang}).get_data(as_text=True)
    assert f'<html lang="{lang}"' in html
    assert '<section class="card api-docs" lang="en">' in html
    assert "OpenAPI" in html and "This reference is in English" not in html
    assert duplicate_ids(html) == []


def test_the_api_reference_needs_no_notice_in_english(client) -> None:
    html = client.get("/api/v1/docs", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="en"' in html and "api-docs-language" not in html
