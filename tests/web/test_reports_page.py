"""The Reports page: managers only, accessible charts, and CSV downloads that are safe to open."""

from __future__ import annotations

import csv
import io
import re

from tests.factories import (
    RESOLUTION,
    make_conflict,
    make_manager,
    make_partner,
    make_partner_user,
    triage,
)
from tracker.clock import utcnow
from tracker.services import conflicts


def _some_history() -> None:
    user = make_partner_user(partner=make_partner(name='=HYPERLINK("x")'))
    manager = make_manager()
    now = utcnow()
    for _ in range(2):
        conflict = make_conflict(user, category="delivery", now=now)
        triage(conflict, manager, now=now)
        conflicts.act(manager, conflict.id, "resolve", RESOLUTION, now=now)


def test_managers_see_the_report_with_charts_and_tables(browser) -> None:
    _some_history()
    browser.login(make_manager().email)
    html = browser.get("/console/reports").get_data(as_text=True)
    assert "<h1>Reports</h1>" in html
    assert html.count('role="img"') >= 2 and "<title" in html  # SVG charts with a title
    for heading in ("Per month", "Per category", "Per partner", "Per assignee"):
        assert heading in html
    assert re.search(
        r'<th scope="row" data-label="Category">Delivery</th>\s*<td data-label="Raised">2</td>',
        html,
    )
    assert "HYPERLINK(&#34;x&#34;)" in html or "HYPERLINK(&quot;x&quot;)" in html  # escaped


def test_partners_cannot_open_reports(browser) -> None:
    browser.login(make_partner_user().email)
    assert browser.get("/console/reports").status_code in (403, 404)
    assert browser.get("/console/reports.csv").status_code in (403, 404)


def test_the_csv_is_dated_utf8_with_bom_and_neutralised(browser) -> None:
    _some_history()
    browser.login(make_manager().email)
    response = browser.get("/console/reports.csv?by=partner")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    today = utcnow().date().isoformat()
    assert (
        f'filename="trustomer-report-by-partner-{today}.csv"'
        in response.headers["Content-Disposition"]
    )
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:4] == ["group", "raised", "triaged", "first_resolved"]
    assert rows[1][0] == '\'=HYPERLINK("x")' and rows[1][1:4] == ["2", "2", "2"]
    assert browser.get("/console/reports.csv?by=nothing").status_code == 404
