"""Trustomer: partner conflict and issue resolution tracker."""

from __future__ import annotations

from flask import Flask, Response, request, session
from werkzeug.middleware.proxy_fix import ProxyFix

from config import BASE_DIR, INSTANCE_DIR, Config, load_config


def create_app(config: Config | dict | None = None) -> Flask:
    """Build the app: `config` is a Config, a dict of overrides, or None for TRACKER_ENV's."""
    app = Flask(
        __name__,
        template_folder=str(BASE_DIR / "templates"),
        instance_path=str(INSTANCE_DIR),
        instance_relative_config=True,
    )
    if isinstance(config, Config):
        app.config.from_object(config)
    else:
        app.config.from_object(load_config())
        if config:
            app.config.update(config)
    configure_proxies(app)
    register_logging(app)
    warn_about_process_local_limits(app)
    register_security_headers(app)  # early: after_request hooks run last-registered first
    register_extensions(app)
    register_event_handlers()
    register_blueprints(app)
    register_errorhandlers(app)
    register_template_helpers(app)
    register_commands(app)
    return app


def configure_proxies(app: Flask) -> None:
    """Behind a load balancer, trust its X-Forwarded-* headers (TRACKER_TRUSTED_PROXIES hops)."""
    hops = int(app.config.get("TRUSTED_PROXIES", 0) or 0)
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]


def register_logging(app: Flask) -> None:
    from tracker.logs import configure_logging

    configure_logging(app)


def warn_about_process_local_limits(app: Flask) -> None:
    """Several production workers with memory:// storage each count on their own."""
    from tracker.services.health import configuration_warnings

    for warning in configuration_warnings(app.config):
        app.logger.warning("CONFIGURATION WARNING: %s", warning)


def register_extensions(app: Flask) -> None:
    from flask_babel import gettext

    from tracker import i18n, migration_commands, models  # noqa: F401  (models: for Alembic)
    from tracker.clock import utcnow
    from tracker.database import configure_engine_events
    from tracker.extensions import csrf, db, limiter, login_manager
    from tracker.services.accounts import load_session_user
    from tracker.services.login_throttle import LoginThrottle

    def load_user(token: str):  # type: ignore[no-untyped-def]
        return load_session_user(token, now=utcnow())

    db.init_app(app)
    migration_commands.init_app(app, db)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.localize_callback = gettext
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"
    login_manager.user_loader(load_user)
    i18n.init_app(app)
    app.extensions["login_throttle"] = LoginThrottle.from_uri(
        app.config["RATELIMIT_STORAGE_URI"],
        per_account=app.config["LOGIN_FAILURES_PER_ACCOUNT"],
        per_address=app.config["LOGIN_FAILURES_PER_ADDRESS"],
        window_minutes=app.config["LOGIN_LOCKOUT_MINUTES"],
    )
    with app.app_context():
        configure_engine_events(db.engine)


def register_security_headers(app: Flask) -> None:
    """HSTS in production; nothing private (signed-in pages, exports, API answers) is stored
    by browsers or proxies."""
    hsts_seconds = int(app.config.get("HSTS_SECONDS", 0) or 0)

    @app.after_request
    def transport_and_caching_headers(response: Response) -> Response:
        if hsts_seconds:
            response.headers["Strict-Transport-Security"] = (
                f"max-age={hsts_seconds}; includeSubDomains"
            )
        if request.endpoint != "static" and (
            request.path.startswith("/api/") or "_user_id" in session
        ):
            response.headers["Cache-Control"] = "no-store"
        return response


def register_event_handlers() -> None:
    """Wire the message bus: which consumers hear of which domain event."""
    from tracker.services.handlers import register

    register()


def register_blueprints(app: Flask) -> None:
    from tracker.api import register_api
    from tracker.web import register_blueprints as register_web

    register_web(app)
    register_api(app)


def register_errorhandlers(app: Flask) -> None:
    from tracker.web.errors import register_errorhandlers as register

    register(app)


def register_template_helpers(app: Flask) -> None:
    from tracker.web.templating import register_template_helpers as register

    register(app)


def register_commands(app: Flask) -> None:
    from tracker.api.cli import register_commands as register_api_commands
    from tracker.cli import register_commands as register
    from tracker.jobs.cli import register_commands as register_jobs

    register(app)
    register_jobs(app)
    register_api_commands(app)
