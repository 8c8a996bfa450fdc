"""`flask demo generate`: a realistic volume fast, every state, chains intact, counts kept."""

from __future__ import annotations

import multiprocessing

from sqlalchemy import delete, func, insert, select

from tracker.domain import workflow
from tracker.extensions import db
from tracker.models import (
    Conflict,
    ConflictEvent,
    ReportRollup,
    ResolutionTimeCount,
    SearchEntry,
    TrustEvent,
)
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
    assert db.session.scalar(select(func.count(ReportRollup.id))) > 0
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


def test_rows_encoded_for_sqlite_are_what_sqlalchemy_would_have_stored(app) -> None:
    """The builders' shortcut (driver values made in the builder process) writes the same
    column text as SQLAlchemy's own bind processing: times, JSON (None as 'null'), flags."""
    if db.engine.dialect.name != "sqlite":
        return
    cast = demo_history.create_cast(2, demo_history.datetime(2024, 1, 1, tzinfo=demo_history.UTC))
    now = demo_history.datetime(2026, 11, 16, 14, tzinfo=demo_history.UTC)
    specs = demo_history.plan(15, 15, 2, now, 365, demo_history.random.Random(5))
    chunk = demo_history._Chunk(0, 1, specs, cast.partners, now, 3, demo_history.timedelta(90), 9)
    rows, _ = demo_history._build(chunk)
    demo_history._link_trust(rows.trust, {})
    tables = [
        (Conflict.__table__, rows.conflicts),
        (ConflictEvent.__table__, rows.events),
        (TrustEvent.__table__, rows.trust),
    ]
    stored = []
    for table, batch in tables:
        db.session.execute(insert(table), batch)
        stored.append(_raw(table.name))
    for table, _ in reversed(tables):
        db.session.execute(delete(table))
    for table, batch in tables:
        demo_history._Encoded.of(table, batch).write()
    for (table, _), before in zip(tables, stored, strict=True):
        after = _raw(table.name)
        assert after == before and len(after) > 0
    db.session.rollback()


def _raw(name: str) -> list:
    """The stored text, past every result processor (JSON 'null' and NULL stay apart)."""
    return db.session.connection().exec_driver_sql(f"SELECT * FROM {name}").all()  # noqa: S608
