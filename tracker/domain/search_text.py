"""Search text as the index reads it: words only, so no input is ever an index operator.

Both engines get a query built from the words of what was typed, each word quoted (the
last also matched as a prefix): FTS5 syntax (`"…"`, `NEAR`, `:`, `*`) and tsquery syntax (`&`, `|`,
`!`, `<->`) typed by a user are letters to drop, never operators. Input of punctuation
only has no words and matches nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

MAX_QUERY = 100  # characters of a query read; the rest is ignored
MAX_TERMS = 12
MAX_SIMILAR_TERMS = 6  # enough to say what a conflict is about; each one more widens the match
MIN_SIMILAR_TERM = 3  # shorter words say little about what a conflict is about

# Words of three letters or more that say nothing of what a conflict is about, in the
# languages partners write in. PostgreSQL's 'english' configuration drops its own; SQLite's
# FTS5 keeps every word, and "for" alone matches most titles, so similarity leaves these out.
_STOP_WORDS = (
    "and are but can did does for from had has have her his its not our out she than that "
    "the their them then there these they this those was were what when which who why will "
    "with you your "  # English
    "auf aus bei das dem den der des die ein eine einem einen einer eines für hat ist mit "
    "nach nicht noch oder sich sie und uns von war wie wir zum zur "  # German
    "aux avec ces dans est les leur mais nos par pas pour qui que sans ses son sont sur "
    "une vos"  # French
)
STOP_WORDS = frozenset(_STOP_WORDS.split())

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
    longest ones (long words are rarer, so they tell conflicts apart); no stop words."""
    from_title = [w for w in terms(title) if len(w) >= MIN_SIMILAR_TERM and w not in STOP_WORDS]
    words = _WORD.findall((description or "")[:2000].lower())
    rest = sorted(
        {
            w
            for w in words
            if len(w) >= MIN_SIMILAR_TERM + 1 and w not in from_title and w not in STOP_WORDS
        },
        key=lambda w: (-len(w), w),
    )
    return (from_title + rest)[:MAX_SIMILAR_TERMS]


def _prefixed(words: list[str], any_word: bool) -> list[bool]:
    """Which words match as a beginning: all of them for any-word queries; for all-words
    queries only the last, the one still being typed (each earlier word is a whole word,
    in any of its forms). A word beginning costs both engines every entry of every word
    it begins, collected before intersecting: three common beginnings were 94 ms on
    PostgreSQL at 100,000 conflicts, where whole words are intersected by skipping."""
    return [any_word or i == len(words) - 1 for i in range(len(words))]


def fts5_query(words: list[str], *, any_word: bool = False, titles_only: bool = False) -> str:
    """An FTS5 MATCH expression: the words (the last as a beginning, see _prefixed), all of
    them or any; for similarity (`titles_only`) whole words of the title column."""
    if titles_only:
        return "title : (" + " OR ".join(f'"{w}"' for w in words) + ")"
    marks = _prefixed(words, any_word)
    quoted = [f'"{w}"*' if prefix else f'"{w}"' for w, prefix in zip(words, marks, strict=True)]
    return (" OR " if any_word else " ").join(quoted)


def tsquery(
    words: list[str], *, any_word: bool = False, titles_only: bool = False, whole: bool = False
) -> str:
    """A `to_tsquery` expression: the words as quoted lexemes (the last as a prefix, see
    _prefixed; none with `whole`), all of them or any; for similarity (`titles_only`) whole
    words weighted A (the title's)."""
    if titles_only:
        return " | ".join(f"'{w}':A" for w in words)
    marks = [False] * len(words) if whole else _prefixed(words, any_word)
    quoted = [f"'{w}':*" if prefix else f"'{w}'" for w, prefix in zip(words, marks, strict=True)]
    return (" | " if any_word else " & ").join(quoted)


def quoted_lexeme(lexeme: str) -> str:
    """A lexeme as a tsquery's input, taken as it is (`'defect'`): it is the index's own,
    already stemmed, and cast to tsquery it is not stemmed again."""
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def indexable(text: str | None) -> str:
    """Text as stored in the index: control characters (no text shows them) removed."""
    return _CONTROL.sub(" ", text or "")


@dataclass(frozen=True)
class Segment:
    """A piece of a snippet; `hit` pieces are the words that matched."""

    text: str
    hit: bool


def counter(words: list[str]) -> Callable[[str], int]:
    """How many of `words` begin a word of a text, as passage() counts them, without
    cutting a passage: to choose the best of a conflict's texts before cutting one."""
    beginnings = [re.compile(rf"(?<!\w){re.escape(w)}") for w in words]

    def found(text: str) -> int:
        lowered = text.lower()
        return sum(1 for beginning in beginnings if beginning.search(lowered))

    return found


def passage(text: str, words: list[str], *, width: int = 16) -> tuple[int, list[Segment]]:
    """The part of `text` around its first matched word, the matched words marked, and how
    many of `words` the text has (to choose the best of several texts).

    A word of the text matches when it begins with a query word, as the index matches;
    the index also stems ("invoices" finds "invoice"), so a text it found may mark nothing
    here, and then its beginning is shown."""
    tokens = list(_WORD.finditer(text))
    prefixes = tuple(words)
    hits = [t.group().lower().startswith(prefixes) for t in tokens]
    found = {
        w
        for t, hit in zip(tokens, hits, strict=True)
        if hit
        for w in words
        if t.group().lower().startswith(w)
    }
    first = hits.index(True) if True in hits else 0
    start = max(0, first - 3)
    end = min(len(tokens), start + width)
    if not tokens:
        return 0, []
    begin, finish = tokens[start].start(), tokens[end - 1].end()
    pieces: list[Segment] = [Segment("…", False)] if start > 0 else []
    cursor = begin
    for token, hit in zip(tokens[start:end], hits[start:end], strict=True):
        if hit:
            if token.start() > cursor:
                pieces.append(Segment(text[cursor : token.start()], False))
            pieces.append(Segment(token.group(), True))
            cursor = token.end()
    if finish > cursor:
        pieces.append(Segment(text[cursor:finish], False))
    if end < len(tokens):
        pieces.append(Segment("…", False))
    return len(found), pieces
