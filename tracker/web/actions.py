"""Running a workflow action from a posted form: shared by the portal and the console."""

from __future__ import annotations

from flask import abort, flash
from flask_babel import gettext as _
from flask_login import current_user

from tracker.clock import utcnow
from tracker.domain import workflow
from tracker.services import conflict_access, conflicts
from tracker.services.errors import NotFound, ServiceError
from tracker.web.conflict_forms import ACTION_FORMS


def _refusal(conflict_id: int, action: str) -> str | None:
    """The domain's reason when the caller's role may never take `action`, else None."""
    if workflow.actor_kind(current_user.role) in workflow.TRANSITIONS[action].roles:
        return None
    try:
        conflict = conflict_access.visible_conflict(current_user, conflict_id)
    except NotFound:
        abort(404)
    try:
        workflow.plan(conflict.status, action, current_user.role, now=utcnow())
    except workflow.WorkflowError as exc:
        return exc.message
    return None


def run_action(conflict_id: int, action: str, assignee_choices: list | None = None) -> bool:
    """Validate the action's form and apply it; flash the outcome. True when it happened."""
    form_class = ACTION_FORMS.get(action)
    if form_class is None:
        abort(404)
    refusal = _refusal(conflict_id, action)
    if refusal:
        flash(_(refusal), "error")
        return False
    form = form_class()
    if hasattr(form, "assignee_id"):
        # A SelectField without choices raises on validation instead of failing it.
        form.assignee_id.choices = assignee_choices or []
    if not form.validate_on_submit():
        problems = "; ".join(
            f"{getattr(form, name).label.text}: {' '.join(str(e) for e in errors)}"
            for name, errors in form.errors.items()
            if name != "csrf_token"
        )
        if "csrf_token" in form.errors:
            problems = _("The form expired. Reload the page and try again.")
        flash(problems or _("Please complete the form."), "error")
        return False
    fields = {k: v for k, v in form.data.items() if k not in ("csrf_token", "submit")}
    try:
        conflict = conflicts.act(current_user, conflict_id, action, fields, now=utcnow())
    except ServiceError as exc:
        details = "; ".join(_(message) for message in exc.field_errors.values())
        flash(_(exc.message) + (f" {details}" if details else ""), "error")
        return False
    if current_user.is_staff:
        label = _(workflow.STATE_LABELS[conflict.status]).lower()
        flash(_("%(ref)s is now %(state)s.", ref=conflict.ref, state=label), "success")
    else:
        flash(f"{conflict.ref}: {_(workflow.PARTNER_NEXT_STEPS[conflict.status])}", "success")
    return True
