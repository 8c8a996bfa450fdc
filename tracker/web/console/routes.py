"""Manager pages: the queue, a conflict's full view, replies, notes and workflow actions."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from tracker.clock import utcnow
from tracker.domain import escalation as esc_domain
from tracker.domain import workflow
from tracker.domain.accounts import STAFF_ROLES
from tracker.domain.escalation import LEVEL_LABELS
from tracker.services import (
    conflict_access,
    conflict_search,
    conflicts,
    escalations,
    estimates,
    sla,
)
from tracker.services.errors import NotFound, ServiceError
from tracker.web import choices, conflict_rows, timeline_view
from tracker.web.access import conflict_or_404, role_required
from tracker.web.actions import run_action
from tracker.web.conflict_forms import (
    ACTION_FORMS,
    AcknowledgeForm,
    AssignForm,
    BulkForm,
    FieldsForm,
    LinkForm,
    StaffMessageForm,
    uploads_from_request,
)
from tracker.web.console.blueprint import bp
from tracker.web.csv_export import download
from tracker.web.paging import page_arg, strict_int
from tracker.web.redirects import safe_target


def _int_arg(name: str) -> int | None:
    return strict_int(request.args.get(name))


def _filters() -> conflict_search.ConflictFilters:
    assignee = request.args.get("assignee", "")
    return conflict_search.ConflictFilters(
        status=request.args.get("status") or None,
        partner_id=_int_arg("partner_id"),
        severity=request.args.get("severity") or None,
        assignee_id=_int_arg("assignee"),
        mine=assignee == "me",
        unassigned=assignee == "none",
        search=request.args.get("q") or None,
    )


@bp.route("/queue")
@role_required(*STAFF_ROLES)
def queue():
    filters = _filters()
    page = conflict_search.queue_page(current_user, filters, page_arg(), per_page=25)
    triage_form = BulkForm()
    triage_form.assignee_id.choices = [("", _("— choose —")), *choices.staff()]
    now = utcnow()
    snippets = conflict_search.snippets(current_user, filters, page.items)
    partners = choices.partner_names()
    return render_template(
        "console/queue.html",
        page=page,
        rows=conflict_rows.rows(
            current_user,
            page.items,
            now,
            endpoint="console.conflict",
            snippets=snippets,
            partner_names=dict(partners),
        ),
        args=request.args,
        partners=partners,
        staff=choices.staff(),
        states=workflow.STATE_LABELS,
        severities=workflow.SEVERITIES,
        triage_form=triage_form,
        now=now,
    )


QUEUE_CSV_HEADER = (
    "reference", "title", "partner", "severity", "status", "sla_state", "sla_due_utc",
    "raised_utc", "assignee",
)  # fmt: skip


@bp.route("/queue.csv")
@role_required(*STAFF_ROLES)
def queue_csv():
    """The queue with the page's filters and search: every matching conflict, not page 1."""
    now = utcnow()
    rows = (
        [c.ref or "", c.title, c.partner.name, c.severity, c.status, c.sla_state,
         c.sla_due_at.isoformat() if c.sla_due_at else "", c.created_at.isoformat(),
         c.assignee.name if c.assignee else ""]
        for c in conflict_search.queue_export(current_user, _filters())
    )  # fmt: skip
    return download("trustomer-queue", now.date(), QUEUE_CSV_HEADER, rows)


@bp.route("/queue/bulk", methods=["POST"])
@role_required(*STAFF_ROLES)
def bulk():
    form = BulkForm()
    form.assignee_id.choices = [(None, _("— choose —")), *choices.staff()]
    ids = [n for n in map(strict_int, request.form.getlist("conflict_ids")) if n is not None]
    operation = request.form.get("operation")
    if not ids:
        flash(_("Select at least one conflict."), "error")
    elif not form.validate_on_submit() or operation not in ("assign", "triage"):
        flash(_("The form expired or was not complete: reload the queue and try again."), "error")
    elif form.assignee_id.data is None:
        flash(_("Choose who the selected conflicts go to."), "error")
    else:
        triage = (
            {
                "severity": form.severity.data,
                "category": form.category.data,
                "assignee_id": form.assignee_id.data,
            }
            if operation == "triage"
            else None
        )
        done, failed = conflicts.bulk(
            current_user, ids, assignee_id=form.assignee_id.data, triage=triage, now=utcnow()
        )
        if done:
            refs = ", ".join(done)
            flash(
                _("Triaged: %(refs)s.", refs=refs)
                if operation == "triage"
                else _("Assigned: %(refs)s.", refs=refs),
                "success",
            )
        for message in failed:
            ref, _sep, reason = message.partition(": ")  # "TR-…: the service's reason"
            flash(f"{ref}: {_(reason)}", "error")
    return redirect(safe_target(request.form.get("back"), "console.queue"))


