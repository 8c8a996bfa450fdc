"""Every CSV the app offers: dated name, UTF-8 with a BOM, neutralised cells; and the queue's
export holds every conflict the page's filters match, not page 1."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

from tests.factories import make_admin, make_conflict, make_manager, make_partner, make_partner_user
from tracker.clock import utcnow
from tracker.services import conflicts

ROOT = Path(__file__).resolve().parents[2]


def _rows(response) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf"), raw[:10]
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))


def test_the_queue_exports_every_conflict_its_filters_match(browser) -> None:
    manager = make_manager()
    north, south = make_partner(name="North"), make_partner(name="South")
    north_user, south_user = make_partner_user(partner=north), make_partner_user(partner=south)
    for i in range(30):  # more than one page of 25
        make_conflict(north_user, title=f"Pallets short {i}", severity="high")
    make_conflict(north_user, title="Pallets short, low", severity="low")
    make_conflict(south_user, title="Pallets short elsewhere", severity="high")
    withdrawn = make_conflict(north_user, title="Pallets short, withdrawn", severity="high")
    conflicts.act(north_user, withdrawn.id, "withdraw", {"reason": "raised_in_error"}, now=utcnow())
    browser.login(manager.email)
    query = f"partner_id={north.id}&severity=high"
    page = browser.get(f"/console/queue?{query}&page=2").get_data(as_text=True)
    assert "all 30 matching conflicts" in page
    link = re.search(r'href="(/console/queue\.csv\?[^"]+)"', page)
    assert link and "page=" not in link.group(1)
    response = browser.get(link.group(1).replace("&amp;", "&"))
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = _rows(response)
    assert len(rows) == 30
    assert {r["partner"] for r in rows} == {"North"} and {r["severity"] for r in rows} == {"high"}
    assert "Pallets short, withdrawn" not in {r["title"] for r in rows}
    searched = _rows(browser.get("/console/queue.csv?q=elsewhere"))
    assert [r["title"] for r in searched] == ["Pallets short elsewhere"]


def test_the_queue_export_keeps_the_queues_order(browser) -> None:
    user = make_partner_user()
    first = make_conflict(user, title="Critical one", severity="critical")
    make_conflict(user, title="Low one", severity="low")
    browser.login(make_manager().email)
    rows = _rows(browser.get("/console/queue.csv"))
    assert rows[0]["reference"] == first.ref  # the soonest deadline leads, as on the page


def test_queue_export_neutralises_formulas_and_ignores_bad_filters(browser) -> None:
    user = make_partner_user()
    risky = [
        '=HYPERLINK("https://x.invalid")',
        "+1+1 invoice total",
        "-2+3 pallets short",
        "@SUM(A1) late payment",
    ]
    for title in risky:
        make_conflict(user, title=title)
    browser.login(make_manager().email)
    response = browser.get("/console/queue.csv?partner_id=abc&severity=nope&assignee=x&page=-1")
    assert response.status_code == 200
    titles = {r["title"] for r in _rows(response)}
    assert titles == {"'" + t for t in risky}


def test_partners_cannot_export_the_queue(browser) -> None:
    make_conflict(make_partner_user())
    browser.login(make_partner_user().email)
    assert browser.get("/console/queue.csv").status_code == 403


@pytest.mark.parametrize(
    ("role", "url", "name"),
    [
        ("manager", "/console/queue.csv", "trustomer-queue"),
        ("manager", "/console/reports.csv?by=month", "trustomer-report-by-month"),
        ("manager", "/console/portfolio.csv", "trust-portfolio"),
        ("manager", "/partners/{partner}/trust.csv", "trust-ledger-{partner}"),
        ("partner", "/portal/trust.csv", "trust-ledger-{partner}"),
        ("admin", "/admin/audit.csv", "admin-audit"),
    ],
)
def test_every_csv_is_dated_utf8_with_bom_and_not_cached(
    browser, role: str, url: str, name: str
) -> None:
    partner = make_partner(name="=Evil Partner")
    user = {
        "manager": make_manager,
        "admin": make_admin,
        "partner": lambda: make_partner_user(partner=partner),
    }[role]()
    make_conflict(make_partner_user(partner=partner), title="=cmd|' /C calc'!A0")
    browser.login(user.email)
    response = browser.get(url.format(partner=partner.id))
    assert response.status_code == 200 and response.mimetype == "text/csv"
    today = utcnow().date().isoformat()
    expected = f'attachment; filename="{name.format(partner=partner.id)}-{today}.csv"'
    assert response.headers["Content-Disposition"] == expected
    assert response.headers["Cache-Control"] == "no-store"
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")
    for row in csv.reader(io.StringIO(raw.decode("utf-8-sig"))):
        for cell in row:
            assert not cell.lstrip().startswith(("=", "+", "@", "\t", "\r")), (url, cell)


def test_every_csv_goes_through_csv_export() -> None:
    """One writer of CSV responses: a second one would forget the BOM, the date or the
    neutralising."""
    writers = [
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "tracker").rglob("*.py")
        if re.search(r'mimetype="text/csv"|csv\.writer\(', path.read_text(encoding="utf-8"))
    ]
    assert writers == ["tracker/web/csv_export.py"], writers


def test_the_partners_list_has_one_search_field_and_titles_are_links(browser) -> None:
    user = make_partner_user()
    conflict = make_conflict(user, title="Invoice paid late")
    browser.login(user.email)
    page = browser.get("/portal/conflicts").get_data(as_text=True)
    assert page.count('type="search"') == 1 and 'name="q"' in page
    assert f'<a href="/portal/conflicts/{conflict.id}">Invoice paid late</a>' in page
    assert re.search(r'<td[^>]*class="ref"[^>]*>' + re.escape(conflict.ref), page)
    manager = make_manager()
    browser.post("/auth/logout")
    browser.login(manager.email)
    queue_page = browser.get("/console/queue").get_data(as_text=True)
    assert f'<a href="/console/conflicts/{conflict.id}">Invoice paid late</a>' in queue_page
    assert re.search(r'<td[^>]*class="ref"[^>]*>' + re.escape(conflict.ref), queue_page)


def test_download_neutralises_every_text_cell_and_writes_numbers_as_they_are(app) -> None:
    from datetime import date

    from tracker.web.csv_export import download

    rows = [["=1+1", "+1", "-1", "@x", "\tx", "\rx", "plain", -2.5, 3]] * 1200  # several chunks
    with app.test_request_context("/"):
        response = download("check", date(2026, 12, 2), ["a"] * 9, iter(rows))
        raw = b"".join(response.response)
    assert response.headers["Content-Disposition"] == 'attachment; filename="check-2026-12-02.csv"'
    assert raw.startswith(b"\xef\xbb\xbf") and raw.count(b"\xef\xbb\xbf") == 1
    parsed = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert len(parsed) == 1201
    assert parsed[1] == ["'=1+1", "'+1", "'-1", "'@x", "'\tx", "'\rx", "plain", "-2.5", "3"]


def test_the_queue_export_reads_the_same_number_of_statements_for_5_and_25_rows(
    new_browser,
) -> None:
    from tests.statements import counting_statements
    from tests.web.test_query_counts import SLACK, _conflicts

    browser = new_browser()
    browser.login(make_manager().email)

    def statements() -> int:
        browser.get("/console/queue.csv")  # warm up
        with counting_statements() as seen:
            response = browser.get("/console/queue.csv")
        assert response.status_code == 200
        return len(seen)

    _conflicts(5)
    few = statements()
    _conflicts(20)
    many = statements()
    assert many - few <= SLACK, (few, many)
