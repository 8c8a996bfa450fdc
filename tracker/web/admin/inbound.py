"""Admin Inbound mail page: every message that came in, and what became of it."""

from __future__ import annotations

from flask import render_template, request

from tracker.domain.accounts import ADMIN
from tracker.services import inbound_mail, paging
from tracker.web.access import role_required
from tracker.web.admin.blueprint import bp
from tracker.web.paging import page_arg


@bp.route("/inbound-mail")
@role_required(ADMIN)
def inbound_mail_page():
    outcome = request.args.get("outcome", "")
    sender = request.args.get("sender", "")[:320]
    query = inbound_mail.messages_query(outcome, sender)
    page = paging.numbered(query, page_arg(), per_page=50)
    return render_template(
        "admin/inbound_mail.html",
        page=page,
        outcome=outcome,
        sender=sender,
        counts=inbound_mail.summary(),
    )
