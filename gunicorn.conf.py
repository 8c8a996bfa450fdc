"""gunicorn's production settings, read from the working directory (`gunicorn wsgi:app`).

The app is imported once, in the master, before the workers fork: the workers share its
pages instead of each importing its own copy (at start a worker's own memory, USS, falls
from about 55 MiB to about 9 MiB; after serving every page, PSS about 83 -> 75 MiB). The
master opens no database connection, and each worker drops whatever pool it inherited
before its first request, so no connection is shared across a fork.
"""

preload_app = True


def pre_fork(server, worker):  # type: ignore[no-untyped-def]
    """What the master built is frozen before each fork (tracker/process.py): the workers'
    collections skip it, and leave the pages they share with the master unwritten."""
    from tracker.process import freeze_startup_objects

    freeze_startup_objects()


def post_fork(server, worker):  # type: ignore[no-untyped-def]
    """A forked worker starts with an empty connection pool of its own."""
    from tracker.extensions import db
    from wsgi import app

    with app.app_context():
        db.engine.dispose(close=False)
