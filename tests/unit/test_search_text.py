"""The search words and passages: pure functions, no database."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracker.domain import search_text


def test_words_are_letters_and_digits_only() -> None:
    assert search_text.terms('Invoice "4711" AND (late)* -paid') == [
        "invoice", "4711", "and", "late", "paid",
    ]  # fmt: skip
    assert search_text.terms("\"*:^-&|!'()") == []


def test_queries_quote_every_word_and_only_the_last_is_a_beginning() -> None:
    assert search_text.fts5_query(["a1", "b"]) == '"a1" "b"*'
    assert search_text.tsquery(["a1", "b"]) == "'a1' & 'b':*"
    assert search_text.fts5_query(["a1"]) == '"a1"*'
    assert search_text.tsquery(["a1"]) == "'a1':*"
    assert search_text.fts5_query(["a1", "b"], any_word=True) == '"a1"* OR "b"*'
    assert search_text.tsquery(["a1", "b"], any_word=True) == "'a1':* | 'b':*"
    assert search_text.fts5_query(["x", "y"], titles_only=True) == 'title : ("x" OR "y")'
    assert search_text.tsquery(["x", "y"], titles_only=True) == "'x':A | 'y':A"


def test_the_passage_marks_word_beginnings_around_the_first_match() -> None:
    text = "One two three four five six seven Invoices eight nine ten eleven twelve thirteen"
    found, pieces = search_text.passage(text, ["invoice"], width=6)
    assert found == 1
    assert [p.text for p in pieces if p.hit] == ["Invoices"]
    assert pieces[0].text == "…" and pieces[-1].text == "…"
    assert "".join(p.text for p in pieces) == "…five six seven Invoices eight nine…"


@given(st.text(max_size=200), st.text(max_size=30))
def test_the_passage_is_always_a_piece_of_the_text(text: str, query: str) -> None:
    _, pieces = search_text.passage(text, search_text.terms(query))
    shown = "".join(p.text for p in pieces).strip("…")
    assert shown in text
    assert all(
        not p.hit or p.text.lower().startswith(tuple(search_text.terms(query))) for p in pieces
    )


@pytest.mark.parametrize(
    "text",
    ["Customs papers lost", "custom-made (customs) PAPERS", "", "— x —", "Zollpapiere fehlen"],
)
def test_the_counter_counts_the_words_as_the_passage_does(text: str) -> None:
    words = search_text.terms("custom papers zoll")
    assert search_text.counter(words)(text) == search_text.passage(text, words)[0]


def test_similarity_compares_words_that_say_what_a_conflict_is_about() -> None:
    # "for" and "the" would match most titles in SQLite's index (PostgreSQL drops them).
    assert search_text.similarity_terms("Pallets for the order 7000 missing at the hub") == [
        "pallets",
        "order",
        "7000",
        "missing",
        "hub",
    ]
    assert search_text.similarity_terms(
        "Lieferung für die Filiale", "Die Rechnung wurde nicht bezahlt und sie ist überfällig"
    ) == ["lieferung", "filiale", "überfällig", "rechnung", "bezahlt", "wurde"]
    assert search_text.similarity_terms("Pour les factures", "Avec une remise dans") == [
        "factures",
        "remise",
    ]
    assert search_text.similarity_terms("The and for", "with their") == []
