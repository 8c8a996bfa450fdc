"""List pages read a constant number of SQL statements, however many rows they show,
and show them in the order they promise."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.factories import (
    WHEN,
    make_admin,
    make_conflict,
    make_manager,
    make_partner,
    make_partner_user,
)
from tests.statements import counting_statements
from tracker.domain import trust as model
from tracker.domain import workflow
from tracker.extensions import db
from tracker.jobs.sweep import sweep
from tracker.models import Conflict
from tracker.services import (
    agreements,
    attachments,
    conflicts,
    escalations,
    portfolio,
    sla,
    trust,
    trust_record,
)

MONDAY_10_BERLIN = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
AFTER_CRITICAL = datetime(2026, 11, 16, 10, 30, tzinfo=UTC)  # warning, breach and critical
# Loading the signed-in user and the bell's count may vary a little; rows must not.
SLACK = 2


def statements_for(browser, url: str) -> int:  # type: ignore[no-untyped-def]
    browser.get(url)  # warm up: first-request work is not the page's
    with counting_statements() as statements:
        response = browser.get(url)
    assert response.status_code == 200, url
    return len(statements)


def _conflicts(count: int, **overrides) -> None:  # type: ignore[no-untyped-def]
    for i in range(count):
        owner = make_manager()
        partner = make_partner(owner_id=owner.id)
        user = make_partner_user(partner=partner)
        conflict = make_conflict(user, title=f"Conflict number {i}", **overrides)
        conflicts.assign(owner, conflict.id, owner.id, now=conflict.created_at)


@pytest.fixture
def signed_in_manager(new_browser):  # type: ignore[no-untyped-def]
    def sign_in():  # type: ignore[no-untyped-def]
        browser = new_browser()
        browser.login(make_manager().email)
        return browser

    return sign_in


def test_queue_reads_the_same_number_of_statements_for_5_and_25_conflicts(
    signed_in_manager,
) -> None:
    browser = signed_in_manager()
    _conflicts(5)
    few = statements_for(browser, "/console/queue")
    _conflicts(20)
    many = statements_for(browser, "/console/queue")
    assert many - few <= SLACK, (few, many)


@pytest.mark.parametrize("url", ["/console/queue?q=conflict+number", "/console/queue?q=invoice"])
def test_queue_search_reads_the_same_number_of_statements_for_5_and_25_matches(
    signed_in_manager, url: str
) -> None:
    browser = signed_in_manager()
    _conflicts(5)
    few = statements_for(browser, url)
    _conflicts(20)
    many = statements_for(browser, url)
    assert many - few <= SLACK, (few, many)


def test_portal_search_reads_the_same_number_of_statements_for_5_and_20_matches(
    new_browser,
) -> None:
    user = make_partner_user()
    browser = new_browser()
    browser.login(user.email)
    for i in range(5):
        make_conflict(user, title=f"Pallets late, case {i}")
    few = statements_for(browser, "/portal/conflicts?q=pallets")
    for i in range(15):
        make_conflict(user, title=f"Pallets late, case {i + 5}")
    many = statements_for(browser, "/portal/conflicts?q=pallets")
    assert many - few <= SLACK, (few, many)


def test_reports_page_reads_the_same_number_of_statements_for_5_and_25_conflicts(
    signed_in_manager,
) -> None:
    browser = signed_in_manager()
    _conflicts(5)
    few = statements_for(browser, "/console/reports")
    _conflicts(20)
    many = statements_for(browser, "/console/reports")
    assert many - few <= SLACK, (few, many)


def test_escalations_page_reads_the_same_number_of_statements_for_few_and_many(
    signed_in_manager,
) -> None:
    browser = signed_in_manager()
    _conflicts(2, severity="critical", now=MONDAY_10_BERLIN)
    sweep(AFTER_CRITICAL)
    few = statements_for(browser, "/console/escalations")
    _conflicts(8, severity="critical", now=MONDAY_10_BERLIN)
    sweep(AFTER_CRITICAL)
    many = statements_for(browser, "/console/escalations")  # 30 escalations: a full page
    assert many - few <= SLACK, (few, many)


def test_escalations_are_listed_by_level_then_age(signed_in_manager) -> None:
    browser = signed_in_manager()
    _conflicts(1, severity="critical", now=MONDAY_10_BERLIN)
    _conflicts(1, severity="critical", now=MONDAY_10_BERLIN + timedelta(minutes=10))
    for minutes in (45, 55, 100):  # warnings at 10:45 and 10:55 Berlin, the rest at 11:40
        sweep(MONDAY_10_BERLIN + timedelta(minutes=minutes))
    listed = db.session.scalars(escalations.active_query()).all()
    order = [(e.level, e.fired_at, e.conflict_id) for e in listed]
    rank = {"critical": 0, "breach": 1, "warning": 2}
    assert order == sorted(order, key=lambda o: (rank[o[0]], o[1], o[2]))
    assert [level for level, _, _ in order] == ["critical"] * 2 + ["breach"] * 2 + ["warning"] * 2
    assert order[-2][1] < order[-1][1]  # the older warning first
    page = browser.get("/console/escalations").get_data(as_text=True)
    badges = [page.index(f">{label}</span>") for label in ("Critical", "Breach", "Warning")]
    assert badges == sorted(badges)


def _evidence(partner_id: int, now: datetime, n: int) -> None:
    """Evidence on both sides, before and after the 30-day mark, so changes are not zero."""
    rating = model.rating_evidence(1 + n % 5)
    for days_ago in (200, 45, 31, 10, 1):
        at = now - timedelta(days=days_ago, hours=n)
        trust.record(partner_id, model.SIDE_DELIVERY, "rated", at, evidence=rating)
    wait = model.partner_wait_evidence("high", timedelta(hours=2 + n), timedelta(hours=16))
    for days_ago in (90, 20):
        at = now - timedelta(days=days_ago)
        trust.record(partner_id, model.SIDE_RESPONSIVENESS, "partner_answered", at, evidence=wait)
    db.session.commit()


def _partners_with_evidence(count: int, now: datetime) -> list[int]:
    ids = []
    for n in range(count):
        partner = make_partner()
        _evidence(partner.id, now, n)
        ids.append(partner.id)
    return ids


def test_portfolio_reads_the_same_number_of_statements_for_3_and_15_partners(
    signed_in_manager,
) -> None:
    browser = signed_in_manager()
    now = datetime.now(UTC)
    _partners_with_evidence(3, now)
    few = statements_for(browser, "/console/portfolio")
    _partners_with_evidence(12, now)
    many = statements_for(browser, "/console/portfolio")
    assert many - few <= SLACK, (few, many)


def test_portfolio_numbers_are_those_of_the_trust_service(app) -> None:
    now = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
    with_evidence = _partners_with_evidence(2, now)
    without = make_partner().id  # no evidence at all: the prior, no change
    rows = {row["partner"].id: row for row in portfolio.rows(now)}
    assert set(rows) == {*with_evidence, without}
    for partner_id, row in rows.items():
        expected = trust.scores(partner_id, now)
        for side, change_key in (
            (model.SIDE_DELIVERY, "delivery_change"),
            (model.SIDE_RESPONSIVENESS, "responsiveness_change"),
        ):
            assert row[side] == expected[side]
            assert row[change_key] == pytest.approx(trust.change(partner_id, side, now), abs=1e-9)
    assert any(abs(rows[p]["delivery_change"]) > 0.1 for p in with_evidence)
    assert any(abs(rows[p]["responsiveness_change"]) > 0.1 for p in with_evidence)
    assert rows[without]["delivery_change"] == 0


def test_trust_page_reads_the_same_number_of_statements_for_little_and_much_history(
    signed_in_manager,
) -> None:
    browser = signed_in_manager()
    now = datetime.now(UTC)
    partner_id = make_partner().id
    _evidence(partner_id, now, 1)
    few = statements_for(browser, f"/partners/{partner_id}/trust")
    for n in range(2, 8):  # more history rows and ledger rows, each with its conflict
        _evidence(partner_id, now, n)
    many = statements_for(browser, f"/partners/{partner_id}/trust")
    assert many - few <= SLACK, (few, many)


def test_trust_figures_are_those_of_the_point_by_point_reads(app) -> None:
    now = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
    partner_id = _partners_with_evidence(1, now)[0]
    figures = trust_record.figures(partner_id, now - timedelta(days=365), now, now)
    for side in model.SIDES:
        change, fading = trust.change_and_cause(partner_id, side, now)
        assert figures.changes[side] == pytest.approx(change, abs=1e-9)
        assert figures.fading_only[side] is fading
        moments = [moment for moment, _ in figures.trend[side]]
        assert moments == trust.trend_moments(now)
        for moment, point in figures.trend[side]:
            expected = trust.score_at(partner_id, side, moment)
            assert point.score == pytest.approx(expected.score(), abs=1e-9)
    assert figures.trend == {side: trust.trend(partner_id, side, now) for side in model.SIDES}


def _policy(**overrides):  # type: ignore[no-untyped-def]
    targets = {
        severity: {"triage_minutes": 60, "resolution_minutes": 480}
        for severity in ("critical", "high", "medium", "low")
    }
    return agreements.create_policy(now=MONDAY_10_BERLIN, targets=targets, **overrides)


def test_policy_page_counts_open_conflicts_in_a_constant_number_of_statements(browser) -> None:
    browser.login(make_admin().email)
    policy = _policy(name="Standard agreement", tier="standard")
    _conflicts(3)
    few = statements_for(browser, f"/admin/agreements/policies/{policy.id}/edit")
    _conflicts(20)
    many = statements_for(browser, f"/admin/agreements/policies/{policy.id}/edit")
    assert many - few <= SLACK, (few, many)


def test_open_conflicts_under_a_policy_are_counted_by_override_then_tier(app) -> None:
    policy = _policy(name="Standard agreement", tier="standard")
    own = _policy(name="Own terms")
    by_tier = make_partner_user(partner=make_partner(tier="standard"))
    for _ in range(2):
        make_conflict(by_tier)
    withdrawn = make_conflict(by_tier)
    conflicts.act(by_tier, withdrawn.id, "withdraw", {"reason": "raised_in_error"}, now=WHEN)
    make_conflict(make_partner_user(partner=make_partner(tier="preferred")))
    overridden = make_partner(tier="standard")
    agreements.set_partner_policy(overridden.id, own.id)
    make_conflict(make_partner_user(partner=overridden))
    chose_it = make_partner(tier="preferred")
    agreements.set_partner_policy(chose_it.id, policy.id)
    make_conflict(make_partner_user(partner=chose_it))

    assert agreements.count_open_conflicts_under(policy) == 3
    assert agreements.count_open_conflicts_under(own) == 1
    assert len(agreements.open_conflicts_under(policy)) == 3
    expected = sum(
        1
        for conflict in db.session.scalars(select(Conflict))
        if conflict.status in workflow.ACTIVE_STATES
        and (row := sla.policy_row_for(conflict.partner)) is not None
        and row.id == policy.id
    )
    assert expected == 3  # the per-conflict reading agrees


def _talk(conflict_id: int, people: list, count: int, start: datetime) -> None:  # type: ignore[type-arg]
    """`count` comments by turns of `people`, every other one with a small text attachment."""
    for i in range(count):
        uploads = [attachments.Upload(f"scan-{i}.txt", b"carrier scan log\n")] if i % 2 else []
        conflicts.comment(
            people[i % len(people)],
            conflict_id,
            f"Note {i}",
            now=start + timedelta(minutes=i + 1),
            uploads=uploads,
        )


@pytest.mark.parametrize("viewer", ["manager", "partner"])
def test_conflict_page_reads_the_same_number_of_statements_for_few_and_many_entries(
    new_browser, viewer
) -> None:
    """Each entry's author and attachments are read with the entries, not one by one."""
    owner = make_manager()
    partner = make_partner(owner_id=owner.id)
    people = [make_partner_user(partner=partner) for _ in range(3)]
    conflict = make_conflict(people[0], title="Pallets short-shipped")
    browser = new_browser()
    browser.login(owner.email if viewer == "manager" else people[0].email)
    path = (
        f"/console/conflicts/{conflict.id}"
        if viewer == "manager"
        else (f"/portal/conflicts/{conflict.id}")
    )
    _talk(conflict.id, [*people, owner], 4, conflict.created_at)
    few = statements_for(browser, path)
    _talk(conflict.id, [*people, owner], 40, conflict.created_at + timedelta(hours=1))
    many = statements_for(browser, path)
    assert many - few <= SLACK, (few, many)


