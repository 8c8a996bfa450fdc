"""The per-process ranking cache: entries expire, and the least recently used go first."""

from __future__ import annotations

from tracker.services import similar_cache
from tracker.services.similar_cache import RankingCache


def test_an_entry_lives_for_its_seconds(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    clock = [50.0]
    monkeypatch.setattr(similar_cache.time, "monotonic", lambda: clock[0])
    cache = RankingCache(60)
    cache.put("a", (3, 1, 2))
    clock[0] += 59.9
    assert cache.get("a") == (3, 1, 2)
    clock[0] += 0.1
    assert cache.get("a") is None and len(cache) == 0
    assert cache.get("never") is None


def test_the_least_recently_used_go_first_beyond_the_bound() -> None:
    cache = RankingCache(60, max_entries=2)
    cache.put("a", (1,))
    cache.put("b", (2,))
    assert cache.get("a") == (1,)  # used: "b" is now the oldest
    cache.put("c", (3,))
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == ((1,), None, (3,))
    cache.put("c", ())  # an empty ranking is kept too: "nothing alike" is an answer
    assert cache.get("c") == () and len(cache) == 2


def test_the_key_of_a_text_is_short_and_tells_texts_apart() -> None:
    key = similar_cache.text_key("Pallets short", "x" * 10_000)
    assert len(key) == 16
    assert key == similar_cache.text_key("Pallets short", "x" * 10_000)
    assert key != similar_cache.text_key("Pallets short", None)
    assert similar_cache.text_key("a", "b") != similar_cache.text_key("a\0b", "")
