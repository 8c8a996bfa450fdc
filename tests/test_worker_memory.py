"""A web worker does not load what only some requests need: zxcvbn's word lists (~13 MiB
per worker) wait for the first password being set."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_starting_the_app_does_not_load_the_password_word_lists(tmp_path) -> None:
    script = "import sys, wsgi; print('zxcvbn' in sys.modules)"
    env = {
        **os.environ,
        "TRACKER_ENV": "development",
        "TRACKER_INSTANCE_PATH": str(tmp_path),
        "TRACKER_DATABASE_URL": f"sqlite:///{tmp_path / 'memory.db'}",
    }
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=120, check=True,
    )  # fmt: skip
    assert result.stdout.strip().splitlines()[-1] == "False", result.stdout + result.stderr
