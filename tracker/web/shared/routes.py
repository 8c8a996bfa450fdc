"""Attachment downloads and the notifications page."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from tracker.clock import utcnow
from tracker.extensions import csrf
from tracker.services import (
    attachments,
    conflict_access,
    inbox,
    notifications,
    preferences,
    unsubscribe,
)
from tracker.services.errors import InvalidInput, NotFound
from tracker.web.admin.forms import ConfirmForm
from tracker.web.paging import page_arg
from tracker.web.shared.blueprint import bp


@bp.route("/attachments/<int:attachment_id>")
@login_required
def attachment(attachment_id: int):
    """Only to those who may see the conflict (and, for internal files, staff): else 404."""
    try:
        item = conflict_access.visible_attachment(current_user, attachment_id)
    except NotFound:
        abort(404)
    path = attachments.path_for(item.storage_key)
    if not path.exists():
        abort(404)
    return send_file(
        path, mimetype=item.content_type, as_attachment=True, download_name=item.filename
    )


@bp.route("/notifications")
@login_required
def notifications_page():
    page = inbox.page(current_user, page_arg(), per_page=30)
    return render_template("shared/notifications.html", page=page, form=ConfirmForm())


@bp.route("/notifications/read", methods=["POST"])
@login_required
def read_all():
    if not ConfirmForm().validate_on_submit():
        abort(400)
    notifications.mark_read(current_user, utcnow())
    return redirect(url_for("shared.notifications_page"))


@bp.route("/notifications/<int:notification_id>/open", methods=["POST"])
@login_required
def open_notification(notification_id: int):
    """Mark read and go to what it is about."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        item = inbox.own(current_user, notification_id)
    except NotFound:
        abort(404)
    notifications.mark_read(current_user, utcnow(), notification_id)
    if item.conflict_id is None:
        return redirect(url_for("shared.notifications_page"))
    endpoint = "portal.conflict" if current_user.is_partner else "console.conflict"
    return redirect(url_for(endpoint, conflict_id=item.conflict_id) + "#timeline")


@bp.route("/notifications/preferences", methods=["GET", "POST"])
@login_required
def notification_preferences():
    """Per kind and channel, within what the role allows."""
    form = ConfirmForm()
    current = preferences.choices(current_user)
    if form.validate_on_submit():
        enabled = {key for key in current if request.form.get(f"pref-{key[0]}-{key[1]}") == "on"}
        preferences.save(current_user, enabled)
        preferences.save_cadence(current_user, request.form.get("email-cadence", ""))
        flash(_("Your notification preferences are saved."), "success")
        return redirect(url_for("shared.notification_preferences"))
    return render_template(
        "shared/preferences.html",
        form=form,
        current=current,
        kinds={k: preferences.KINDS[k] for k in preferences.allowed_kinds(current_user)},
        channels=preferences.CHANNELS,
        cadences=preferences.CADENCES,
        cadence=preferences.cadence(current_user),
    )


@bp.route("/mail/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # RFC 8058: mail providers POST without a session; the signed token authorises
def unsubscribe_link(token: str):
    """GET asks to confirm; POST (the button, or a provider's one-click) turns e-mail off."""
    try:
        asked = unsubscribe.apply(token) if request.method == "POST" else unsubscribe.read(token)
    except InvalidInput as exc:
        return render_template("shared/unsubscribe.html", error=exc.message), 400
    done = request.method == "POST"
    return render_template("shared/unsubscribe.html", asked=asked, done=done, token=token)
