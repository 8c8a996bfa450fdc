"""API tokens (everyone) and partner webhooks (partner users): secrets are shown once."""

from __future__ import annotations

from datetime import UTC, datetime, time

from flask import abort, flash, make_response, redirect, render_template, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from tracker.clock import utcnow
from tracker.i18n import select_locale
from tracker.services import accounts, api_tokens, partner_webhooks
from tracker.services.errors import InvalidInput, NotFound
from tracker.web.access import role_required
from tracker.web.account.blueprint import bp
from tracker.web.account.forms import TimezoneForm, TokenForm, WebhookForm
from tracker.web.admin.forms import ConfirmForm


@bp.route("/tokens", methods=["GET", "POST"])
@login_required
def tokens():
    """List and create; a new token is shown on this response only, never stored in clear."""
    form, created = TokenForm(), None
    if form.validate_on_submit():
        expires_at = _end_of_day(form.expires_on.data)
        try:
            created = api_tokens.create(
                current_user,
                name=form.name.data,
                scope=form.scope.data,
                now=utcnow(),
                expires_at=expires_at,
            )[1]
        except InvalidInput as exc:
            form.expires_on.errors = list(form.expires_on.errors) + list(exc.field_errors.values())
        else:
            form = TokenForm(formdata=None)  # an empty form: a second click makes no twin
    response = make_response(
        render_template(
            "account/tokens.html",
            form=form,
            created=created,
            tokens=api_tokens.for_user(current_user),
            confirm=ConfirmForm(),
            now=utcnow(),
        )
    )
    response.headers["Cache-Control"] = "no-store"  # the page may show a new token
    return response


@bp.route("/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke_token(token_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        token = api_tokens.revoke(current_user, token_id, utcnow())
    except NotFound:
        abort(404)
    flash(
        _("Token %(name)s (%(prefix)s…) is revoked.", name=token.name, prefix=token.prefix),
        "success",
    )
    return redirect(url_for("account.tokens"))


@bp.route("/webhooks", methods=["GET", "POST"])
@role_required("partner")
def webhooks():
    """The organisation's webhooks; a new one's signing secret is shown on this response only."""
    form, created = WebhookForm(), None
    if form.validate_on_submit():
        try:
            created = partner_webhooks.create(
                current_user, url=form.url.data, events=form.events.data, now=utcnow()
            )
        except InvalidInput as exc:
            form.url.errors = list(form.url.errors) + [exc.message]
    response = make_response(
        render_template(
            "account/webhooks.html",
            form=form,
            created=created,
            hooks=partner_webhooks.for_partner(current_user),
            events=partner_webhooks.EVENTS,
            confirm=ConfirmForm(),
        )
    )
    response.headers["Cache-Control"] = "no-store"  # the page may show a new secret
    return response


@bp.route("/webhooks/<int:hook_id>/deactivate", methods=["POST"])
@role_required("partner")
def deactivate_webhook(hook_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        partner_webhooks.deactivate(current_user, hook_id, utcnow())
    except NotFound:
        abort(404)
    flash(_("The webhook is deactivated."), "success")
    return redirect(url_for("account.webhooks"))


def _end_of_day(day) -> datetime | None:  # type: ignore[no-untyped-def]
    """A token "expiring on" a date works through that whole day (UTC)."""
    return datetime.combine(day, time.max, tzinfo=UTC) if day else None


@bp.route("/", methods=["GET", "POST"])
@login_required
def overview():
    """Everything about one's own account in one place: timezone, password, tokens, hooks."""
    form = TimezoneForm(timezone=current_user.timezone or "", locale=current_user.locale or "")
    if form.validate_on_submit():
        try:
            accounts.set_reading_preferences(
                current_user, timezone=form.timezone.data or None, locale=form.locale.data or None
            )
        except InvalidInput as exc:
            for name, message in exc.field_errors.items():
                getattr(form, name).errors = [_(message)]
        else:
            with force_locale(select_locale()):
                flash(
                    _("Times are now shown in %(zone)s.", zone=current_user.display_timezone),
                    "success",
                )
            return redirect(url_for("account.overview"))
    return render_template("account/overview.html", form=form)
