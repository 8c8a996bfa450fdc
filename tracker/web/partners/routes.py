"""The partner list and a partner's page, for managers and admins."""

from __future__ import annotations

from flask import abort, render_template, request

from tracker.domain.accounts import STAFF_ROLES, TIERS
from tracker.services import partners
from tracker.services.errors import NotFound
from tracker.web.access import role_required
from tracker.web.paging import page_arg
from tracker.web.partners.blueprint import bp


@bp.route("/")
@role_required(*STAFF_ROLES)
def index():
    tier = request.args.get("tier", "")
    page = partners.partners_page(tier, page_arg(), per_page=25)
    return render_template("partners/index.html", page=page, tier=tier, tiers=TIERS)


@bp.route("/<int:partner_id>")
@role_required(*STAFF_ROLES)
def detail(partner_id: int):
    try:
        partner = partners.get_partner(partner_id)
    except NotFound:
        abort(404)
    return render_template("partners/detail.html", partner=partner)
