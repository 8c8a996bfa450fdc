"""Partner pages: list, raise, follow, comment and act on the organisation's conflicts."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from tracker.clock import utcnow
from tracker.domain import workflow
from tracker.domain.accounts import PARTNER
from tracker.services import (
    conflict_access,
    conflict_search,
    conflicts,
    estimates,
    notice_content,
    ratings,
    sla,
)
from tracker.services.errors import ServiceError
from tracker.web import conflict_rows, timeline_view
from tracker.web.access import conflict_or_404, role_required
from tracker.web.actions import run_action
from tracker.web.conflict_forms import (
    ACTION_FORMS,
    ConflictForm,
    MessageForm,
    uploads_from_request,
)
from tracker.web.forms_util import apply_field_errors
from tracker.web.paging import page_arg
from tracker.web.portal.blueprint import bp
from tracker.web.trust.forms import RatingForm


@bp.route("/conflicts")
@role_required(PARTNER)
def conflicts_list():
    status = request.args.get("status", "")
    q = request.args.get("q", "").strip()[:200]
    filters = conflict_search.ConflictFilters(status=status or None, search=q or None)
    page = conflict_search.portal_page(current_user, filters, page_arg(), 20)
    snippets = conflict_search.snippets(current_user, filters, page.items)
    return render_template(
        "portal/conflicts.html",
        page=page,
        rows=conflict_rows.rows(
            current_user, page.items, utcnow(), endpoint="portal.conflict", snippets=snippets
        ),
        status=status,
        q=q,
        states=workflow.PARTNER_STATE_LABELS,
    )


@bp.route("/conflicts/new", methods=["GET", "POST"])
@role_required(PARTNER)
def new_conflict():
    form = ConflictForm()
    if request.method == "POST" and form.check.data:  # without JavaScript: the first step
        similar = _similar(form.title.data, form.description.data)
        forecast = estimates.for_choice(
            current_user, form.category.data, form.severity.data, utcnow()
        )
        return render_template(
            "portal/new_conflict.html", form=form, similar=similar, forecast=forecast
        )
    if form.validate_on_submit():
        try:
            conflict = conflicts.submit(
                current_user,
                title=form.title.data,
                description=form.description.data,
                category=form.category.data,
                severity=form.severity.data,
                uploads=uploads_from_request(),
                now=utcnow(),
            )
        except ServiceError as exc:
            apply_field_errors(form, exc)
        else:
            flash(
                _("Conflict %(ref)s was raised. Your alliance team is on it.", ref=conflict.ref),
                "success",
            )
            return redirect(url_for("portal.conflict", conflict_id=conflict.id))
    if request.method == "POST" and any(f.filename for f in request.files.getlist("attachments")):
        # Browsers cannot keep chosen files across a re-shown form: say so.
        form.attachments.errors = [*form.attachments.errors, "Please choose your files again."]
    return render_template("portal/new_conflict.html", form=form)


@bp.route("/conflicts/similar")
@role_required(PARTNER)
def similar_conflicts():
    """The list of similar conflicts alone, for the form's script to show as one types."""
    similar = _similar(request.args.get("title"), request.args.get("description"))
    return render_template("portal/_similar.html", similar=similar)


@bp.route("/conflicts/estimate")
@role_required(PARTNER)
def estimate_fragment():
    """The forecast alone, for the form's script to show as category and severity change."""
    forecast = estimates.for_choice(
        current_user, request.args.get("category"), request.args.get("severity"), utcnow()
    )
    return render_template("portal/_estimate.html", forecast=forecast)


def _similar(title: str | None, description: str | None) -> list:
    return conflict_search.similar(current_user, title or "", description or "")


@bp.route("/conflicts/<int:conflict_id>")
@role_required(PARTNER)
def conflict(conflict_id: int):
    item = conflict_or_404(conflict_id)
    now = utcnow()
    actions = workflow.available_actions(
        item.status,
        PARTNER,
        now=now,
        closed_at=item.closed_at,
        withdrawn=item.close_reason == "withdrawn",
    )
    events = conflict_access.timeline(item, current_user)
    question = expected_by = None
    if item.status == workflow.WAITING_ON_PARTNER:
        # Repeat the open question, and by when the agreement expects the answer.
        asked = [
            e
            for e in events
            if e.kind == "status_changed" and (e.data or {}).get("action") == "wait_on_partner"
        ]
        if asked:
            question = max(asked, key=lambda e: (e.created_at, e.id))
            expected_by = notice_content.answer_expected_by(item, question.created_at)
    return render_template(
        "portal/conflict.html",
        conflict=item,
        events=events,  # held for the render: their authors stay loaded (see console.conflict)
        entries=timeline_view.entries(events, current_user),
        question=question,
        expected_by=expected_by,
        clocks=sla.clock_views(item, now),
        pauses=sla.pauses(item),
        now=now,
        actions=actions,
        action_forms={t.action: ACTION_FORMS[t.action]() for t in actions},
        message_form=MessageForm(),
        rating_form=RatingForm() if ratings.can_rate(current_user, item, now) is None else None,
        my_rating=ratings.my_rating(current_user, item),
        forecast=estimates.for_conflict(current_user, item, now),
    )


@bp.route("/conflicts/<int:conflict_id>/comment", methods=["POST"])
@role_required(PARTNER)
def comment(conflict_id: int):
    conflict_or_404(conflict_id)
    form = MessageForm()
    if form.validate_on_submit():
        try:
            conflicts.comment(
                current_user,
                conflict_id,
                form.body.data,
                uploads=uploads_from_request(),
                now=utcnow(),
            )
        except ServiceError as exc:
            flash(_(exc.message), "error")
        else:
            flash(_("Your comment was added."), "success")
    else:
        flash(_("Please write a message (at most 20,000 characters)."), "error")
    return redirect(url_for("portal.conflict", conflict_id=conflict_id) + "#timeline")


@bp.route("/conflicts/<int:conflict_id>/actions/<action>", methods=["POST"])
@role_required(PARTNER)
def action(conflict_id: int, action: str):
    conflict_or_404(conflict_id)
    run_action(conflict_id, action)
    return redirect(url_for("portal.conflict", conflict_id=conflict_id))
