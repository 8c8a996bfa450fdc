"""Admin pages: users, partners and settings."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from tracker.clock import utcnow
from tracker.domain.accounts import ADMIN, ROLES
from tracker.services import accounts, agreements, partners
from tracker.services.errors import NotFound, ServiceError
from tracker.services.settings import settings_overview
from tracker.web import choices
from tracker.web.access import role_required
from tracker.web.admin.blueprint import bp
from tracker.web.admin.forms import ConfirmForm, PartnerForm, UserForm
from tracker.web.forms_util import apply_field_errors
from tracker.web.paging import page_arg


def _partner_choices() -> list[tuple[int | None, str]]:
    return [(None, _("— none —")), *choices.partner_names()]


def _staff_choices() -> list[tuple[int | None, str]]:
    return [(None, _("— none —")), *choices.staff()]


def _user_or_404(user_id: int):  # type: ignore[no-untyped-def]
    try:
        return accounts.get_user(user_id)
    except NotFound:
        abort(404)


def _partner_or_404(partner_id: int):  # type: ignore[no-untyped-def]
    try:
        return partners.get_partner(partner_id)
    except NotFound:
        abort(404)


@bp.route("/users")
@role_required(ADMIN)
def users():
    role = request.args.get("role", "")
    page = accounts.users_page(role, page_arg(), per_page=25)
    return render_template("admin/users.html", page=page, role=role, roles=ROLES)


@bp.route("/users/new", methods=["GET", "POST"])
@role_required(ADMIN)
def new_user():
    form = UserForm()
    form.partner_id.choices = _partner_choices()
    if form.validate_on_submit():
        try:
            user = accounts.create_user(
                email=form.email.data,
                name=form.name.data,
                role=form.role.data,
                partner_id=form.partner_id.data,
                now=utcnow(),
                actor=current_user,
            )
        except ServiceError as exc:
            apply_field_errors(form, exc)
        else:
            accounts.queue_invitation(user, accounts.invite_url(user), now=utcnow())
            flash(
                _(
                    "%(name)s was created and an invitation e-mail is on its way to %(email)s. "
                    "The link below works too.",
                    name=user.name,
                    email=user.email,
                ),
                "success",
            )
            return redirect(url_for("admin.user_detail", user_id=user.id, invite=1))
    return render_template("admin/user_form.html", form=form)


@bp.route("/users/<int:user_id>")
@role_required(ADMIN)
def user_detail(user_id: int):
    user = _user_or_404(user_id)
    wants_link = user.password_hash is None and request.args.get("invite")
    invite_url = accounts.invite_url(user) if wants_link else None
    return render_template(
        "admin/user_detail.html", user=user, invite_url=invite_url, form=ConfirmForm()
    )


@bp.route("/users/<int:user_id>/active", methods=["POST"])
@role_required(ADMIN)
def toggle_user(user_id: int):
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    user = _user_or_404(user_id)
    if user.id == current_user.id:
        flash(_("You cannot deactivate your own account."), "error")
        return redirect(url_for("admin.user_detail", user_id=user.id))
    accounts.set_active(user.id, not user.active, now=utcnow(), actor=current_user)
    flash(
        _("%(name)s is now active.", name=user.name)
        if user.active
        else _("%(name)s is now deactivated.", name=user.name),
        "success",
    )
    return redirect(url_for("admin.user_detail", user_id=user.id))


@bp.route("/users/<int:user_id>/invite", methods=["POST"])
@role_required(ADMIN)
def reissue_invite(user_id: int):
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    user = _user_or_404(user_id)
    if user.password_hash is not None:
        flash(_("This user has already set a password."), "error")
        return redirect(url_for("admin.user_detail", user_id=user.id))
    accounts.reissue_invite(user.id, actor=current_user, now=utcnow())
    accounts.queue_invitation(user, accounts.invite_url(user), now=utcnow())
    flash(_("A new invitation was sent; earlier links no longer work."), "success")
    return redirect(url_for("admin.user_detail", user_id=user.id, invite=1))


@bp.route("/partners/new", methods=["GET", "POST"])
@role_required(ADMIN)
def new_partner():
    form = PartnerForm()
    form.owner_id.choices = _staff_choices()
    form.sla_policy_id.choices = [(None, _("Tier default")), *agreements.policy_choices()]
    if request.method == "GET":
        form.timezone.data = "Europe/Berlin"
    if form.validate_on_submit():
        try:
            partner = partners.create_partner(
                name=form.name.data,
                tier=form.tier.data,
                timezone=form.timezone.data,
                country=form.country.data,
                owner_id=form.owner_id.data,
                sla_policy_id=form.sla_policy_id.data,
                default_locale=form.default_locale.data,
                now=utcnow(),
                actor=current_user,
            )
        except ServiceError as exc:
            apply_field_errors(form, exc)
        else:
            flash(_("Partner %(name)s was created.", name=partner.name), "success")
            return redirect(url_for("partners.detail", partner_id=partner.id))
    return render_template("admin/partner_form.html", form=form, partner=None)


@bp.route("/partners/<int:partner_id>/edit", methods=["GET", "POST"])
@role_required(ADMIN)
def edit_partner(partner_id: int):
    partner = _partner_or_404(partner_id)
    form = PartnerForm(obj=partner)
    form.owner_id.choices = _staff_choices()
    form.sla_policy_id.choices = [(None, _("Tier default")), *agreements.policy_choices()]
    if form.validate_on_submit():
        try:
            partners.update_partner(
                partner.id,
                name=form.name.data,
                tier=form.tier.data,
                timezone=form.timezone.data,
                country=form.country.data,
                owner_id=form.owner_id.data,
                active=form.active.data,
                sla_policy_id=form.sla_policy_id.data,
                default_locale=form.default_locale.data,
                now=utcnow(),
                actor=current_user,
            )
        except ServiceError as exc:
            apply_field_errors(form, exc)
        else:
            flash(_("Partner %(name)s was saved.", name=partner.name), "success")
            return redirect(url_for("partners.detail", partner_id=partner.id))
    return render_template("admin/partner_form.html", form=form, partner=partner)


@bp.route("/settings")
@role_required(ADMIN)
def settings():
    return render_template("admin/settings.html", overview=settings_overview(current_app))
