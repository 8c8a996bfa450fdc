"""A Trustomer server for one fault test: it stops forever at a chosen point of an API
request and says "paused" on stderr, so that the test can SIGKILL it exactly there.

Usage: python tests/races/paused_server.py PORT before-commit|after-commit
(the database and the rest come from TRACKER_* variables, as for any process).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from werkzeug.serving import make_server  # noqa: E402

from tracker import create_app  # noqa: E402
from tracker.api import endpoint  # noqa: E402
from tracker.services import idempotency  # noqa: E402


def _pause() -> None:
    print("paused", file=sys.stderr, flush=True)
    time.sleep(3600)


def main() -> None:
    port, point = int(sys.argv[1]), sys.argv[2]
    if point == "before-commit":  # the conflict is written and flushed, nothing committed
        complete = idempotency.complete

        def complete_then_pause(*args, **kwargs):  # type: ignore[no-untyped-def]
            complete(*args, **kwargs)
            _pause()

        idempotency.complete = complete_then_pause  # type: ignore[assignment]
    elif point == "after-commit":  # committed, the response not yet sent
        respond = endpoint.json_response

        def pause_then_respond(*args, **kwargs):  # type: ignore[no-untyped-def]
            _pause()
            return respond(*args, **kwargs)

        endpoint.json_response = pause_then_respond  # type: ignore[assignment]
    else:
        raise SystemExit(f"unknown pause point {point!r}")
    server = make_server("127.0.0.1", port, create_app(), threaded=True)
    print("serving", file=sys.stderr, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
