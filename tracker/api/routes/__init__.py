"""API routes, one module per resource; ids in their paths use the `id` converter below."""

from __future__ import annotations

from typing import Any

from flask.blueprints import BlueprintSetupState
from werkzeug.routing import BaseConverter

from tracker.api.blueprint import bp
from tracker.api.schemas import MAX_ID

_NOT_AN_ID = MAX_ID + 1  # the endpoint answers 404 for any id above MAX_ID


class IdConverter(BaseConverter):
    """`<id:...>`: any path segment, so a malformed or too-large id reaches its route.

    With a stricter pattern such an id matched no rule of its method and Werkzeug answered
    405 from a sibling rule (GET /comments exists, so POST /comments/<huge> was "not allowed").
    Here every such id becomes MAX_ID + 1, which `endpoint()` answers with a 404.
    """

    regex = r"[^/]+"

    def to_python(self, value: str) -> int:
        if value.isascii() and value.isdigit() and not value.startswith("0") and len(value) < 11:
            number = int(value)
            if number <= MAX_ID:
                return number
        return _NOT_AN_ID

    def to_url(self, value: Any) -> str:
        return str(int(value))


def _register_converter(state: BlueprintSetupState) -> None:
    state.app.url_map.converters["id"] = IdConverter


# Recorded before any route module adds its rules: the converter must exist when they bind.
bp.record_once(_register_converter)
