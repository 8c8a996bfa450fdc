"""Trust pages: the same numbers for both sides, each partner only its own, exports, portfolio."""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET  # noqa: S405  (parsing our own SVG)
from datetime import UTC, datetime, timedelta

from tests.factories import (
    RESOLUTION,
    make_conflict,
    make_manager,
    make_partner,
    make_partner_user,
    triage,
)
from tracker.domain import trust as model
from tracker.extensions import db
from tracker.models import Conflict, Rating
from tracker.services import conflicts, trust


def _closed_loop(user, manager, title: str = "Late invoice payment"):  # type: ignore[no-untyped-def]
    now = datetime.now(UTC) - timedelta(days=3)
    conflict = make_conflict(user, severity="high", title=title, now=now)
    triage(conflict, manager, now=now + timedelta(minutes=30))
    conflicts.act(manager, conflict.id, "resolve", RESOLUTION, now=now + timedelta(hours=2))
    conflicts.act(user, conflict.id, "accept", {}, now=now + timedelta(hours=3))
    return conflict


def test_partner_reads_its_own_record_with_the_same_numbers_as_managers(new_browser) -> None:
    manager = make_manager()
    user = make_partner_user()
    conflict = _closed_loop(user, manager)
    partner_view = new_browser()
    partner_view.login(user.email)
    own = partner_view.get("/portal/trust").get_data(as_text=True)
    staff = new_browser()
    staff.login(manager.email)
    theirs = staff.get(f"/partners/{user.partner_id}/trust").get_data(as_text=True)
    for html in (own, theirs):
        assert conflict.ref in html and "Our delivery" in html and "Partner responsiveness" in html
        assert "Most likely between" in html  # the range in words, not "90% credible"
    score = round(trust.scores(user.partner_id, datetime.now(UTC))["delivery"].score)
    assert f"<strong>{score}</strong>" in own and f"<strong>{score}</strong>" in theirs


def test_a_partner_cannot_read_another_partners_trust(browser) -> None:
    other = make_partner(name="Other Co")
    user = make_partner_user()
    browser.login(user.email)
    assert browser.get(f"/partners/{other.id}/trust").status_code == 403
    assert browser.get(f"/partners/{other.id}/trust.csv").status_code == 403
    assert browser.get("/console/portfolio").status_code == 403
    assert "Other Co" not in browser.get("/portal/trust").get_data(as_text=True)


def test_trend_chart_is_accessible_svg_with_a_table_fallback(browser) -> None:
    manager = make_manager()
    user = make_partner_user()
    _closed_loop(user, manager)
    browser.login(manager.email)
    html = browser.get(f"/partners/{user.partner_id}/trust").get_data(as_text=True)
    chart = html[html.index('<div class="chart"') :]
    svg = chart[chart.index("<svg") : chart.index("</svg>") + len("</svg>")]
    root = ET.fromstring(svg)  # noqa: S314
    assert root.get("role") == "img"
    assert "Trust scores of" in svg and "<desc" in svg
    assert "<caption>Trust scores per month end" in html


