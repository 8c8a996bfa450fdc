"""Sign in, sign out, change password, accept an invitation."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from tracker.clock import utcnow
from tracker.extensions import limiter
from tracker.services import accounts
from tracker.services.errors import ServiceError
from tracker.services.login_throttle import LOCKED
from tracker.web.auth.blueprint import bp
from tracker.web.auth.forms import AcceptInviteForm, ChangePasswordForm, LoginForm
from tracker.web.forms_util import apply_field_errors
from tracker.web.redirects import safe_target


def _start_session(user, browser_timezone: str | None = None) -> None:  # type: ignore[no-untyped-def]
    """Drop anything from before sign-in and open a fresh server-side session.

    The browser's zone (from the sign-in form) becomes the user's while they chose none."""
    session.clear()
    if browser_timezone:
        accounts.adopt_browser_timezone(user, browser_timezone)
    accounts.open_session(user, now=utcnow())  # the cookie will carry its token (get_id)
    login_user(user)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("60/minute", methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    if form.validate_on_submit():
        throttle = current_app.extensions["login_throttle"]
        address = request.remote_addr or "unknown"
        verdict = throttle.check(form.email.data, address, now=utcnow())
        if verdict.refused:
            flash(_refusal_message(verdict.refused), "error")
            retry = {"Retry-After": str(verdict.retry_after)}
            return render_template("auth/login.html", form=form), 429, retry
        user = accounts.authenticate(form.email.data, form.password.data, now=utcnow())
        if user is None:
            throttle.record_failure(form.email.data, address)
            flash(_("Email or password is not correct, or the account is deactivated."), "error")
            return render_template("auth/login.html", form=form), 401
        throttle.record_success(form.email.data, address)
        _start_session(user, form.browser_timezone.data)
        return redirect(safe_target(request.args.get("next"), "main.index"))
    return render_template("auth/login.html", form=form)


def _refusal_message(reason: str) -> str:
    if reason == LOCKED:
        minutes = current_app.config["LOGIN_LOCKOUT_MINUTES"]
        return _(
            "Too many failed sign-in attempts. Please wait %(minutes)s minutes and try again, "
            "or ask an administrator to reset your password.",
            minutes=minutes,
        )
    return _(
        "This account has had many failed sign-in attempts, so sign-ins from new places are "
        "slowed down. Please wait a few seconds and try again."
    )


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """Revoke this browser's session on the server: a copy of the cookie is worthless now."""
    accounts.close_session(current_user.get_id(), now=utcnow())
    logout_user()
    session.clear()
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            accounts.change_password(
                current_user, form.current_password.data, form.new_password.data, now=utcnow()
            )
        except ServiceError as exc:
            apply_field_errors(form, exc)
        else:
            _start_session(current_user._get_current_object())
            flash(
                _(
                    "Your password is changed. Your other sessions were signed out and your API "
                    "tokens revoked."
                ),
                "success",
            )
            return redirect(url_for("main.index"))
    return render_template("auth/change_password.html", form=form)


@bp.route("/invite/<token>", methods=["GET", "POST"])
def accept_invite(token: str):
    max_age = current_app.config["INVITE_MAX_AGE_HOURS"] * 3600
    secret = current_app.config["SECRET_KEY"]
    try:
        invited = accounts.user_for_invite(token, secret, max_age)
    except ServiceError as exc:
        return render_template("auth/invite_invalid.html", message=exc.message), 400
    form = AcceptInviteForm()
    if form.validate_on_submit():
        try:
            user = accounts.accept_invite(
                token, form.password.data, secret_key=secret, max_age_seconds=max_age, now=utcnow()
            )
        except ServiceError as exc:
            apply_field_errors(form, exc)
        else:
            _start_session(user, form.browser_timezone.data)
            flash(_("Welcome to Trustomer, %(name)s.", name=user.name), "success")
            return redirect(url_for("main.index"))
    return render_template("auth/accept_invite.html", form=form, invited=invited)
