"""Reply addresses and thread ids: signed, so a reply finds its conflict and none is forged."""

from __future__ import annotations

import pytest

from tracker.services import mail_threads


@pytest.fixture
def intake(app):
    app.config["MAIL_INTAKE_ADDRESS"] = "conflicts@trustomer.example"
    with app.app_context():
        yield


def test_reply_address_round_trips_to_its_conflict_and_reader(intake):
    address = mail_threads.reply_address(42, 7)
    assert address.startswith("conflicts+42.7.") and address.endswith("@trustomer.example")
    assert mail_threads.parse_reply_address(f"Anna <{address}>") == mail_threads.ReplyTarget(
        42, 7, internal=False
    )


def test_internal_address_is_its_own_signed_kind(intake):
    address = mail_threads.reply_address(42, 7, internal=True)
    assert mail_threads.parse_reply_address(address) == mail_threads.ReplyTarget(42, 7, True)
    # Dropping the note. prefix does not turn an internal token into a public one.
    forged = address.replace("+note.", "+")
    assert mail_threads.parse_reply_address(forged) is None


def test_survives_an_mta_that_uppercases_the_local_part(intake):
    address = mail_threads.reply_address(3, 9)
    assert mail_threads.parse_reply_address(address.upper()) == mail_threads.ReplyTarget(
        3, 9, False
    )


@pytest.mark.parametrize(
    "address",
    [
        "conflicts@trustomer.example",
        "conflicts+42.8.aaaaaaaaaaaaaaaa@trustomer.example",
        "other+{token}@trustomer.example",
        "conflicts+{token}@elsewhere.example",
        "not an address",
        "",
    ],
)
def test_unsigned_or_foreign_addresses_match_nothing(intake, address):
    token = mail_threads.reply_token(42, 7)
    assert mail_threads.parse_reply_address(address.format(token=token)) is None


def test_a_token_signed_for_another_conflict_does_not_match(intake):
    token = mail_threads.reply_token(42, 7)
    mac = token.rpartition(".")[2]
    assert mail_threads.parse_reply_address(f"conflicts+43.7.{mac}@trustomer.example") is None


def test_thread_root_is_stable_and_found_in_references(intake):
    root = mail_threads.thread_root_id(42)
    assert root == mail_threads.thread_root_id(42)
    assert root.endswith("@trustomer.example>")
    references = f"<abc@mail.example> {root} <outbox-9.x@trustomer.example>"
    assert mail_threads.conflict_from_references([None, references]) == 42


def test_a_forged_thread_id_matches_nothing(intake):
    root = mail_threads.thread_root_id(42)
    assert (
        mail_threads.conflict_from_references([root.replace("conflict-42", "conflict-41")]) is None
    )
    assert mail_threads.conflict_from_references(["<conflict-42.aaaaaaaaaa@x.example>"]) is None
