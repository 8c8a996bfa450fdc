"""Each search entry carries its conflict's partner: written so by every writer and by the
migration's backfill, and a partner's match is scoped by it (0021_search_partner)."""

from __future__ import annotations

from datetime import timedelta

from flask_migrate import downgrade, upgrade
from sqlalchemy import delete, func, select, text

from tests.conftest import make_config, temporary_database
from tests.factories import (
    RESOLUTION,
    WHEN,
    make_conflict,
    make_manager,
    make_partner,
    make_partner_user,
    triage,
)
from tracker import create_app
from tracker.extensions import db
from tracker.jobs.sweep import sweep
from tracker.models import Conflict, SearchEntry
from tracker.services import conflict_search, conflicts, search_index
from tracker.services.conflict_search import ConflictFilters


def _two_partners_stories() -> tuple:  # type: ignore[type-arg]
    """Entries of every kind, for two partners: as raised, comments, internal notes,
    escalation notes from the sweep, a resolution and a reply."""
    manager = make_manager()
    users = [make_partner_user(partner=make_partner(name=n)) for n in ("Northwind", "Bluefin")]
    for user in users:
        conflict = make_conflict(user, severity="critical", now=WHEN)
        sweep(WHEN + timedelta(hours=3))
        triage(conflict, manager, now=WHEN + timedelta(hours=3))
        conflicts.comment(user, conflict.id, "Customs papers lost", now=WHEN + timedelta(hours=4))
        conflicts.comment(
            manager, conflict.id, "Customs fraud?", internal=True, now=WHEN + timedelta(hours=4)
        )
        conflicts.act(manager, conflict.id, "resolve", RESOLUTION, now=WHEN + timedelta(hours=5))
        conflicts.act(user, conflict.id, "accept", {}, now=WHEN + timedelta(hours=6))
    return manager, users


def _mismatched_partners() -> int:
    """Entries whose partner is not their conflict's (none may be)."""
    query = (
        select(func.count())
        .select_from(SearchEntry)
        .join(Conflict, Conflict.id == SearchEntry.conflict_id)
        .where(SearchEntry.partner_id != Conflict.partner_id)
    )
    return db.session.scalar(query)


def test_every_writer_stores_the_conflicts_partner_on_its_entries(app) -> None:
    _two_partners_stories()
    written = db.session.scalar(select(func.count()).select_from(SearchEntry))
    assert written >= 8
    assert _mismatched_partners() == 0
    # the bulk writer (history written around the services, a restore) does the same
    db.session.execute(delete(SearchEntry))
    db.session.commit()
    assert search_index.index_missing() == written
    assert _mismatched_partners() == 0


def test_a_partner_matches_only_its_own_public_entries_through_the_index(app) -> None:
    manager, (north, blue) = _two_partners_stories()
    mine = {
        c.id for c in db.session.scalars(select(Conflict).filter_by(partner_id=north.partner_id))
    }
    found = search_index.matches(north, ["customs"])
    assert set(db.session.scalars(select(found.c.conflict_id))) == mine
    assert (
        list(db.session.scalars(select(search_index.matches(north, ["fraud"]).c.conflict_id))) == []
    )
    everyone = db.session.scalars(select(search_index.matches(manager, ["fraud"]).c.conflict_id))
    assert len(set(everyone)) == 2


def test_a_typed_scope_token_is_a_word_of_the_texts_only(app) -> None:
    """A partner's scope is in the index (SQLite: the token "p<id>"); typing that token
    searches titles and texts, never the scope."""
    user = make_partner_user()
    make_conflict(user, title="Rebate missing", description="Q3 rebate not credited.")
    token = f"p{user.partner_id}"
    assert conflict_search.portal_page(user, ConflictFilters(search=token), 1, 20).items == []
    assert (
        conflict_search.queue_page(make_manager(), ConflictFilters(search=token), 1, 20).items == []
    )


def test_the_migration_backfills_each_entrys_partner_and_the_index_finds_them(tmp_path) -> None:
    with temporary_database(tmp_path) as url:
        app = create_app(make_config(url, tmp_path))
        with app.app_context():
            upgrade()
            _, (north, blue) = _two_partners_stories()
            north_id, blue_id = north.partner_id, blue.partner_id
            db.session.commit()
            db.session.remove()
            downgrade(revision="0020_partner_list_order")
            upgrade()
            assert _mismatched_partners() == 0
            partners = set(db.session.scalars(select(SearchEntry.partner_id)))
            assert partners == {north_id, blue_id}
            assert (
                db.session.scalar(
                    text("SELECT count(*) FROM search_entries WHERE partner_id IS NULL")
                )
                == 0
            )
            north = db.session.merge(north)
            page = conflict_search.portal_page(north, ConflictFilters(search="customs"), 1, 20)
            assert {c.partner_id for c in page.items} == {north_id}
            assert len(page.items) == 1
            db.session.remove()
            db.engine.dispose()


def test_a_partner_whose_id_begins_anothers_finds_only_its_own_conflicts(app) -> None:
    """PostgreSQL matches a partner's words as lexemes prefixed with its id and a word
    beginning ("p1_custom":*): partner 1 must not reach partner 10's or 12's lexemes."""
    users = {user.partner_id: user for user in (make_partner_user() for _ in range(12))}
    short, long = next((a, b) for a in users for b in users if a != b and str(b).startswith(str(a)))
    theirs = make_conflict(users[long], title="Customs papers lost", description="At the dock.")
    make_conflict(users[short], title="Rebate missing", description="Q3 rebate not credited.")
    conflicts.comment(users[long], theirs.id, "Customs broker called", now=WHEN)
    for words in ("customs", "custom", "dock", "broker"):
        found = conflict_search.portal_page(users[short], ConflictFilters(search=words), 1, 20)
        assert found.items == [], words
        mine = conflict_search.portal_page(users[long], ConflictFilters(search=words), 1, 20)
        assert [c.id for c in mine.items] == [theirs.id], words


def test_sqlite_keeps_the_titles_index_in_step_with_the_titled_entries(app) -> None:
    """Similarity's FTS5 table of titled entries (0023_search_scoped) follows every writer
    and every delete: FTS5's own check agrees, and the titles match as written."""
    if db.engine.dialect.name != "sqlite":
        return
    _, (north, _) = _two_partners_stories()
    db.session.execute(delete(SearchEntry).where(SearchEntry.partner_id == north.partner_id))
    db.session.commit()
    search_index.index_missing()
    db.session.execute(
        text(
            "INSERT INTO search_entries_fts_titles(search_entries_fts_titles) "
            "VALUES ('integrity-check')"
        )
    )
    titled = db.session.scalar(text("SELECT count(*) FROM search_entries WHERE title <> ''"))
    indexed = db.session.scalar(
        text(
            "SELECT count(*) FROM search_entries_fts_titles WHERE search_entries_fts_titles "
            "MATCH 'tr'"
        )
    )
    assert indexed == titled == 2
    mine = db.session.scalar(select(Conflict).filter_by(partner_id=north.partner_id))
    assert [c.id for c in conflict_search.similar(north, mine.title, None)] == [mine.id]
