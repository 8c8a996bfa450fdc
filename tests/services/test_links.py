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


def test_a_conflict_link_is_the_url_maps_for_any_id_and_base(app: Flask) -> None:
    """The link text is built once per base and endpoint; it must stay the URL map's own."""
    for base in ("https://trust.example.com/tracker/", "http://127.0.0.1:5000"):
        app.config["BASE_URL"] = base
        for conflict_id in (1, 7, 10, 111, 2_147_483_647):
            for staff, endpoint in ((True, "console.conflict"), (False, "portal.conflict")):
                assert links.conflict_url(Conflict(id=conflict_id), staff=staff) == (
                    links.external_url(endpoint, conflict_id=conflict_id)
                )
