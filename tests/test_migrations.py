"""The migrations are the schema: they build it from nothing and match the models."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from tests.conftest import make_config, temporary_database
from tracker import create_app
from tracker.extensions import db
from tracker.models.search import FTS_TABLE, LEXEME_TABLE, VECTOR_COLUMN, is_engine_index
from tracker.services.health import MIGRATIONS_DIR


def test_there_is_exactly_one_head() -> None:
    assert len(ScriptDirectory(str(MIGRATIONS_DIR)).get_heads()) == 1


def test_upgrade_from_empty_matches_the_models_and_downgrade_undoes_it(tmp_path) -> None:
    with temporary_database(tmp_path) as url:
        app = create_app(make_config(url))
        with app.app_context():
            upgrade()
            with db.engine.connect() as connection:
                context = MigrationContext.configure(
                    connection,
                    opts={
                        "compare_type": True,
                        "render_as_batch": True,
                        "include_object": _not_the_search_engines_index,
                    },
                )
                diff = compare_metadata(context, db.metadata)
            assert diff == [], f"models and migrations disagree: {diff}"
            tables = set(inspect(db.engine).get_table_names())
            assert {"users", "partners", "alembic_version"} <= tables
            _assert_the_search_engines_index_exists()
            downgrade(revision="base")
            assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
            db.engine.dispose()


def _not_the_search_engines_index(obj, name, type_, reflected, compare_to) -> bool:  # type: ignore[no-untyped-def]
    # The FTS5 table (SQLite) and the tsvector column and its GIN index (PostgreSQL) are the
    # engine's own index over search_entries: no model can describe them, so only they are
    # left out, and the test below checks they exist.
    table = obj.table.name if type_ == "column" else None
    return not is_engine_index(type_, name, table)


def _assert_the_search_engines_index_exists() -> None:
    inspector = inspect(db.engine)
    if db.engine.dialect.name == "sqlite":
        assert FTS_TABLE in inspector.get_table_names()
    else:
        columns = {c["name"] for c in inspector.get_columns("search_entries")}
        assert VECTOR_COLUMN in columns
        assert LEXEME_TABLE in inspector.get_table_names()
        triggers = db.session.execute(
            text(
                "SELECT tgname FROM pg_trigger "
                "WHERE tgrelid = 'search_entries'::regclass AND NOT tgisinternal"
            )
        ).scalars()
        assert {"search_entries_lexemes", "search_entries_lexemes_updated"} <= set(triggers)
