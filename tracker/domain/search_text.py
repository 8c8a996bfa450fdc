"""Search text as the index reads it: words only, so no input is ever an index operator.

Both engines get a query built from the words of what was typed, each word quoted and
matched as a prefix: FTS5 syntax (`"…"`, `NEAR`, `:`, `*`) and tsquery syntax (`&`, `|`,
`!`, `<->`) typed by a user are letters to drop, never operators. Input of punctuation
only has no words and matches nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_QUERY = 100  # characters of a query read; the rest is ignored
MAX_TERMS = 12
MIN_SIMILAR_TERM = 3  # shorter words say little about what a conflict is about
HIT_START = "\x02"  # marks around a matched word in a snippet; never part of indexed text
HIT_END = "\x03"

_WORD = re.compile(r"\w+", re.UNICODE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def terms(text: str | None, *, limit: int = MAX_TERMS) -> list[str]:
    """The distinct words of `text`, lower-cased, in order (at most `limit`)."""
    seen: list[str] = []
    for word in _WORD.findall((text or "")[:MAX_QUERY].lower()):
        word = word.strip("_")
        if word and word not in seen:
            seen.append(word)
        if len(seen) == limit:
            break
    return seen


def similarity_terms(title: str | None, description: str | None = None) -> list[str]:
    """The words that say what a conflict is about: the title's first, then the description's
    longest ones (long words are rarer, so they tell conflicts apart)."""
    from_title = [w for w in terms(title) if len(w) >= MIN_SIMILAR_TERM]
    words = _WORD.findall((description or "")[:2000].lower())
    rest = sorted(
        {w for w in words if len(w) >= MIN_SIMILAR_TERM + 1 and w not in from_title},
        key=lambda w: (-len(w), w),
    )
    return (from_title + rest)[:MAX_TERMS]


def fts5_query(words: list[str], *, any_word: bool = False) -> str:
    """An FTS5 MATCH expression: each word a quoted prefix; all of them, or any."""
    return (" OR " if any_word else " ").join(f'"{w}"*' for w in words)


def tsquery(words: list[str], *, any_word: bool = False) -> str:
    """A `to_tsquery` expression: each word a quoted prefix lexeme; all of them, or any."""
    return (" | " if any_word else " & ").join(f"'{w}':*" for w in words)


def indexable(text: str | None) -> str:
    """Text as stored in the index: control characters (the snippet's marks) removed."""
    return _CONTROL.sub(" ", text or "")


@dataclass(frozen=True)
class Segment:
    """A piece of a snippet; `hit` pieces are the words that matched."""

    text: str
    hit: bool


def segments(snippet: str | None) -> list[Segment]:
    """Split an engine's marked snippet into plain and matched pieces (escaped when shown)."""
    pieces: list[Segment] = []
    for i, part in enumerate(re.split(f"{HIT_START}|{HIT_END}", snippet or "")):
        if part:
            pieces.append(Segment(part, hit=i % 2 == 1))
    return pieces
