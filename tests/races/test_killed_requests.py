"""A worker killed in the middle of `POST /api/v1/conflicts` with an Idempotency-Key: the
client that retries with the same key and body gets its conflict exactly once.

The server is a real process on loopback, stopped at a known point and killed with SIGKILL;
the retry goes to another server (this test's app) on the same database.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.api.conftest import token_for
from tests.factories import make_partner_user
from tests.servers import free_port, read_until, wait_for
from tracker.extensions import db
from tracker.models import Conflict, IdempotencyRecord

ROOT = Path(__file__).resolve().parents[2]
BODY = {
    "title": "Pallets for order 5521 arrived without papers",
    "description": "The delivery note and the customs papers were missing.",
    "category": "delivery",
    "severity": "high",
}


def _post_in_background(port: int, token: str, key: str) -> threading.Thread:
    def post() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            connection.request(
                "POST",
                "/api/v1/conflicts",
                body=json.dumps(BODY),
                headers={
                    "Authorization": f"Bearer {token}",
                    "Content-Type": "application/json",
                    "Idempotency-Key": key,
                },
            )
            connection.getresponse().read()
        except OSError:
            pass  # the server was killed: the client saw no answer, so it retries
        finally:
            connection.close()

    thread = threading.Thread(target=post, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize("point", ["before-commit", "after-commit"])
def test_a_create_killed_mid_request_and_retried_with_its_key_happens_once(
    app, client, tmp_path, point
) -> None:
    user = make_partner_user()
    token = token_for(user)
    port = free_port()
    env = {
        **os.environ,
        "TRACKER_ENV": "test",
        "TRACKER_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "TRACKER_INSTANCE_PATH": str(tmp_path),
    }
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "tests/races/paused_server.py"), str(port), point],
        cwd=ROOT, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        read_until(server, "serving")
        request = _post_in_background(port, token, f"killed-{point}")
        read_until(server, "paused")
        os.kill(server.pid, signal.SIGKILL)
        server.wait(timeout=10)
        request.join(timeout=10)
    finally:
        if server.poll() is None:
            server.kill()
    db.session.expire_all()
    committed = db.session.scalar(select(func.count(Conflict.id)))
    assert committed == (1 if point == "after-commit" else 0)  # the kill hit where we meant

    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/json",
        "Idempotency-Key": f"killed-{point}",
    }
    raw = json.dumps(BODY)  # a retry sends the very same bytes

    def post():  # type: ignore[no-untyped-def]
        return client.post("/api/v1/conflicts", data=raw, headers=headers)

    retry = wait_for(post)
    assert retry.status_code == 201, retry.get_data(as_text=True)
    assert (retry.headers.get("Idempotent-Replayed") == "true") == (point == "after-commit")
    again = post()
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["id"] == retry.get_json()["id"]
    [conflict] = db.session.scalars(select(Conflict)).all()
    assert conflict.id == retry.get_json()["id"] and conflict.title == BODY["title"]
    [record] = db.session.scalars(select(IdempotencyRecord)).all()
    assert record.response_status == 201 and record.response_body["id"] == conflict.id
