"""Trust pages for managers (every partner, the portfolio) and partners (their own record)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from tracker.clock import utcnow
from tracker.domain import trust as model
from tracker.domain import workflow
from tracker.domain.accounts import PARTNER, STAFF_ROLES
from tracker.extensions import db
from tracker.models import CheckIn, Conflict, Partner, TrustEvent, TrustHistory, TrustScore
from tracker.services import trust
from tracker.services.errors import ServiceError
from tracker.web.access import role_required
from tracker.web.charts import Point, Series, data_table, line_chart
from tracker.web.paging import page_arg
from tracker.web.trust.blueprint import bp
from tracker.web.trust.forms import CheckInForm, RatingForm

PERIODS = {"30d": 30, "90d": 90, "365d": 365, "all": None}
SIDE_COLORS = {model.SIDE_DELIVERY: "#1f5fa8", model.SIDE_RESPONSIVENESS: "#1d7a46"}


def _period(now: datetime) -> tuple[str, datetime, datetime]:
    key = request.args.get("period", "365d")
    if key not in PERIODS:
        key = "365d"
    days = PERIODS[key]
    since = now - timedelta(days=days) if days else datetime(2000, 1, 1, tzinfo=UTC)
    return key, since, now


def _trust_context(partner: Partner, now: datetime) -> dict:
    key, since, until = _period(now)
    series = []
    for side in model.SIDES:
        points = tuple(
            Point(moment, point.score, point.low, point.high)
            for moment, point in trust.trend(partner.id, side, now)
        )
        series.append(Series(trust.SIDE_LABELS[side], points, SIDE_COLORS[side]))
    events = db.paginate(
        trust.ledger(partner.id, since, until), page=page_arg(), per_page=25, error_out=False
    )
    return {
        "partner": partner,
        "scores": trust.scores(partner.id, now),
        "changes": {side: trust.change(partner.id, side, now) for side in model.SIDES},
        "stats": trust.period_stats(partner.id, since, until),
        "events": events,
        "explain": trust.explain,
        "half_life_days": trust.weights().half_life.days,
        "period": key,
        "periods": PERIODS,
        "severities": workflow.SEVERITIES,
        "chart": line_chart(
            series,
            title=f"Trust scores of {partner.name}, last 12 months",
            description="Expected trust (0-100) at each month end for both sides, "
            "with 90% credible bands.",
            x_label="Month",
            y_label="Trust score",
            chart_id="trust-trend",
        ),
        "chart_table": data_table(series, caption="Trust scores per month end (90% interval)"),
    }


@bp.route("/partners/<int:partner_id>/trust")
@role_required(*STAFF_ROLES)
def partner_trust(partner_id: int):
    partner = db.session.get(Partner, partner_id) or abort(404)
    now = utcnow()
    check_ins = db.session.scalars(
        select(CheckIn)
        .where(CheckIn.partner_id == partner.id)
        .order_by(CheckIn.at.desc())
        .limit(10)
    ).all()
    return render_template(
        "trust/partner.html",
        **_trust_context(partner, now),
        check_ins=check_ins,
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


def _ledger_csv(partner: Partner) -> Response:
    now = utcnow()
    _, since, until = _period(now)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        ["at", "conflict", "side", "kind", "severity", "weight", "rule", "explanation",
         "triage_business_hours", "resolution_business_hours", "resolution_wall_hours",
         "sla_met", "overrun_hours", "accountable_side"]
    )  # fmt: skip
    hours = lambda seconds: "" if seconds is None else f"{seconds / 3600:.2f}"  # noqa: E731
    for event in db.session.scalars(trust.ledger(partner.id, since, until)):
        writer.writerow(
            [event.at.isoformat(), event.conflict.ref if event.conflict else "", event.side,
             event.kind, event.severity or "", f"{event.weight:.3f}", event.rule,
             _csv_safe(event.explanation), hours(event.triage_business_seconds),
             hours(event.resolution_business_seconds), hours(event.resolution_wall_seconds),
             "" if event.sla_met is None else str(event.sla_met).lower(),
             hours(event.overrun_seconds), event.accountable_side or ""]
        )  # fmt: skip
    filename = f"trust-ledger-{partner.id}-{now.date().isoformat()}.csv"
    return Response(
        buffer.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


# OWASP CSV injection: spreadsheets read a cell starting with these as a formula (";" and "|"
# start DDE and separator tricks in some locales), also after leading spaces or tabs.
_FORMULA_STARTS = ("=", "+", "-", "@", ";", "|", "\t", "\r", "\n", "＝", "＋", "－", "＠")


def _csv_safe(value: str) -> str:
    """A cell a spreadsheet shows as text: one that could start a formula gets a leading '."""
    if value[:1].isspace() or value.lstrip().startswith(_FORMULA_STARTS):
        return "'" + value
    return value


@bp.route("/partners/<int:partner_id>/trust.csv")
@role_required(*STAFF_ROLES)
def partner_trust_csv(partner_id: int):
    return _ledger_csv(db.session.get(Partner, partner_id) or abort(404))


@bp.route("/portal/trust.csv")
@role_required(PARTNER)
def own_trust_csv():
    return _ledger_csv(current_user.partner)


