"""The migrations are the schema: they build it from nothing and match the models."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from tests.conftest import make_config, temporary_database
from tracker import create_app
from tracker.extensions import db
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
                    connection, opts={"compare_type": True, "render_as_batch": True}
                )
                diff = compare_metadata(context, db.metadata)
            assert diff == [], f"models and migrations disagree: {diff}"
            tables = set(inspect(db.engine).get_table_names())
            assert {"users", "partners", "alembic_version"} <= tables
            downgrade(revision="base")
            assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
            db.engine.dispose()
