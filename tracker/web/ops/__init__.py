"""Health and readiness probes for load balancers and orchestrators (no login)."""

from flask import Blueprint, current_app, jsonify, redirect, url_for

from tracker.services.health import readiness

bp = Blueprint("ops", __name__)


@bp.route("/healthz")
def healthz():
    """The process answers: nothing else is checked, so a slow database never kills workers."""
    return jsonify(status="ok")


@bp.route("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico whatever the page says; answer with the app's icon."""
    return redirect(url_for("static", filename="favicon.svg"), code=301)


@bp.route("/readyz")
def readyz():
    """Ready when the database answers and its schema is at the migrations' head."""
    report = readiness(current_app)
    return jsonify(report), (200 if report["status"] == "ok" else 503)
