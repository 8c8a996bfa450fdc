"""Forms for managing users and partners."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional

from tracker.domain.accounts import ROLES, TIERS, timezone_choices


def _optional_int(value: str | int | None) -> int | None:
    if value in (None, "", "None"):
        return None
    return int(value)


class UserForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    name = StringField("Full name", validators=[DataRequired(), Length(max=120)])
    role = SelectField("Role", choices=[(r, r.capitalize()) for r in ROLES])
    partner_id = SelectField("Partner organisation (partner users only)", coerce=_optional_int)
    submit = SubmitField("Create and invite")


class PartnerForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    tier = SelectField("Tier", choices=[(t, t.capitalize()) for t in TIERS])
    timezone = SelectField("Timezone", choices=[])
    country = StringField("Country (ISO code, e.g. DE)", validators=[Optional(), Length(max=2)])
    owner_id = SelectField("Relationship owner", coerce=_optional_int)
    active = BooleanField("Active", default=True)
    submit = SubmitField("Save partner")

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.timezone.choices = [(z, z) for z in timezone_choices()]


class ConfirmForm(FlaskForm):
    """An empty form: a POST button with its CSRF token."""

    submit = SubmitField("Confirm")
