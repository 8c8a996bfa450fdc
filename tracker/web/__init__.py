"""Server-rendered pages, one blueprint per area."""

from flask import Flask
from werkzeug.routing import IntegerConverter

from tracker.web.paging import MAX_ID


class BoundedIntConverter(IntegerConverter):
    """`<int:...>` for ASCII digits up to MAX_ID: a larger id is a 404, not a database overflow."""

    regex = r"[0-9]+"

    def __init__(self, url_map, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


def register_blueprints(app: Flask) -> None:
    """Register every page blueprint; ids in their URLs are bounded first."""
    app.url_map.converters["int"] = BoundedIntConverter
    from tracker.web.account import bp as account_bp
    from tracker.web.admin import bp as admin_bp
    from tracker.web.auth import bp as auth_bp
    from tracker.web.console import bp as console_bp
    from tracker.web.main import bp as main_bp
    from tracker.web.ops import bp as ops_bp
    from tracker.web.partners import bp as partners_bp
    from tracker.web.portal import bp as portal_bp
    from tracker.web.shared import bp as shared_bp
    from tracker.web.trust import bp as trust_bp

    blueprints = (
        main_bp,
        auth_bp,
        admin_bp,
        partners_bp,
        portal_bp,
        console_bp,
        shared_bp,
        trust_bp,
        ops_bp,
        account_bp,
    )
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
