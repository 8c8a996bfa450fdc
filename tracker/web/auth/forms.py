"""Forms for signing in, changing passwords and accepting invitations."""

from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length

from tracker.domain.accounts import MIN_PASSWORD_LENGTH
from tracker.i18n import lazy_text as _l

PASSWORD_LENGTH = Length(
    min=MIN_PASSWORD_LENGTH,
    max=256,
    message=_l(
        "Password must be at least %(min)s and at most 256 characters long.",
        min=MIN_PASSWORD_LENGTH,
    ),
)


class LoginForm(FlaskForm):
    email = EmailField(
        _l("Email"), validators=[DataRequired(_l("Enter your email address.")), Length(max=254)]
    )
    password = PasswordField(
        _l("Password"), validators=[DataRequired(_l("Enter your password.")), Length(max=256)]
    )
    # Filled by static/timezone.js with the browser's zone; checked, never trusted.
    browser_timezone = HiddenField()
    submit = SubmitField(_l("Sign in"))


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        _l("Current password"), validators=[DataRequired(_l("Enter your current password."))]
    )
    new_password = PasswordField(
        _l("New password"), validators=[DataRequired(_l("Enter a new password.")), PASSWORD_LENGTH]
    )
    confirm = PasswordField(
        _l("Repeat new password"),
        validators=[
            DataRequired(_l("Enter the new password again.")),
            EqualTo("new_password", message=_l("The passwords differ.")),
        ],
    )
    submit = SubmitField(_l("Change password"))


class AcceptInviteForm(FlaskForm):
    password = PasswordField(
        _l("Choose a password"),
        validators=[DataRequired(_l("Choose a password.")), PASSWORD_LENGTH],
    )
    confirm = PasswordField(
        _l("Repeat password"),
        validators=[
            DataRequired(_l("Enter the password again.")),
            EqualTo("password", message=_l("The passwords differ.")),
        ],
    )
    browser_timezone = HiddenField()
    submit = SubmitField(_l("Set password and sign in"))
