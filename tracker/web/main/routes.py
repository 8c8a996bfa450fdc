"""The landing page, and a partner user's view of their own organisation and its record."""

from flask import Response, redirect, render_template, url_for
from flask_login import current_user, login_required

from tracker.clock import utcnow
from tracker.domain import workflow
from tracker.domain.accounts import PARTNER
from tracker.domain.calendar import working_day_length
from tracker.domain.clock import calendar_to_json
from tracker.services import chain_export, sla
from tracker.web.access import role_required
from tracker.web.main.blueprint import bp


@bp.route("/")
@login_required
def index():
    """Each role starts where its work is."""
    if current_user.is_partner:
        return redirect(url_for("portal.conflicts_list"))
    return redirect(url_for("console.queue"))


@bp.route("/organisation")
@role_required(PARTNER)
def organisation():
    partner = current_user.partner
    agreement = sla.agreement_for(partner)
    return render_template(
        "main/organisation.html",
        partner=partner,
        agreement=agreement,
        calendar=calendar_to_json(agreement.calendar),
        working_day=working_day_length(agreement.calendar),
        severities=workflow.SEVERITIES,
    )


@bp.route("/organisation/audit-chain")
@role_required(PARTNER)
def audit_chain():
    """How to check that nobody rewrote the record of your conflicts, and the download."""
    return render_template("main/audit_chain.html", partner=current_user.partner)


@bp.route("/organisation/audit-chain.json")
@role_required(PARTNER)
def audit_chain_download():
    """Your conflicts' chains as one JSON document (read a page of chains at a time)."""
    now = utcnow()
    filename = f"audit-chain-{current_user.partner_id}-{now.date().isoformat()}.json"
    return Response(
        "".join(chain_export.download(current_user, now)),
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
