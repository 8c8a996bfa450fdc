"""Absolute links to the app's pages on BASE_URL (TRACKER_BASE_URL), for mail and webhooks."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from werkzeug.routing import MapAdapter

from tracker.models import Conflict


def external_url(endpoint: str, **values: Any) -> str:
    """An absolute link to `endpoint` on BASE_URL, built from the URL map without a request.

    Never on a request's Host header: jobs and the CLI have no request, and a request's Host
    is whatever its sender wrote.
    """
    current_app.inject_url_defaults(endpoint, values)
    return _adapter(current_app.config["BASE_URL"]).build(endpoint, values, force_external=True)


def _adapter(base_url: str) -> MapAdapter:
    """The URL map bound to BASE_URL, once per app and base (a sweep links hundreds)."""
    adapters = current_app.extensions.setdefault("links.adapters", {})
    adapter = adapters.get(base_url)
    if adapter is None:
        base = urlsplit(base_url.rstrip("/"))
        adapter = adapters[base_url] = current_app.url_map.bind(
            base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "http"
        )
    return adapter


def conflict_url(conflict: Conflict, *, staff: bool) -> str:
    """An absolute link to the conflict's page for this kind of reader (for mail and hooks)."""
    prefix, suffix = _conflict_link("console.conflict" if staff else "portal.conflict")
    return f"{prefix}{conflict.id}{suffix}"


def _conflict_link(endpoint: str) -> tuple[str, str]:
    """What comes before and after the id in a conflict's link, built once per app, base
    and endpoint: an API page links 25 conflicts, a sweep hundreds, and building each from
    the URL map costs more than the rest of its row. The app has no URL defaults that
    depend on a request, so the link depends on the id alone."""
    base = current_app.config["BASE_URL"]
    templates = current_app.extensions.setdefault("links.conflict_templates", {})
    template = templates.get((base, endpoint))
    if template is None:
        one = external_url(endpoint, conflict_id=1)
        cut = one.rindex("1")
        template = one[:cut], one[cut + 1 :]
        if external_url(endpoint, conflict_id=987) != "987".join(template):
            raise RuntimeError(f"{endpoint}: a conflict's link is not its id in a fixed text")
        templates[(base, endpoint)] = template
    return template
