"""Where a posted `next` or `back` may send the browser: this site only (no open redirect)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import url_for


def is_safe_target(target: str | None) -> bool:
    """True for a same-site relative path such as "/console/queue?page=2".

    Browsers read "//host", "/\\host" and leading tabs or newlines as another site,
    so anything with a backslash, a control character, a scheme or a host is refused.
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return False
    if "\\" in target or any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def safe_target(target: str | None, fallback_endpoint: str, **values: object) -> str:
    """`target` when it stays on this site, else the URL of `fallback_endpoint`."""
    return target if is_safe_target(target) else url_for(fallback_endpoint, **values)
