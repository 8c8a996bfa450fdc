"""Server-rendered pages, one blueprint per area."""

from flask import Flask


def register_blueprints(app: Flask) -> None:
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
