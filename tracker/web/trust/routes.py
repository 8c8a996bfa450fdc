"""Trust pages for managers (every partner, the portfolio) and partners (their own record)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from tracker.clock import utcnow
from tracker.domain import trust as model
from tracker.domain import trust_period as period
from tracker.domain import workflow
from tracker.domain.accounts import PARTNER, STAFF_ROLES
from tracker.services import partners, trust, trust_record
from tracker.services import portfolio as portfolio_service
from tracker.services.errors import NotFound, ServiceError
from tracker.web.access import role_required
from tracker.web.charts import Point, Series, data_table, line_chart
from tracker.web.csv_export import download  # one rule for every CSV
from tracker.web.paging import page_arg
from tracker.web.templating import chart_words
from tracker.web.trust.blueprint import bp
from tracker.web.trust.forms import CheckInForm, RatingForm

if TYPE_CHECKING:
    from tracker.models import Partner

PERIODS = {"30d": 30, "90d": 90, "365d": 365, "all": None}
SMALL_SAMPLE = 5  # fewer conflicts than this behind a score: say it can still swing
SIDE_COLORS = {model.SIDE_DELIVERY: "#1f5fa8", model.SIDE_RESPONSIVENESS: "#1d7a46"}


def _period(now: datetime) -> tuple[str, datetime, datetime]:
    key = request.args.get("period", "365d")
    if key not in PERIODS:
        key = "365d"
    return key, period.period_start(now, PERIODS[key]), now  # whole UTC days


def _partner_or_404(partner_id: int) -> Partner:
    try:
        return partners.visible_partner(current_user, partner_id)
    except NotFound:
        abort(404)


def _trust_context(partner: Partner, now: datetime) -> dict:
    key, since, until = _period(now)
    figures = trust_record.figures(partner.id, since, until, now)
    series = []
    for side in model.SIDES:
        points = tuple(
            Point(moment, point.score, point.low, point.high)
            for moment, point in figures.trend[side]
        )
        series.append(Series(_(trust.SIDE_LABELS[side]), points, SIDE_COLORS[side]))
    return {
        "partner": partner,
        "scores": figures.scores,
        "changes": figures.changes,
        "fading_only": figures.fading_only,
        "small_sample": SMALL_SAMPLE,
        "stats": figures.stats,
        "events": trust_record.ledger_page(partner.id, since, until, page_arg(), per_page=25),
        "explain": trust.explain,
        "half_life_days": figures.half_life_days,
        "period": key,
        "periods": PERIODS,
        "severities": workflow.SEVERITIES,
        "chart": line_chart(
            series,
            title=_("Trust scores of %(partner)s, last 12 months", partner=partner.name),
            description=_(
                "Expected trust (0-100) at each month end for both sides, "
                "with the range it most likely lies in shaded."
            ),
            x_label=_("Month"),
            y_label=_("Trust score"),
            chart_id="trust-trend",
            words=chart_words(),
        ),
        "chart_table": data_table(
            series,
            caption=_("Trust scores per month end (the range it most likely lies in)"),
            words=chart_words(),
        ),
    }


@bp.route("/partners/<int:partner_id>/trust")
@role_required(*STAFF_ROLES)
def partner_trust(partner_id: int):
    partner = _partner_or_404(partner_id)
    return render_template(
        "trust/partner.html",
        **_trust_context(partner, utcnow()),
        check_ins=trust_record.recent_check_ins(partner.id),
        check_in_form=CheckInForm(),
        csv_url=url_for("trust.partner_trust_csv", partner_id=partner.id),
        endpoint="trust.partner_trust",
        endpoint_args={"partner_id": partner.id},
    )


@bp.route("/portal/trust")
@role_required(PARTNER)
def own_trust():
    partner = current_user.partner
    return render_template(
        "trust/partner.html",
        **_trust_context(partner, utcnow()),
        check_ins=None,
        check_in_form=None,
        csv_url=url_for("trust.own_trust_csv"),
        endpoint="trust.own_trust",
        endpoint_args={},
    )


LEDGER_HEADER = (
    "at", "conflict", "side", "kind", "severity", "weight", "rule", "explanation",
    "triage_business_hours", "resolution_business_hours", "resolution_wall_hours", "sla_met",
    "overrun_hours", "accountable_side",
)  # fmt: skip


def _hours(seconds: int | None) -> float | str:
    return "" if seconds is None else round(seconds / 3600, 2)


def _ledger_csv(partner: Partner) -> Response:
    now = utcnow()
    _key, since, until = _period(now)
    rows = (
        [event.at.isoformat(), event.conflict.ref if event.conflict else "", event.side,
         event.kind, event.severity or "", round(event.weight, 3), event.rule,
         event.explanation, _hours(event.triage_business_seconds),
         _hours(event.resolution_business_seconds), _hours(event.resolution_wall_seconds),
         "" if event.sla_met is None else str(event.sla_met).lower(),
         _hours(event.overrun_seconds), event.accountable_side or ""]
        for event in trust_record.ledger(partner.id, since, until)
    )  # fmt: skip
    return download(f"trust-ledger-{partner.id}", now.date(), LEDGER_HEADER, rows)


@bp.route("/partners/<int:partner_id>/trust.csv")
@role_required(*STAFF_ROLES)
def partner_trust_csv(partner_id: int):
    return _ledger_csv(_partner_or_404(partner_id))


@bp.route("/portal/trust.csv")
@role_required(PARTNER)
def own_trust_csv():
    return _ledger_csv(current_user.partner)


@bp.route("/partners/<int:partner_id>/check-ins", methods=["POST"])
@role_required(*STAFF_ROLES)
def check_in(partner_id: int):
    partner = _partner_or_404(partner_id)
    form = CheckInForm()
    if form.validate_on_submit():
        try:
            trust.check_in(current_user, partner.id, form.note.data, now=utcnow())
        except ServiceError as exc:
            flash(_(exc.message), "error")
        else:
            flash(_("Check-in with %(name)s logged.", name=partner.name), "success")
    else:
        flash(_("Say what was discussed (at most 5,000 characters)."), "error")
    return redirect(url_for("trust.partner_trust", partner_id=partner.id) + "#check-ins")


@bp.route("/portal/conflicts/<int:conflict_id>/rate", methods=["POST"])
@role_required(PARTNER)
def rate(conflict_id: int):
    form = RatingForm()
    if form.validate_on_submit():
        try:
            trust.rate(
                current_user, conflict_id, int(form.stars.data), form.comment.data, now=utcnow()
            )
        except ServiceError as exc:
            if exc.status == 404:
                abort(404)
            flash(_(exc.message), "error")
        else:
            flash(_("Thank you: your rating is part of our record with you."), "success")
    else:
        flash(_("Choose 1 to 5 stars (and at most 2,000 characters of comment)."), "error")
    return redirect(url_for("portal.conflict", conflict_id=conflict_id))


@bp.route("/console/portfolio")
@role_required(*STAFF_ROLES)
def portfolio():
    sort = request.args.get("sort", portfolio_service.DEFAULT_SORT)
    if sort not in portfolio_service.SORTS:
        sort = portfolio_service.DEFAULT_SORT
    rows = portfolio_service.rows(utcnow(), sort)
    return render_template(
        "trust/portfolio.html", rows=rows, sort=sort, sorts=portfolio_service.SORTS
    )


PORTFOLIO_HEADER = (
    "partner", "tier", "delivery_score", "delivery_low", "delivery_high", "delivery_change_30d",
    "responsiveness_score", "responsiveness_low", "responsiveness_high",
    "responsiveness_change_30d", "open_conflicts", "breaches_this_month",
)  # fmt: skip


@bp.route("/console/portfolio.csv")
@role_required(*STAFF_ROLES)
def portfolio_csv():
    now = utcnow()
    rows = (
        [row["partner"].name, row["partner"].tier, round(d.score, 1), round(d.low, 1),
         round(d.high, 1), round(row["delivery_change"], 1), round(r.score, 1), round(r.low, 1),
         round(r.high, 1), round(row["responsiveness_change"], 1), row["open"], row["breaches"]]
        for row in portfolio_service.rows(now, "name")
        for d, r in [(row["delivery"], row["responsiveness"])]
    )  # fmt: skip
    return download("trust-portfolio", now.date(), PORTFOLIO_HEADER, rows)
