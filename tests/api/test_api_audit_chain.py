"""A partner downloads its conflicts' chain (API and page) and checks it with the shipped,
stdlib-only verifier: a tampered, deleted or reordered event fails it; other partners'
conflicts, internal text and internal salts never appear in it, and a guessed internal
text cannot be confirmed against its commitment."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, text

from tests.factories import (
    WHEN,
    make_conflict,
    make_manager,
    make_partner,
    make_partner_user,
    triage,
)
from tracker.domain import audit_chain as chain
from tracker.extensions import db
from tracker.models import ConflictEvent
from tracker.services import conflicts

VERIFIER = Path(__file__).resolve().parents[2] / "scripts" / "verify_chain.py"
SECRET = "Internal: their CFO is the real blocker"


def _verify(
    tmp_path: Path, *documents: dict, known: dict | None = None
) -> subprocess.CompletedProcess:
    paths = []
    for number, document in enumerate(documents):
        path = tmp_path / f"export-{number}.json"
        path.write_text(json.dumps(document), encoding="utf-8")
        paths.append(str(path))
    if known is not None:
        earlier = tmp_path / "known.json"
        earlier.write_text(json.dumps(known), encoding="utf-8")
        paths += ["--known", str(earlier)]
    # -I: isolated, no site-packages and no repository on the path: the standard library only.
    return subprocess.run(
        [sys.executable, "-I", str(VERIFIER), *paths], capture_output=True, text=True, timeout=60
    )


def _history():  # type: ignore[no-untyped-def]
    manager = make_manager()
    partner = make_partner(name="Northwind")
    user = make_partner_user(partner=partner, email="anna@northwind.example")
    first = make_conflict(user, title="Invoice 4711 paid late", now=WHEN)
    triage(first, manager, now=WHEN + timedelta(minutes=10))
    conflicts.comment(manager, first.id, "Looking into it.", now=WHEN + timedelta(minutes=20))
    conflicts.comment(manager, first.id, SECRET, now=WHEN + timedelta(minutes=21), internal=True)
    conflicts.comment(user, first.id, "Thanks, ü and all", now=WHEN + timedelta(minutes=30))
    second = make_conflict(user, title="Delivery 88 missed", now=WHEN + timedelta(hours=1))
    other = make_conflict(
        make_partner_user(partner=make_partner(name="Bluefin"), email="sam@bluefin.example"),
        title="Bluefin's own trouble",
    )
    return user, first, second, other


def _download(browser, user) -> dict:  # type: ignore[no-untyped-def]
    browser.login(user.email)
    response = browser.get("/organisation/audit-chain.json")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith('attachment; filename="audit-chain-')
    return json.loads(response.get_data(as_text=True))


def test_the_portal_download_verifies_and_holds_only_our_conflicts_and_no_internal_text(
    browser, tmp_path
) -> None:
    user, first, second, other = _history()
    browser.login(user.email)
    page = browser.get("/organisation/audit-chain")
    assert page.status_code == 200 and "verify_chain.py" in page.get_data(as_text=True)
    document = _download(browser, user)
    raw = json.dumps(document)
    assert [c["conflict_id"] for c in document["chains"]] == [first.id, second.id]
    assert "Bluefin" not in raw and SECRET not in raw
    internal = [
        e for c in document["chains"] for e in c["entries"] if e["visibility"] == "internal"
    ]
    assert internal and all(
        set(e) == {"seq", "prev_hash", "hash", "visibility", "content_hash"} for e in internal
    )
    result = _verify(tmp_path, document)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 chains" in result.stdout and "intact" in result.stdout


def test_the_api_pages_verify_together_and_stay_scoped(app, api, tmp_path) -> None:
    user, first, second, other = _history()
    client = api(user, "read")
    response = client.get("/api/v1/audit-chain?limit=1")
    assert response.status_code == 200
    page_one = response.get_json()
    assert page_one["partner_id"] == user.partner_id and page_one["next"]
    page_two = client.get(page_one["next"].removeprefix("http://localhost")).get_json()
    assert [c["conflict_id"] for c in page_one["chains"] + page_two["chains"]] == [
        first.id,
        second.id,
    ]
    assert page_two["next"] is None
    assert client.get(f"/api/v1/audit-chain?partner_id={other.partner_id}").status_code == 404
    assert SECRET not in json.dumps(page_one)
    result = _verify(tmp_path, page_one, page_two)
    assert result.returncode == 0, result.stdout + result.stderr
    staff = api(make_manager(email="leo@trustomer.example"), "read")
    everything = staff.get("/api/v1/audit-chain?limit=100").get_json()
    assert {c["conflict_id"] for c in everything["chains"]} == {first.id, second.id, other.id}


def _public(document: dict, conflict_id: int) -> list[dict]:
    (chain,) = [c for c in document["chains"] if c["conflict_id"] == conflict_id]
    return chain["entries"]


def test_a_tampered_event_in_the_export_fails_the_verifier(browser, tmp_path) -> None:
    user, first, *_ = _history()
    document = _download(browser, user)
    tampered = copy.deepcopy(document)
    entry = next(e for e in _public(tampered, first.id) if e.get("content", {}).get("body"))
    entry["content"]["body"] = "We never said that."
    result = _verify(tmp_path, tampered)
    assert result.returncode == 1
    assert f"conflict:{first.id}: place {entry['seq']}: content changed" in result.stdout


def test_a_deleted_event_in_the_export_fails_the_verifier(browser, tmp_path) -> None:
    user, first, *_ = _history()
    document = _download(browser, user)
    deleted = copy.deepcopy(document)
    del _public(deleted, first.id)[2]
    result = _verify(tmp_path, deleted)
    assert result.returncode == 1 and "sequence gap or reorder" in result.stdout
    tail = copy.deepcopy(document)
    _public(tail, first.id).pop()
    result = _verify(tmp_path, tail)
    assert result.returncode == 1 and f"conflict:{first.id}: head" in result.stdout


def test_reordered_events_in_the_export_fail_the_verifier(browser, tmp_path) -> None:
    user, first, *_ = _history()
    document = _download(browser, user)
    reordered = copy.deepcopy(document)
    entries = _public(reordered, first.id)
    entries[1], entries[2] = entries[2], entries[1]
    result = _verify(tmp_path, reordered)
    assert result.returncode == 1 and f"conflict:{first.id}: place 2" in result.stdout


def test_a_raw_database_edit_shows_in_the_next_export_and_against_an_earlier_one(
    browser, tmp_path
) -> None:
    user, first, *_ = _history()
    earlier = _download(browser, user)
    for kind in ("reply", "internal_note"):
        db.session.execute(
            text("UPDATE conflict_events SET body = 'x' WHERE conflict_id = :id AND kind = :kind"),
            {"id": first.id, "kind": kind},
        )
        db.session.commit()
        result = _verify(tmp_path, _download(browser, user))
        assert result.returncode == 1 and "content changed" in result.stdout
    # Rewriting the hashes too, to the very head, cannot hide it from an earlier download.
    rewritten = copy.deepcopy(earlier)
    _public(rewritten, first.id)[-1]["content"]["body"] = "edited"
    _recompute(rewritten)
    assert _verify(tmp_path, rewritten).returncode == 0
    result = _verify(tmp_path, rewritten, known=earlier)
    assert result.returncode == 1 and "no longer has the earlier head" in result.stdout


def _recompute(document: dict) -> None:
    """What a forger with the algorithm would do: rehash every entry after the change."""
    for item in document["chains"]:
        prev = chain.GENESIS
        for entry in item["entries"]:
            digest = (
                chain.content_hash(entry["content"])
                if "content" in entry
                else entry["content_hash"]
            )
            entry["prev_hash"], entry["hash"] = prev, chain.link_hash(prev, digest)
            prev = entry["hash"]
        item["head"] = prev


def test_the_audit_chain_pages_are_for_partners(browser) -> None:
    make_manager(email="maya@trustomer.example")
    browser.login("maya@trustomer.example")
    assert browser.get("/organisation/audit-chain").status_code in (403, 404)
    assert browser.get("/organisation/audit-chain.json").status_code in (403, 404)


def test_a_guessed_internal_text_does_not_match_its_commitment(browser, tmp_path) -> None:
    """Knowing everything of an internal note but its salt, even its exact text, a partner
    hashing candidates finds nothing: the export's hash commits to a salt it never holds."""
    user, first, *_ = _history()
    document = _download(browser, user)
    note = db.session.scalars(
        select(ConflictEvent).where(
            ConflictEvent.conflict_id == first.id, ConflictEvent.kind == "internal_note"
        )
    ).one()
    (exported,) = [e for e in _public(document, first.id) if e["seq"] == note.chain_seq]
    assert note.chain_salt and note.chain_salt not in json.dumps(document)
    assert "salt" not in json.dumps(document)

    def guess(body: str, salt: str | None = None) -> str:
        return chain.content_hash(
            chain.conflict_event_content(
                conflict_id=note.conflict_id, seq=note.chain_seq, created_at=note.created_at,
                actor_id=note.actor_id, kind=note.kind, visibility=note.visibility,
                body=body, data=note.data, salt=salt,
            )
        )  # fmt: skip

    for candidate in (SECRET, "escalated to level 2", "Looking into it."):
        assert guess(candidate) != exported["content_hash"]
    # The commitment binds the real text under the real salt (which only the server holds).
    assert guess(SECRET, note.chain_salt) == exported["content_hash"]
    assert guess("escalated to level 2", note.chain_salt) != exported["content_hash"]
    assert _verify(tmp_path, document).returncode == 0


def test_an_export_from_before_the_salts_is_refused_as_a_known_copy(browser, tmp_path) -> None:
    user, *_ = _history()
    document = _download(browser, user)
    old = {**copy.deepcopy(document), "format": "trustomer-audit-chain/1"}
    result = _verify(tmp_path, document, known=old)
    assert result.returncode == 2 and "before internal events were salted" in result.stderr


def test_the_audit_chain_page_states_the_algorithm_with_its_salt(browser) -> None:
    """The page explains what the README's algorithm says: internal commitments are salted,
    per entry, and the salt never leaves; in every language."""
    user = make_partner_user()
    browser.login(user.email)
    for language, words in (
        ("en", ("salted", "64 zeros", "canonical JSON")),
        ("de", ("gesalzen", "64 Nullen", "kanonisches JSON")),
        ("fr", ("salée", "64 zéros", "JSON canonique")),
    ):
        page = browser.get("/organisation/audit-chain", headers={"Accept-Language": language})
        html = page.get_data(as_text=True)
        assert page.status_code == 200 and all(word in html for word in words), language