@pytest.mark.parametrize(
    "path",
    ["/console/queue?q=conflict", "/console/reports", "/console/queue?status=closed"],
)
def test_staff_lists_read_the_same_number_of_statements_for_few_and_many(
    signed_in_manager, path
) -> None:
    """Search, reports and filtered queues read what they show, not the history."""
    browser = signed_in_manager()
    _conflicts(3)
    few = statements_for(browser, path)
    _conflicts(20)
    many = statements_for(browser, path)
    assert many - few <= SLACK, (few, many)


@pytest.mark.parametrize("path", ["/portal/conflicts", "/portal/conflicts?q=pallets"])
def test_partner_list_reads_the_same_number_of_statements_for_few_and_many(
    new_browser, path
) -> None:
    partner = make_partner(owner_id=make_manager().id)
    user = make_partner_user(partner=partner)
    browser = new_browser()
    browser.login(user.email)
    for i in range(3):
        make_conflict(user, title=f"Pallets missing {i}")
    few = statements_for(browser, path)
    for i in range(20):
        make_conflict(user, title=f"Pallets missing again {i}")
    many = statements_for(browser, path)
    assert many - few <= SLACK, (few, many)


def test_the_queue_is_read_in_index_order_once_statistics_are_gathered(app) -> None:
    """SQLite: the queue's order comes from ix_conflicts_queue_order, not a sort of every open
    conflict (the daily statistics job and `flask demo generate` gather the statistics)."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's plan; PostgreSQL keeps its own statistics (autovacuum)")
    from sqlalchemy import text

    from tracker.database import refresh_statistics
    from tracker.services import conflict_search

    _conflicts(30)
    refresh_statistics(db.session)
    viewer = make_manager()
    query = conflict_search.queue_query(viewer, conflict_search.ConflictFilters()).limit(25)
    sql = str(query.compile(db.engine, compile_kwargs={"literal_binds": True}))
    plan = " ".join(str(row[-1]) for row in db.session.execute(text("EXPLAIN QUERY PLAN " + sql)))
    assert "ix_conflicts_queue_order" in plan and "TEMP B-TREE" not in plan, plan
