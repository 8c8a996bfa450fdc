"""The partner list and a partner's page, for managers and admins."""

from __future__ import annotations

from flask import abort, render_template, request
from sqlalchemy import select

from tracker.domain.accounts import STAFF_ROLES, TIERS
from tracker.extensions import db
from tracker.models import Partner
from tracker.web.access import role_required
from tracker.web.paging import page_arg
from tracker.web.partners.blueprint import bp


@bp.route("/")
@role_required(*STAFF_ROLES)
def index():
    tier = request.args.get("tier", "")
    query = select(Partner).order_by(Partner.name)
    if tier in TIERS:
        query = query.where(Partner.tier == tier)
    page = db.paginate(query, page=page_arg(), per_page=25, error_out=False)
    return render_template("partners/index.html", page=page, tier=tier, tiers=TIERS)


@bp.route("/<int:partner_id>")
@role_required(*STAFF_ROLES)
def detail(partner_id: int):
    partner = db.session.get(Partner, partner_id) or abort(404)
    return render_template("partners/detail.html", partner=partner)
