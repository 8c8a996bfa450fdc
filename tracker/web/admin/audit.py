"""Admin Audit log page: every admin or manager change, filtered, and as CSV."""

from __future__ import annotations

from flask import Response, render_template, request
from flask_login import current_user

from tracker.clock import utcnow
from tracker.domain.accounts import ADMIN
from tracker.services import admin_audit
from tracker.services.errors import InvalidInput
from tracker.web.access import role_required
from tracker.web.admin.blueprint import bp
from tracker.web.csv_export import download
from tracker.web.paging import page_arg


def _filters() -> tuple[admin_audit.AuditFilters, dict[str, str]]:
    """The query string's filters; malformed ones are shown as errors and ignored."""
    try:
        filters = admin_audit.parse_filters(
            actor=request.args.get("actor"),
            kind=request.args.get("kind"),
            since=request.args.get("since"),
            until=request.args.get("until"),
            timezone=current_user.display_timezone,
        )
    except InvalidInput as exc:
        return admin_audit.AuditFilters(timezone=current_user.display_timezone), exc.field_errors
    return filters, {}


@bp.route("/audit")
@role_required(ADMIN)
def audit_log():
    filters, errors = _filters()
    return render_template(
        "admin/audit.html",
        page=admin_audit.page(filters, page_arg()),
        filters=filters,
        errors=errors,
        kinds=admin_audit.KINDS,
        actors=admin_audit.actors(),
        describe=admin_audit.describe,
        args=request.args,
    )


@bp.route("/audit.csv")
@role_required(ADMIN)
def audit_log_csv():
    filters, errors = _filters()
    if errors:
        return Response("; ".join(f"{k}: {v}" for k, v in errors.items()), status=400)
    rows = admin_audit.csv_rows(admin_audit.all_entries(filters))
    return download("admin-audit", utcnow().date(), admin_audit.CSV_HEADER, rows)
