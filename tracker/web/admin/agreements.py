"""Admin pages for partner agreements: business calendars, SLA policies, re-applying them."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from tracker.clock import utcnow
from tracker.domain.accounts import ADMIN
from tracker.services import agreements
from tracker.services.errors import NotFound, ServiceError
from tracker.web.access import role_required
from tracker.web.admin.blueprint import bp
from tracker.web.admin.forms import CalendarForm, ConfirmForm, PolicyForm
from tracker.web.forms_util import apply_field_errors

if TYPE_CHECKING:
    from tracker.models import SlaCalendar, SlaPolicy


def _found(getter: Callable[[int], Any], item_id: int) -> Any:
    try:
        return getter(item_id)
    except NotFound:
        abort(404)


def _policy_form() -> PolicyForm:
    form = PolicyForm()
    form.calendar_id.choices = [(None, _("Partner's own office hours"))] + [
        (cid, name) for cid, name in agreements.calendar_choices()
    ]
    return form


@bp.route("/agreements", endpoint="agreements")
@role_required(ADMIN)
def overview():
    return render_template(
        "admin/agreements/index.html",
        calendars=agreements.list_calendars(),
        policies=agreements.list_policies(),
    )


def _save_calendar(form: CalendarForm, save: Callable[..., SlaCalendar]) -> Any:
    """Save a valid calendar form; a redirect, or None to show the form again."""
    if not form.validate_on_submit():
        return None
    try:
        calendar = save(now=utcnow(), actor=current_user, **form.values())
    except ServiceError as exc:
        apply_field_errors(form, exc)
        return None
    flash(
        _(
            "Calendar %(name)s was saved. It applies to conflicts raised from now on.",
            name=calendar.name,
        ),
        "success",
    )
    return redirect(url_for("admin.agreements"))


@bp.route("/agreements/calendars/new", methods=["GET", "POST"])
@role_required(ADMIN)
def new_calendar():
    form = CalendarForm()
    done = _save_calendar(form, agreements.create_calendar)
    return done or render_template("admin/agreements/calendar_form.html", form=form, calendar=None)


@bp.route("/agreements/calendars/<int:calendar_id>/edit", methods=["GET", "POST"])
@role_required(ADMIN)
def edit_calendar(calendar_id: int):
    calendar = _found(agreements.get_calendar, calendar_id)
    form = CalendarForm()
    if request.method == "GET":
        form.load(calendar)
    done = _save_calendar(form, partial(agreements.update_calendar, calendar.id))
    return done or render_template(
        "admin/agreements/calendar_form.html", form=form, calendar=calendar
    )


def _submit_policy(
    form: PolicyForm, save: Callable[..., SlaPolicy], policy_id: int | None = None
) -> tuple[Any, agreements.Preview | None]:
    """Preview or save a valid policy form: (a redirect or None, a preview or None)."""
    if not form.validate_on_submit():
        return None, None
    try:
        if form.preview.data:
            return None, agreements.preview_values(utcnow(), policy_id=policy_id, **form.values())
        policy = save(now=utcnow(), actor=current_user, **form.values())
    except ServiceError as exc:
        apply_field_errors(form, exc)
        return None, None
    flash(
        _(
            "Policy %(name)s was saved. New conflicts are measured against it; open ones "
            "keep the targets they started under until you re-apply it.",
            name=policy.name,
        ),
        "success",
    )
    return redirect(url_for("admin.edit_policy", policy_id=policy.id)), None


@bp.route("/agreements/policies/new", methods=["GET", "POST"])
@role_required(ADMIN)
def new_policy():
    form = _policy_form()
    done, preview = _submit_policy(form, agreements.create_policy)
    return done or render_template(
        "admin/agreements/policy_form.html", form=form, policy=None, preview=preview
    )


@bp.route("/agreements/policies/<int:policy_id>/edit", methods=["GET", "POST"])
@role_required(ADMIN)
def edit_policy(policy_id: int):
    policy = _found(agreements.get_policy, policy_id)
    form = _policy_form()
    if request.method == "GET":
        form.load(policy)
    done, preview = _submit_policy(form, partial(agreements.update_policy, policy.id), policy.id)
    return done or render_template(
        "admin/agreements/policy_form.html",
        form=form,
        policy=policy,
        preview=preview,
        saved_preview=agreements.preview(policy, utcnow()),
        open_conflicts=agreements.count_open_conflicts_under(policy),
        reapply_form=ConfirmForm(),
    )


@bp.route("/agreements/policies/<int:policy_id>/reapply", methods=["POST"])
@role_required(ADMIN)
def reapply_policy(policy_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        count = agreements.reapply_policy(current_user, policy_id, utcnow())
    except NotFound:
        abort(404)
    flash(
        ngettext(
            "Re-applied to %(num)d open conflict.", "Re-applied to %(num)d open conflicts.", count
        ),
        "success",
    )
    return redirect(url_for("admin.edit_policy", policy_id=policy_id))
