"""Alembic for the commands that migrate, never for a web worker.

Flask-Migrate imports Alembic, Mako and Pygments (about 11 MiB a process) the moment it
is imported, and only `flask db …`, the tests and the backup commands use them. The app
therefore carries two stand-ins: `app.extensions["migrate"]` builds Flask-Migrate's own
configuration on first use (`flask_migrate.upgrade()` and `migrations/env.py` read it),
and the `db` command group lists and runs Flask-Migrate's commands when it is opened.
"""

from __future__ import annotations

from typing import Any

import click
from flask import Flask, g
from flask.cli import with_appcontext

from config import BASE_DIR

MIGRATIONS_DIR = BASE_DIR / "migrations"


def init_app(app: Flask, db: Any) -> None:
    """Give `app` its migrations without importing Flask-Migrate."""
    app.extensions["migrate"] = _LazyMigrateConfig(app, db)
    app.cli.add_command(migration_commands)


def migrate_config(app: Flask) -> Any:
    """Flask-Migrate's configuration for `app`, importing Flask-Migrate now."""
    current = app.extensions.get("migrate")
    if isinstance(current, _LazyMigrateConfig):
        current = current.load()
    return current


class _LazyMigrateConfig:
    """Becomes Flask-Migrate's `_MigrateConfig` the first time anything reads it."""

    def __init__(self, app: Flask, db: Any) -> None:
        self._app = app
        self._db = db

    def load(self) -> Any:
        from flask_migrate import Migrate

        commands = self._app.cli.commands.get("db")
        Migrate().init_app(
            self._app, self._db, directory=str(MIGRATIONS_DIR), compare_type=True,
            render_as_batch=True,
        )  # fmt: skip
        if commands is not None:  # init_app adds its own group: keep ours, which holds it
            self._app.cli.add_command(commands)
        return self._app.extensions["migrate"]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.load(), name)


class MigrationCommands(click.Group):
    """Flask-Migrate's `db` group, opened only when a `db` command is asked for; commands
    added here (backup, restore) sit beside its own."""

    def _migrate_group(self) -> click.Group:
        from flask import current_app

        migrate_config(current_app._get_current_object())  # type: ignore[attr-defined]
        from flask_migrate.cli import db as group

        return group

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(self.commands) | set(self._migrate_group().list_commands(ctx)))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.commands:
            return self.commands[name]
        return self._migrate_group().get_command(ctx, name)


@click.group("db", cls=MigrationCommands)
@click.option(
    "-d", "--directory", default=None, help='Migration script directory (default is "migrations")'
)
@click.option(
    "-x", "--x-arg", multiple=True, help="Additional arguments consumed by custom env.py scripts"
)
@with_appcontext
def migration_commands(directory: str | None, x_arg: tuple[str, ...]) -> None:
    """Perform database migrations (Flask-Migrate's commands, and backup / restore)."""
    g.directory = directory  # as Flask-Migrate's own group does: Migrate.get_config() reads them
    g.x_arg = x_arg
