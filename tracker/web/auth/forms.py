"""Forms for signing in, changing passwords and accepting invitations."""

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length

from tracker.domain.accounts import MIN_PASSWORD_LENGTH

PASSWORD_LENGTH = Length(
    min=MIN_PASSWORD_LENGTH,
    max=256,
    message=f"Password must be at least {MIN_PASSWORD_LENGTH} and at most 256 characters long.",
)


class LoginForm(FlaskForm):
    email = EmailField(
        "Email", validators=[DataRequired("Enter your email address."), Length(max=254)]
    )
    password = PasswordField(
        "Password", validators=[DataRequired("Enter your password."), Length(max=256)]
    )
    submit = SubmitField("Sign in")


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        "Current password", validators=[DataRequired("Enter your current password.")]
    )
    new_password = PasswordField(
        "New password", validators=[DataRequired("Enter a new password."), PASSWORD_LENGTH]
    )
    confirm = PasswordField(
        "Repeat new password",
        validators=[
            DataRequired("Enter the new password again."),
            EqualTo("new_password", message="The passwords differ."),
        ],
    )
    submit = SubmitField("Change password")


class AcceptInviteForm(FlaskForm):
    password = PasswordField(
        "Choose a password", validators=[DataRequired("Choose a password."), PASSWORD_LENGTH]
    )
    confirm = PasswordField(
        "Repeat password",
        validators=[
            DataRequired("Enter the password again."),
            EqualTo("password", message="The passwords differ."),
        ],
    )
    submit = SubmitField("Set password and sign in")