@bp.route("/partners/<int:partner_id>/check-ins", methods=["POST"])
@role_required(*STAFF_ROLES)
def check_in(partner_id: int):
    partner = db.session.get(Partner, partner_id) or abort(404)
    form = CheckInForm()
    if form.validate_on_submit():
        try:
            trust.check_in(current_user, partner.id, form.note.data, now=utcnow())
        except ServiceError as exc:
            flash(exc.message, "error")
        else:
            flash(f"Check-in with {partner.name} logged.", "success")
    else:
        flash("Say what was discussed (at most 5,000 characters).", "error")
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
            flash(exc.message, "error")
        else:
            flash("Thank you: your rating is part of our record with you.", "success")
    else:
        flash("Choose 1 to 5 stars (and at most 2,000 characters of comment).", "error")
    return redirect(url_for("portal.conflict", conflict_id=conflict_id))


def portfolio_rows(now: datetime) -> list[dict]:
    """Every partner with both scores, 30-day change, open conflicts and breaches this month."""
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    open_counts = dict(
        db.session.execute(
            select(Conflict.partner_id, func.count(Conflict.id))
            .where(Conflict.status.in_(workflow.ACTIVE_STATES))
            .group_by(Conflict.partner_id)
        ).all()
    )
    breach_counts = dict(
        db.session.execute(
            select(TrustEvent.partner_id, func.count(func.distinct(TrustEvent.conflict_id)))
            .where(TrustEvent.kind == "breached", TrustEvent.at >= month_start)
            .group_by(TrustEvent.partner_id)
        ).all()
    )
    half_life = trust.weights().half_life
    stored = {(row.partner_id, row.side): row for row in db.session.scalars(select(TrustScore))}
    shown = list(db.session.scalars(select(Partner).where(Partner.active.is_(True))))
    month_ago = _history_at(now - timedelta(days=30), half_life, [p.id for p in shown])
    rows = []
    for partner in shown:
        row = {
            "partner": partner,
            "open": open_counts.get(partner.id, 0),
            "breaches": breach_counts.get(partner.id, 0),
        }
        for side in model.SIDES:
            # As trust.scores() and trust.change(), from rows read once for every partner.
            score = stored.get((partner.id, side))
            tally = model.TrustTally(score.r, score.s, score.as_of) if score else model.TrustTally()
            tally = tally.decayed_to(now, half_life)
            low, high = tally.interval()
            events = score.events if score else 0
            row[side] = trust.SideScore(side, tally.score(), low, high, tally.r, tally.s, events)
            then = month_ago.get((partner.id, side), model.TrustTally())  # no history: prior
            row[f"{side}_change"] = tally.score() - then.score()
        rows.append(row)
    return rows


def _history_at(
    moment: datetime, half_life: timedelta, partner_ids: list[int]
) -> dict[tuple[int, str], model.TrustTally]:
    """Each (partner, side)'s tally as it stood at `moment`, as trust.score_at() reads it.

    One query: per partner and side, a correlated look-up that steps back once along
    ix_trust_history_partner_side_as_of, so the cost follows the partners shown, not history.
    """
    if not partner_ids:
        return {}
    columns = []
    for side in model.SIDES:
        columns.append(
            select(TrustHistory.id)
            .where(
                TrustHistory.partner_id == Partner.id,
                TrustHistory.side == side,
                TrustHistory.as_of <= moment,
            )
            .order_by(TrustHistory.as_of.desc())
            .limit(1)
            .scalar_subquery()
        )
    found = db.session.execute(select(Partner.id, *columns).where(Partner.id.in_(partner_ids)))
    ids = [history_id for _, *history_ids in found for history_id in history_ids if history_id]
    rows = db.session.scalars(select(TrustHistory).where(TrustHistory.id.in_(ids))) if ids else []
    return {
        (row.partner_id, row.side): model.TrustTally(row.r, row.s, row.as_of).decayed_to(
            moment, half_life
        )
        for row in rows
    }


SORTS = {
    "change": lambda r: r["delivery_change"],
    "delivery": lambda r: r["delivery"].score,
    "responsiveness": lambda r: r["responsiveness"].score,
    "open": lambda r: -r["open"],
    "breaches": lambda r: -r["breaches"],
    "name": lambda r: r["partner"].name.lower(),
}


@bp.route("/console/portfolio")
@role_required(*STAFF_ROLES)
def portfolio():
    sort = request.args.get("sort", "change")
    if sort not in SORTS:
        sort = "change"
    rows = sorted(portfolio_rows(utcnow()), key=SORTS[sort])
    return render_template("trust/portfolio.html", rows=rows, sort=sort, sorts=SORTS)


@bp.route("/console/portfolio.csv")
@role_required(*STAFF_ROLES)
def portfolio_csv():
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        ["partner", "tier", "delivery_score", "delivery_low", "delivery_high",
         "delivery_change_30d", "responsiveness_score", "responsiveness_low", "responsiveness_high",
         "responsiveness_change_30d", "open_conflicts", "breaches_this_month"]
    )  # fmt: skip
    for row in sorted(portfolio_rows(utcnow()), key=SORTS["name"]):
        d, r = row["delivery"], row["responsiveness"]
        writer.writerow(
            [_csv_safe(row["partner"].name), row["partner"].tier, f"{d.score:.1f}", f"{d.low:.1f}",
             f"{d.high:.1f}", f"{row['delivery_change']:.1f}", f"{r.score:.1f}", f"{r.low:.1f}",
             f"{r.high:.1f}", f"{row['responsiveness_change']:.1f}", row["open"], row["breaches"]]
        )  # fmt: skip
    return Response(
        buffer.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="trust-portfolio.csv"'},
    )
