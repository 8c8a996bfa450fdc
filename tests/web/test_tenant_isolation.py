"""Tenant isolation, route by route: a partner's user reaches nothing of another partner by id.

The routes come from the app's URL map, so a new partner-side route with an id in its path is
tested the day it is added (and fails here until this file knows what kind of id it takes).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.routing import Rule

from tests.factories import WHEN, make_conflict, make_manager, make_partner_user, triage
from tracker.extensions import db
from tracker.models import (
    ApiToken,
    Attachment,
    Conflict,
    ConflictEvent,
    Notification,
    PartnerWebhook,
    Rating,
)
from tracker.services import api_tokens, partner_webhooks
from tracker.services.attachments import Upload
from tracker.web.conflict_forms import ACTION_FORMS

PARTNER_SIDE = ("portal.", "shared.", "trust.own", "account.")
_ARGUMENT = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")  # <converter(args):name>
# Every field any of these forms reads, filled validly: a refusal must come from the id.
FORM = {
    "body": "Let me in.",
    "reason": "raised_in_error",
    "stars": "5",
    "comment": "Great.",
    "note": "x",
}
KNOWN_ROUTES = {
    ("portal.conflict", "GET"),
    ("portal.comment", "POST"),
    ("portal.action", "POST"),
    ("trust.rate", "POST"),
    ("shared.attachment", "GET"),
    ("shared.open_notification", "POST"),
    ("account.revoke_token", "POST"),
    ("account.deactivate_webhook", "POST"),
}


def _int_arguments(rule: Rule) -> dict[str, str]:
    return {name: kind for kind, name in _ARGUMENT.findall(rule.rule)}


def _partner_routes(app: Flask) -> Iterator[tuple[Rule, str]]:
    """(rule, method) of every partner-side route that takes an integer id."""
    for rule in app.url_map.iter_rules():
        partner_side = rule.endpoint.startswith(PARTNER_SIDE) or rule.rule.startswith("/portal/")
        if partner_side and "int" in _int_arguments(rule).values():
            for method in sorted(rule.methods & {"GET", "POST"}):
                yield rule, method


@pytest.fixture
def theirs(app):  # type: ignore[no-untyped-def]
    """Another partner's things, one of each kind a partner-side route takes by id."""
    user = make_partner_user(email="owner@other.example")
    manager = make_manager()
    conflict = make_conflict(user, uploads=[Upload("terms.pdf", b"%PDF-1.4 theirs")])
    triage(conflict, manager)  # their user now has a notification
    hook, _ = partner_webhooks.create(
        user, url="https://hooks.other.example/in", events=None, now=WHEN
    )
    token, _ = api_tokens.create(user, name="theirs", scope="write", now=WHEN)
    notification = db.session.scalars(
        select(Notification).where(Notification.user_id == user.id)
    ).first()
    assert notification is not None
    return {
        "conflict_id": conflict.id,
        "attachment_id": db.session.scalars(select(Attachment.id)).one(),
        "notification_id": notification.id,
        "token_id": token.id,
        "hook_id": hook.id,
    }


def _urls(app: Flask, rule: Rule, ids: dict[str, int]) -> list[str]:
    arguments = _int_arguments(rule)
    unknown = {n for n, kind in arguments.items() if kind == "int"} - set(ids)
    assert not unknown, f"{rule.rule}: teach this test which object {unknown} names"
    adapter = app.url_map.bind("localhost")
    if "action" in arguments:  # every workflow action, and one that does not exist
        values = [{**ids, "action": action} for action in (*ACTION_FORMS, "no-such-action")]
    else:
        values = [ids]
    return [adapter.build(rule.endpoint, {k: v[k] for k in rule.arguments}) for v in values]


def test_the_known_partner_routes_with_ids_are_all_checked(app) -> None:
    found = {(rule.endpoint, method) for rule, method in _partner_routes(app)}
    assert found >= KNOWN_ROUTES, KNOWN_ROUTES - found


def test_partner_reaches_nothing_of_another_partner_by_id(app, browser, theirs) -> None:
    stranger = make_partner_user()
    browser.login(stranger.email)
    events_before = db.session.scalar(select(db.func.count(ConflictEvent.id)))
    checked = 0
    for rule, method in _partner_routes(app):
        for url in _urls(app, rule, theirs):
            response = browser.get(url) if method == "GET" else browser.post(url, FORM)
            # 404, never 403: a partner is not even told that the object exists.
            assert response.status_code == 404, (method, url, response.status_code)
            checked += 1
    assert checked >= len(KNOWN_ROUTES)
    db.session.expire_all()
    assert db.session.get(Conflict, theirs["conflict_id"]).status == "triaged"
    assert db.session.scalar(select(db.func.count(ConflictEvent.id))) == events_before
    assert db.session.get(Notification, theirs["notification_id"]).read_at is None
    assert db.session.get(ApiToken, theirs["token_id"]).revoked_at is None
    assert db.session.get(PartnerWebhook, theirs["hook_id"]).active
    assert db.session.scalar(select(Rating.id)) is None


def test_the_same_requests_are_not_refused_to_the_owner(app, new_browser, theirs) -> None:
    """The check above means something: with the owner's session, the ids are found."""
    owner = db.session.get(Conflict, theirs["conflict_id"]).created_by
    browser = new_browser()
    browser.login(owner.email)
    for rule, method in _partner_routes(app):
        for url in _urls(app, rule, theirs):
            if url.endswith("/no-such-action"):
                continue
            if method == "GET":
                assert browser.get(url).status_code == 200, url
            else:
                assert browser.post(url, FORM).status_code == 302, url
