"""Health and readiness probes for load balancers and orchestrators (no login)."""

from flask import Blueprint, current_app, jsonify

from tracker.services.health import readiness

bp = Blueprint("ops", __name__)


@bp.route("/healthz")
def healthz():
    """The process answers: nothing else is checked, so a slow database never kills workers."""
    return jsonify(status="ok")


@bp.route("/readyz")
def readyz():
    """Ready when the database answers and its schema is at the migrations' head."""
    report = readiness(current_app)
    return jsonify(report), (200 if report["status"] == "ok" else 503)
