"""Which conflicts read like a conflict, remembered for a short while per process.

Ranking the similar conflicts is the dearest statement of a conflict's page (bm25 over the
titles' index, 2-3 ms at 100,000 conflicts on SQLite and growing with history), and its
answer hardly moves between two views of the same conflict. What is kept is the ranking
only, the ids in order: every view still reads the rows, under the viewer's scope, so a
status, a title or a resolution is never shown stale and nothing kept can reach a viewer
who may not see it. Changes to other conflicts (raised, retitled, moved, deleted) re-rank
the list when the entry expires (`SIMILAR_CACHE_SECONDS`, 60 by default; 0 turns the cache
off); until then one gone leaves a gap rather than letting the sixth best in. The console's
page is staff only, so in production the scope is "staff"; a partner's is kept apart all
the same. Each worker process keeps its own, bounded by `MAX_ENTRIES` (least recently used
go first), in the app's extensions, so two apps (the tests make one each) never share one.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Hashable

from flask import current_app

MAX_ENTRIES = 2_048
EXTENSION = "trustomer.similar_cache"


class RankingCache:
    """Keys to tuples of ids, each for `seconds` after it was stored."""

    def __init__(self, seconds: float, max_entries: int = MAX_ENTRIES) -> None:
        self.seconds = seconds
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, tuple[float, tuple[int, ...]]] = OrderedDict()
        self._lock = threading.Lock()  # gthread workers share one process

    def get(self, key: Hashable) -> tuple[int, ...] | None:
        """The ids kept for `key`, or None when none are or they expired."""
        now = time.monotonic()
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return None
            if found[0] <= now:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return found[1]

    def put(self, key: Hashable, ids: tuple[int, ...]) -> None:
        """Keep `ids` for `key` for `seconds`; the least recently used go beyond the bound."""
        with self._lock:
            self._entries[key] = (time.monotonic() + self.seconds, ids)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


def text_key(title: str, description: str | None) -> bytes:
    """A short stand-in for the text ranked: a digest, not the description itself."""
    return hashlib.blake2b(f"{title}\0{description or ''}".encode(), digest_size=16).digest()


def get(key: Hashable) -> tuple[int, ...] | None:
    """The ids kept for `key` in this app, or None (none kept, expired, or no cache)."""
    cache = _cache()
    return None if cache is None else cache.get(key)


def put(key: Hashable, ids: tuple[int, ...]) -> None:
    """Keep `ids` for `key` in this app (nothing when the cache is off)."""
    cache = _cache()
    if cache is not None:
        cache.put(key, ids)


def _cache() -> RankingCache | None:
    cache = current_app.extensions.get(EXTENSION)
    if cache is None:
        seconds = float(current_app.config["SIMILAR_CACHE_SECONDS"])
        if seconds <= 0:
            return None
        cache = current_app.extensions.setdefault(EXTENSION, RankingCache(seconds))
    return cache
