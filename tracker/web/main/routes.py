"""The landing page, and a partner user's view of their own organisation."""

from flask import redirect, render_template, url_for
from flask_login import current_user, login_required

from tracker.domain import workflow
from tracker.domain.accounts import PARTNER
from tracker.domain.clock import calendar_to_json
from tracker.services import sla
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
        severities=workflow.SEVERITIES,
    )
