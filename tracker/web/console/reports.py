"""The manager's Reports page: monthly rollups across partners, charts and CSV."""

from __future__ import annotations

from flask import abort, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from tracker.clock import utcnow
from tracker.domain.accounts import STAFF_ROLES
from tracker.domain.text import N_
from tracker.services import reports
from tracker.web.access import role_required
from tracker.web.charts import bar_chart
from tracker.web.console.blueprint import bp
from tracker.web.csv_export import download
from tracker.web.templating import chart_words

TABLES = {
    "month": (N_("Per month"), "by_month"),
    "category": (N_("Per category"), "by_category"),
    "partner": (N_("Per partner"), "by_partner"),
    "assignee": (N_("Per assignee"), "by_assignee"),
}
HEADER = (
    "group", "raised", "triaged", "first_resolved", "triage_p50_business_hours",
    "triage_p90_business_hours", "resolution_p50_business_hours",
    "resolution_p90_business_hours", "sla_compliance_percent", "reopen_rate_percent",
    "dispute_rate_percent",
)  # fmt: skip


def _row(line: reports.Line) -> list:
    f = line.figures

    def pct(value: float | None) -> str:
        return "" if value is None else f"{value:.1f}"

    def hours(value: int | None) -> str:
        return "" if value is None else str(value)

    return [
        line.label, f.counts["raised"], f.counts["triaged"], f.counts["resolved"],
        hours(f.p("triage", 0.5)), hours(f.p("triage", 0.9)), hours(f.p("resolution", 0.5)),
        hours(f.p("resolution", 0.9)), pct(f.rate("sla_met")), pct(f.rate("reopened")),
        pct(f.rate("disputed")),
    ]  # fmt: skip


def _cell_hours(value: int | None) -> str:
    return "—" if value is None else str(value)


def _cell_percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}%"


@bp.route("/reports")
@role_required(*STAFF_ROLES)
def reports_page():
    report = reports.report(current_user, utcnow())
    months = [(line.label, line.figures.counts["raised"]) for line in report.by_month]
    compliance = [(line.label, line.figures.rate("sla_met") or 0.0) for line in report.by_month]
    return render_template(
        "console/reports.html",
        report=report,
        tables=[(key, title, getattr(report, attr)) for key, (title, attr) in TABLES.items()],
        header=HEADER,
        row=_row,
        hours=_cell_hours,
        percent=_cell_percent,
        volume_chart=bar_chart(
            months, title=_("Conflicts raised per month"), chart_id="report-volume",
            description=_("How many conflicts were raised in each of the last 12 months."),
            y_label=_("Conflicts"), words=chart_words(),
        ),
        compliance_chart=bar_chart(
            compliance, title=_("SLA compliance per month"), chart_id="report-compliance",
            description=_("Share of first resolutions in each month that met the resolution "
            "target."), y_label=_("Percent"), y_max=100, color="#1d7a46", words=chart_words(),
        ),
    )  # fmt: skip


@bp.route("/reports.csv")
@role_required(*STAFF_ROLES)
def reports_csv():
    by = request.args.get("by", "month")
    if by not in TABLES:
        abort(404)
    now = utcnow()
    lines = getattr(reports.report(current_user, now), TABLES[by][1])
    return download(f"trustomer-report-by-{by}", now.date(), HEADER, map(_row, lines))
