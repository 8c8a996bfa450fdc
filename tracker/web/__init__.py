"""Server-rendered pages, one blueprint per area."""

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from tracker.web.admin import bp as admin_bp
    from tracker.web.auth import bp as auth_bp
    from tracker.web.main import bp as main_bp
    from tracker.web.ops import bp as ops_bp
    from tracker.web.partners import bp as partners_bp

    for blueprint in (main_bp, auth_bp, admin_bp, partners_bp, ops_bp):
        app.register_blueprint(blueprint)
