"""What a long-running process does once it has started (the scheduler, a gunicorn worker).

Everything alive at start (modules, the app, its URL map, templates, calendars, locale
data: about 190,000 objects) lives as long as the process. Python's collector would still
walk all of it on every full collection: about 0.1 s each, landing inside a sweep's batch
or a request now and then. Frozen, those objects are left out of every collection, so a
full pass costs what the work itself allocated. In a pre-fork server it also keeps the
collector from writing to pages the workers share with the master.
"""

from __future__ import annotations

import gc


def freeze_startup_objects() -> int:
    """Collect once, then move every object still alive out of the collector's reach for
    the rest of the process; the number frozen (for the log)."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
