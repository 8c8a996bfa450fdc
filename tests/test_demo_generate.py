"""`flask demo generate`: a realistic volume fast, every state, chains intact, counts kept."""

from __future__ import annotations

import multiprocessing

from sqlalchemy import func, select

from tracker.domain import workflow
from tracker.extensions import db
from tracker.models import Conflict, MonthlyRollup, ResolutionTimeCount, SearchEntry
from tracker.services import audit_chain, demo_history


def test_generate_makes_every_state_with_intact_chains_and_counts(app, runner) -> None:
    result = runner.invoke(
        args=["demo", "generate", "--partners", "5", "--conflicts", "400", "--open-share", "0.5"]
    )
    assert result.exit_code == 0, result.output
    assert "sign in as manager1@generated.example" in result.output
    rows = db.session.execute(select(Conflict.status, func.count()).group_by(Conflict.status))
    states = {status: count for status, count in rows}
    assert set(states) == set(workflow.STATES)
    assert sum(states.values()) == 400 and states[workflow.CLOSED] == 200
    assert audit_chain.verify_all().intact
    assert db.session.scalar(select(func.count(SearchEntry.id))) >= 400
    assert db.session.scalar(select(func.count(MonthlyRollup.id))) > 0
    assert db.session.scalar(select(func.count(ResolutionTimeCount.id))) > 0
    again = runner.invoke(args=["demo", "generate", "--partners", "5", "--conflicts", "10"])
    assert again.exit_code != 0 and "fresh database" in again.output


def test_generate_refuses_bad_numbers_and_writes_nothing(app, runner) -> None:
    result = runner.invoke(args=["demo", "generate", "--open-share", "1.5"])
    assert result.exit_code != 0 and "fraction between 0 and 1" in result.output
    assert db.session.scalar(select(func.count(Conflict.id))) == 0


def test_rows_do_not_depend_on_the_number_of_builder_processes(app) -> None:
    """Chunks are pure computation: built here or in spawned processes, the same rows."""
    cast = demo_history.create_cast(3, demo_history.datetime(2024, 1, 1, tzinfo=demo_history.UTC))
    chunks = [
        demo_history._Chunk(
            number, 1 + number * 20, specs, cast.partners, demo_history.datetime(2026, 11, 16, 14,
            tzinfo=demo_history.UTC), 3, demo_history.timedelta(days=90), 7,
        )
        for number, specs in enumerate(_specs(cast))
    ]  # fmt: skip
    here = [demo_history._build(chunk) for chunk in chunks]
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        there = pool.map(demo_history._build, chunks)
    assert [(r.conflicts, r.events, r.trust) for r, _ in here] == [
        (r.conflicts, r.events, r.trust) for r, _ in there
    ]


def _specs(cast):  # type: ignore[no-untyped-def]
    """Two chunks of 20 conflicts planned as `flask demo generate` plans them."""
    now = demo_history.datetime(2026, 11, 16, 14, tzinfo=demo_history.UTC)
    specs = demo_history.plan(20, 20, len(cast.partners), now, 365, demo_history.random.Random(3))
    return [specs[:20], specs[20:]]
