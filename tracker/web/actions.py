"""Running a workflow action from a posted form: shared by the portal and the console."""

from __future__ import annotations

from flask import abort, flash
from flask_login import current_user

from tracker.clock import utcnow
from tracker.domain import workflow
from tracker.services import conflicts
from tracker.services.errors import ServiceError
from tracker.web.conflict_forms import ACTION_FORMS


def run_action(conflict_id: int, action: str, assignee_choices: list | None = None) -> bool:
    """Validate the action's form and apply it; flash the outcome. True when it happened."""
    form_class = ACTION_FORMS.get(action)
    if form_class is None:
        abort(404)
    form = form_class()
    if assignee_choices is not None and hasattr(form, "assignee_id"):
        form.assignee_id.choices = assignee_choices
    if not form.validate_on_submit():
        problems = "; ".join(
            f"{getattr(form, name).label.text}: {' '.join(errors)}"
            for name, errors in form.errors.items()
            if name != "csrf_token"
        )
        if "csrf_token" in form.errors:
            problems = "The form expired. Reload the page and try again."
        flash(problems or "Please complete the form.", "error")
        return False
    fields = {k: v for k, v in form.data.items() if k not in ("csrf_token", "submit")}
    try:
        conflict = conflicts.act(current_user, conflict_id, action, fields, now=utcnow())
    except ServiceError as exc:
        details = "; ".join(exc.field_errors.values())
        flash(exc.message + (f" {details}" if details else ""), "error")
        return False
    label = workflow.STATE_LABELS[conflict.status].lower()
    flash(f"{conflict.ref} is now {label}.", "success")
    return True