@bp.route("/conflicts/<int:conflict_id>")
@role_required(*STAFF_ROLES)
def conflict(conflict_id: int):
    item = conflict_or_404(conflict_id)
    now = utcnow()
    actions = workflow.available_actions(
        item.status, workflow.MANAGER, now=now, withdrawn=item.close_reason == "withdrawn"
    )
    staff = choices.staff()
    action_forms = {}
    for transition in actions:
        form = ACTION_FORMS[transition.action]()
        if transition.action == "triage":
            form.assignee_id.choices = staff
            form.assignee_id.data = item.assignee_id or item.partner.owner_id
            form.severity.data, form.category.data = item.severity, item.category
        action_forms[transition.action] = form
    # Held for the whole render: the session keeps loaded rows only while they are referenced,
    # and the page reads the entries' authors again (who raised it) without a statement.
    events = conflict_access.timeline(item, current_user)
    assign_form = AssignForm(assignee_id=item.assignee_id)
    assign_form.assignee_id.choices = [("", _("— nobody —")), *staff]
    return render_template(
        "console/conflict.html",
        conflict=item,
        events=events,
        entries=timeline_view.entries(events, current_user),
        clocks=sla.clock_views(item, now),
        pauses=sla.pauses(item),
        now=now,
        actions=actions,
        action_forms=action_forms,
        message_form=StaffMessageForm(),
        assign_form=assign_form,
        fields_form=FieldsForm(severity=item.severity, category=item.category),
        open_escalations=sla.open_escalations(item),
        ack_form=AcknowledgeForm(),
        link_form=LinkForm(),
        forecast=estimates.for_conflict(current_user, item, now),
        similar=conflict_search.similar_to_conflict(current_user, item),
    )


def _back(conflict_id: int, anchor: str = ""):  # type: ignore[no-untyped-def]
    return redirect(url_for("console.conflict", conflict_id=conflict_id) + anchor)


@bp.route("/conflicts/<int:conflict_id>/message", methods=["POST"])
@role_required(*STAFF_ROLES)
def message(conflict_id: int):
    conflict_or_404(conflict_id)
    form = StaffMessageForm()
    if not form.validate_on_submit():
        flash(_("Please write a message and choose who sees it."), "error")
        return _back(conflict_id, "#reply")
    internal = form.visibility.data == "internal"
    try:
        conflicts.comment(
            current_user,
            conflict_id,
            form.body.data,
            internal=internal,
            uploads=uploads_from_request(),
            now=utcnow(),
        )
    except ServiceError as exc:
        flash(_(exc.message), "error")
    else:
        flash(_("Internal note added.") if internal else _("Reply sent to the partner."), "success")
    return _back(conflict_id, "#timeline")


@bp.route("/conflicts/<int:conflict_id>/actions/<action>", methods=["POST"])
@role_required(*STAFF_ROLES)
def action(conflict_id: int, action: str):
    conflict_or_404(conflict_id)
    run_action(conflict_id, action, assignee_choices=choices.staff())
    return _back(conflict_id)


def _submit(form, call, *, done: str, invalid: str) -> bool:  # type: ignore[no-untyped-def]
    """Validate `form`, run `call()` (a service), flash the outcome. True when it happened."""
    if not form.validate_on_submit():
        flash(invalid, "error")
        return False
    try:
        call()
    except ServiceError as exc:
        flash(_(exc.message), "error")
        return False
    flash(done, "success")
    return True


