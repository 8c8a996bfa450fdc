"""A live server on loopback and Debian's chromium driven by Playwright."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("TRACKER_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def live_server(app) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The test app served by a real HTTP server in a thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


def in_ci() -> bool:
    """CI=true (any value but empty, 0, false or no), as CI services set it."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.fixture
def chromium() -> Iterator[object]:
    if not os.path.exists(CHROMIUM):
        missing = f"{CHROMIUM} is missing: `make test` installs Debian's chromium when run as root"
        if in_ci():  # on CI a skipped browser test would pass unseen: fail instead
            pytest.fail(
                f"{missing}. CI is set, so the browser tests must run: install chromium "
                "(apt-get install chromium) or point TRACKER_CHROMIUM at it.",
                pytrace=False,
            )
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()
