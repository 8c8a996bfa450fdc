"""Sign in, sign out, change password, accept an invitation."""

from __future__ import annotations

import secrets

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from tracker.clock import utcnow
from tracker.extensions import limiter
from tracker.services import accounts
from tracker.services.errors import ServiceError
from tracker.web.auth import bp
from tracker.web.auth.forms import AcceptInviteForm, ChangePasswordForm, LoginForm
from tracker.web.forms_util import apply_field_errors
from tracker.web.redirects import safe_target


def _start_session(user) -> None:  # type: ignore[no-untyped-def]
    """Drop anything from before sign-in and issue a fresh session id."""
    session.clear()
    login_user(user)
    session["sid"] = secrets.token_urlsafe(16)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("60/minute", methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    if form.validate_on_submit():
        throttle = current_app.extensions["login_throttle"]
        address = request.remote_addr or "unknown"
        if throttle.is_locked(form.email.data, address):
            minutes = current_app.config["LOGIN_LOCKOUT_MINUTES"]
            flash(
                f"Too many failed sign-in attempts. Please wait {minutes} minutes and try again, "
                "or ask an administrator to reset your password.",
                "error",
            )
            return render_template("auth/login.html", form=form), 429
        user = accounts.authenticate(form.email.data, form.password.data, now=utcnow())
        if user is None:
            throttle.record_failure(form.email.data, address)
            flash("Email or password is not correct, or the account is deactivated.", "error")
            return render_template("auth/login.html", form=form), 401
        throttle.clear_account(form.email.data)
        _start_session(user)
        return redirect(safe_target(request.args.get("next"), "main.index"))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            accounts.change_password(
                current_user, form.current_password.data, form.new_password.data
            )
        except ServiceError as exc:
            apply_field_errors(form, exc)
        else:
            _start_session(current_user._get_current_object())
            flash("Your password is changed. Other sessions were signed out.", "success")
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
            _start_session(user)
            flash(f"Welcome to Trustomer, {user.name}.", "success")
            return redirect(url_for("main.index"))
    return render_template("auth/accept_invite.html", form=form, invited=invited)
