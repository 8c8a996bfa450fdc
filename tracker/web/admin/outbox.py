"""Admin Outbox page: what is waiting to be delivered, what failed, and retrying by hand."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from tracker.clock import utcnow
from tracker.domain.accounts import ADMIN
from tracker.services import outbox as outbox_service
from tracker.services import paging
from tracker.services.errors import NotFound, ServiceError
from tracker.web.access import role_required
from tracker.web.admin.blueprint import bp
from tracker.web.admin.forms import ConfirmForm
from tracker.web.paging import page_arg


@bp.route("/outbox")
@role_required(ADMIN)
def outbox():
    status = request.args.get("status", "")
    page = paging.numbered(outbox_service.messages_query(status), page_arg(), per_page=50)
    return render_template(
        "admin/outbox.html",
        page=page,
        status=status,
        counts=outbox_service.summary(),
        shown_address=outbox_service.shown_address,
    )


@bp.route("/outbox/<int:message_id>/retry", methods=["POST"])
@role_required(ADMIN)
def retry_outbox_message(message_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        outbox_service.retry(message_id, utcnow(), actor=current_user)
    except NotFound:
        abort(404)
    except ServiceError as exc:
        flash(_(exc.message), "error")
    else:
        flash(
            _("Message #%(id)s is queued again and will be sent shortly.", id=message_id),
            "success",
        )
    return redirect(url_for("admin.outbox", status=request.args.get("status") or None))
