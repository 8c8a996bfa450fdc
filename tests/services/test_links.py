"""Absolute links are built on BASE_URL from the URL map, with no request in sight."""

from __future__ import annotations

from flask import Flask, has_request_context

from tracker.models import Conflict
from tracker.services import links


def test_conflict_links_use_base_url_scheme_host_and_path(app: Flask) -> None:
    app.config["BASE_URL"] = "https://trust.example.com/tracker/"
    assert not has_request_context()
    conflict = Conflict(id=42)
    assert links.conflict_url(conflict, staff=True) == (
        "https://trust.example.com/tracker/console/conflicts/42"
    )
    assert links.conflict_url(conflict, staff=False) == (
        "https://trust.example.com/tracker/portal/conflicts/42"
    )


def test_links_ignore_the_host_of_the_current_request(app: Flask) -> None:
    app.config["BASE_URL"] = "http://127.0.0.1:5000"
    with app.test_request_context(base_url="https://attacker.example"):
        assert links.external_url("console.conflict", conflict_id=7) == (
            "http://127.0.0.1:5000/console/conflicts/7"
        )