def test_ledger_csv_export(browser) -> None:
    manager = make_manager()
    user = make_partner_user()
    conflict = _closed_loop(user, manager, title="=HYPERLINK(evil)")
    browser.login(user.email)
    response = browser.get("/portal/trust.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    kinds = {r["kind"] for r in rows}
    assert {"resolved", "accepted"} <= kinds
    accepted = next(r for r in rows if r["kind"] == "accepted")
    assert accepted["conflict"] == conflict.ref and accepted["sla_met"] == "true"
    assert float(accepted["weight"]) == 1.5


def test_portfolio_shows_falling_partners_first_and_exports(browser) -> None:
    manager = make_manager()
    falling = make_partner(name="Falling Co")
    steady = make_partner(name="Steady Co")
    now = datetime.now(UTC)
    for day in (40, 39):
        trust.record(falling.id, "delivery", "test", now - timedelta(days=day),
                     evidence=model.Evidence(2.0, "sla_met", "good"))  # fmt: skip
    trust.record(falling.id, "delivery", "test", now - timedelta(days=2),
                 evidence=model.Evidence(-3.0, "sla_breach", "bad"))  # fmt: skip
    trust.record(steady.id, "delivery", "test", now - timedelta(days=40),
                 evidence=model.Evidence(1.0, "sla_met", "good"))  # fmt: skip
    db.session.commit()
    browser.login(manager.email)
    html = browser.get("/console/portfolio").get_data(as_text=True)
    assert html.index("Falling Co") < html.index("Steady Co")
    by_name = browser.get("/console/portfolio?sort=name").get_data(as_text=True)
    assert by_name.index("Falling Co") < by_name.index("Steady Co")
    exported = browser.get("/console/portfolio.csv").get_data(as_text=True)
    assert exported.startswith("\ufeff")  # UTF-8 with a BOM, like every CSV
    assert exported.splitlines()[0].startswith("\ufeffpartner,tier,delivery_score")
    assert "Falling Co" in exported and "Steady Co" in exported


def test_partner_rates_a_closed_conflict_from_its_page(browser) -> None:
    manager = make_manager()
    user = make_partner_user()
    conflict = _closed_loop(user, manager)
    browser.login(user.email)
    page = browser.get(f"/portal/conflicts/{conflict.id}").get_data(as_text=True)
    assert "Rate the resolution" in page
    browser.post(f"/portal/conflicts/{conflict.id}/rate", {"stars": "4", "comment": "Fair."})
    assert db.session.query(Rating).filter_by(conflict_id=conflict.id, stars=4).count() == 1
    page = browser.get(f"/portal/conflicts/{conflict.id}").get_data(as_text=True)
    assert "You rated this resolution 4 of 5" in page
    again = browser.post(
        f"/portal/conflicts/{conflict.id}/rate", {"stars": "1"}, follow_redirects=True
    )
    assert "already rated" in again.get_data(as_text=True)
    bad = browser.post(
        f"/portal/conflicts/{conflict.id}/rate", {"stars": "9"}, follow_redirects=True
    )
    assert "Choose 1 to 5 stars" in bad.get_data(as_text=True)
    assert db.session.get(Conflict, conflict.id).status == "closed"


def test_manager_logs_a_check_in(browser) -> None:
    manager = make_manager()
    partner = make_partner()
    browser.login(manager.email)
    browser.post(f"/partners/{partner.id}/check-ins", {"note": "Quarterly review: all good."})
    html = browser.get(f"/partners/{partner.id}/trust").get_data(as_text=True)
    assert "Quarterly review: all good." in html
    assert db.session.get(type(partner), partner.id).last_contact_at is not None


def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised() -> None:
    from tracker.web.csv_export import safe_cell as _csv_safe

    for risky in ("=1+1", "+SUM(A1)", "-2", "@cmd", "\t=1", "\r=1", "  =HYPERLINK(x)"):
        assert _csv_safe(risky).startswith("'"), risky
    assert _csv_safe("Northwind Logistics") == "Northwind Logistics"


def _old_closed_loop(user, manager, days_ago: int):  # type: ignore[no-untyped-def]
    now = datetime.now(UTC) - timedelta(days=days_ago)
    conflict = make_conflict(user, severity="high", now=now)
    triage(conflict, manager, now=now + timedelta(minutes=30))
    conflicts.act(manager, conflict.id, "resolve", RESOLUTION, now=now + timedelta(hours=2))
    conflicts.act(user, conflict.id, "accept", {}, now=now + timedelta(hours=3))
    return conflict


def test_the_trust_page_speaks_plainly_and_explains_a_small_sample(browser) -> None:
    manager = make_manager()
    user = make_partner_user()
    _closed_loop(user, manager)
    browser.login(user.email)
    html = browser.get("/portal/trust").get_data(as_text=True)
    assert "Most likely between" in html
    assert "Only a few conflicts so far; this score can still swing." in html
    assert "Every result so far was good." in html
    assert "Last 30 days: up" in html
    for jargon in ("credible", "points of good", "of bad evidence", "±0", "closes the loop"):
        assert jargon not in html
    assert "No effect yet: " in html and "counts once the partner accepts it" in html


def test_a_score_that_only_fades_is_shown_neutral(browser) -> None:
    manager = make_manager()
    user = make_partner_user()
    _old_closed_loop(user, manager, days_ago=90)
    browser.login(user.email)
    html = browser.get("/portal/trust").get_data(as_text=True)
    assert '<p class="change fading">Last 30 days: -' in html
    assert "only because older results count a little less" in html
    assert 'class="change falling"' not in html


def test_the_trend_chart_stays_readable_and_scrollable_on_a_phone(browser) -> None:
    from pathlib import Path

    from tracker.web import charts

    manager = make_manager()
    user = make_partner_user()
    _closed_loop(user, manager)
    browser.login(manager.email)
    html = browser.get(f"/partners/{user.partner_id}/trust").get_data(as_text=True)
    assert '<div class="chart" tabindex="0" role="region" aria-label="' in html
    css = (Path(charts.__file__).parent.parent / "static" / "style.css").read_text()
    rule = re.search(r"\.chart svg \{[^}]*min-width: (\d+)rem", css)
    assert rule is not None
    # The SVG is 640 units wide; kept at least this wide its text renders >= 11 px.
    assert charts._FONT_SIZE * int(rule.group(1)) * 16 / 640 >= 11
    for table in re.findall(r'<div class="table-wrap"[^>]*>', html):
        assert 'tabindex="0"' in table and "aria-label=" in table
