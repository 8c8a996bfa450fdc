"""The chain's format, pinned: canonical bytes, hashes, and what counts as a broken link."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone

import pytest

from tracker.domain import audit_chain as chain

WHEN = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)


def _content(seq: int, body: str = "hello") -> dict:
    return chain.conflict_event_content(
        conflict_id=7, seq=seq, created_at=WHEN + timedelta(minutes=seq), actor_id=3,
        kind="comment", visibility="public", body=body, data={"b": 1, "a": "ü"},
    )  # fmt: skip


def test_canonical_json_sorts_keys_drops_whitespace_and_keeps_utf8() -> None:
    assert chain.canonical({"b": [1, 2], "a": "ü", "t": WHEN}) == (
        '{"a":"ü","b":[1,2],"t":"2026-11-16T09:00:00.000000Z"}'.encode()
    )


def test_times_are_hashed_in_utc_whatever_zone_they_come_in() -> None:
    berlin = WHEN.astimezone(timezone(timedelta(hours=1)))
    assert chain.rfc3339(berlin) == "2026-11-16T09:00:00.000000Z"
    with pytest.raises(ValueError):
        chain.rfc3339(datetime(2026, 11, 16, 9, 0))


def test_the_hash_is_sha256_of_the_previous_hash_and_the_content_hash() -> None:
    content = _content(1)
    digest = hashlib.sha256(chain.canonical(content)).hexdigest()
    link = chain.append(None, content)
    assert link.prev_hash == chain.GENESIS == "0" * 64
    assert link.hash == hashlib.sha256((chain.GENESIS + digest).encode()).hexdigest()


def test_content_must_name_its_place() -> None:
    with pytest.raises(ValueError):
        chain.append(None, _content(2))


def _chain(length: int) -> tuple[list[chain.StoredEntry], chain.Link]:
    entries, head = [], None
    for seq in range(1, length + 1):
        content = _content(seq)
        head = chain.append(head, content)
        entries.append(
            chain.StoredEntry(seq, head.seq, head.prev_hash, head.hash, chain.content_hash(content))
        )
    return entries, head


def test_an_intact_chain_verifies() -> None:
    entries, head = _chain(4)
    assert chain.verify("conflict:7", entries, head) is None
    assert chain.verify("conflict:8", [], None) is None


def test_edited_content_is_named_at_its_entry() -> None:
    entries, head = _chain(4)
    edited = chain.content_hash(_content(2, body="rewritten"))
    entries[1] = chain.StoredEntry(2, 2, entries[1].prev_hash, entries[1].hash, edited)
    broken = chain.verify("conflict:7", entries, head)
    assert (broken.entry_id, broken.problem) == (2, "content changed (hash)")
    assert broken.expected == chain.link_hash(entries[0].hash, edited)
    assert "conflict:7: entry 2 (place 2)" in broken.describe()


def test_a_deleted_entry_and_a_reordered_pair_are_caught() -> None:
    entries, head = _chain(4)
    gone = chain.verify("conflict:7", [entries[0], *entries[2:]], head)
    assert (gone.entry_id, gone.problem, gone.expected) == (3, "sequence gap or reorder", "2")
    swapped = chain.verify("conflict:7", [entries[0], entries[2], entries[1], entries[3]], head)
    assert swapped.entry_id == 3


def test_a_deleted_last_entry_is_caught_by_the_head() -> None:
    entries, head = _chain(4)
    broken = chain.verify("conflict:7", entries[:3], head)
    assert broken.entry_id is None and broken.problem.startswith("head")


PUBLIC, INTERNAL = "public", "internal"


def test_internal_events_get_a_fresh_salt_that_is_hashed_and_public_ones_none() -> None:
    assert chain.salt_for(PUBLIC) is None and not chain.is_salted(PUBLIC)
    first, second = chain.salt_for(INTERNAL), chain.salt_for(INTERNAL)
    assert first != second and len(first) == 32 and int(first, 16) >= 0
    content = {**_content(1), "visibility": INTERNAL}
    assert "salt" not in _content(1)
    salted = chain.conflict_event_content(
        conflict_id=7, seq=1, created_at=WHEN + timedelta(minutes=1), actor_id=3,
        kind="comment", visibility=INTERNAL, body="hello", data={"b": 1, "a": "ü"}, salt=first,
    )  # fmt: skip
    assert salted == {**content, "salt": first}
    assert chain.content_hash(salted) != chain.content_hash(content)