@bp.route("/conflicts/<int:conflict_id>/assign", methods=["POST"])
@role_required(*STAFF_ROLES)
def assign(conflict_id: int):
    conflict_or_404(conflict_id)
    form = AssignForm()
    form.assignee_id.choices = [(None, _("nobody")), *choices.staff()]
    _submit(
        form,
        lambda: conflicts.assign(current_user, conflict_id, form.assignee_id.data, now=utcnow()),
        done=_("Assignment saved."),
        invalid=_("Choose an active alliance manager."),
    )
    return _back(conflict_id)


@bp.route("/conflicts/<int:conflict_id>/fields", methods=["POST"])
@role_required(*STAFF_ROLES)
def fields(conflict_id: int):
    conflict_or_404(conflict_id)
    form = FieldsForm()
    _submit(
        form,
        lambda: conflicts.change_fields(
            current_user,
            conflict_id,
            severity=form.severity.data,
            category=form.category.data,
            now=utcnow(),
        ),
        done=_("Details saved."),
        invalid=_("Choose a valid severity and category."),
    )
    return _back(conflict_id)


@bp.route("/conflicts/<int:conflict_id>/link", methods=["POST"])
@role_required(*STAFF_ROLES)
def link(conflict_id: int):
    conflict_or_404(conflict_id)
    form = LinkForm()
    _submit(
        form,
        lambda: conflicts.link_repeat(
            current_user, conflict_id, form.earlier_ref.data, now=utcnow()
        ),
        done=_("Linked as a repeat incident."),
        invalid=_("Give the reference of the earlier conflict, e.g. TR-2026-00042."),
    )
    return _back(conflict_id)


@bp.route("/escalations")
@role_required(*STAFF_ROLES)
def escalations_page():
    level = request.args.get("level") or None
    acknowledged = request.args.get("acknowledged") or None
    page = escalations.grouped_page(level, acknowledged, page_arg(), per_page=30)
    return render_template(
        "console/escalations.html",
        page=page,
        level=level,
        acknowledged=acknowledged,
        levels=esc_domain.LEVEL_LABELS,
        clocks=esc_domain.CLOCK_LABELS,
        form=AcknowledgeForm(),
        now=utcnow(),
    )


@bp.route("/escalations/<int:escalation_id>/acknowledge", methods=["POST"])
@role_required(*STAFF_ROLES)
def acknowledge(escalation_id: int):
    form = AcknowledgeForm()
    if not form.validate_on_submit():
        flash(_("The note is too long (at most 2,000 characters)."), "error")
    else:
        try:
            item = escalations.acknowledge(
                current_user, escalation_id, form.note.data, now=utcnow()
            )
        except NotFound:
            abort(404)
        except ServiceError as exc:
            flash(_(exc.message), "error")
        else:
            flash(
                _(
                    "Acknowledged: reminders for this critical escalation (and any lower level)"
                    " stop."
                )
                if item.level == "critical"
                else _(
                    "Acknowledged: reminders for this %(level)s escalation (and any lower level)"
                    " stop. A higher level would still fire.",
                    level=_(LEVEL_LABELS[item.level]).lower(),
                ),
                "success",
            )
    return redirect(safe_target(request.form.get("back"), "console.escalations_page"))


@bp.route("/escalations/conflicts/<int:conflict_id>/acknowledge", methods=["POST"])
@role_required(*STAFF_ROLES)
def acknowledge_all(conflict_id: int):
    """Every open level of one conflict at once; a second press finds nothing left."""
    form = AcknowledgeForm()
    if not form.validate_on_submit():
        flash(_("The note is too long (at most 2,000 characters)."), "error")
    else:
        try:
            taken = escalations.acknowledge_all(
                current_user, conflict_id, form.note.data, now=utcnow()
            )
        except NotFound:
            abort(404)
        except ServiceError as exc:
            flash(_(exc.message), "error")
        else:
            if taken:
                flash(
                    ngettext(
                        "Acknowledged %(num)d level: its reminders stop.",
                        "Acknowledged %(num)d levels: their reminders stop.",
                        len(taken),
                    ),
                    "success",
                )
            else:
                flash(_("Nothing left to acknowledge: someone already did."), "info")
    return redirect(safe_target(request.form.get("back"), "console.escalations_page"))
