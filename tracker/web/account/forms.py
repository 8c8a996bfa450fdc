"""Forms for API tokens and partner webhooks."""

from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, SelectMultipleField, StringField, SubmitField, URLField
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from tracker.services.partner_webhooks import EVENTS


class TokenForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired("Enter your name."), Length(max=100)])
    scope = SelectField(
        "Scope",
        choices=[("read", "Read: look only"), ("write", "Write: raise, act, comment")],
        default="read",
    )
    expires_on = DateField("Expires on (optional)", validators=[Optional()])
    submit = SubmitField("Create token")


class WebhookForm(FlaskForm):
    url = URLField(
        "Endpoint URL (https://)",
        validators=[DataRequired("Enter the endpoint URL."), Length(max=500)],
    )
    events = SelectMultipleField(
        "Events",
        choices=list(EVENTS.items()),
        default=list(EVENTS),
        option_widget=CheckboxInput(),
        widget=ListWidget(prefix_label=False),
    )
    submit = SubmitField("Add webhook")


class TimezoneForm(FlaskForm):
    timezone = SelectField("Show times in", choices=[])
    submit = SubmitField("Save")

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        from tracker.domain.accounts import timezone_choices

        super().__init__(*args, **kwargs)
        self.timezone.choices = [("", "— my organisation's timezone, else UTC —")] + [
            (z, z) for z in timezone_choices()
        ]
