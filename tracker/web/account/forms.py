"""Forms for API tokens and partner webhooks."""

from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, SelectMultipleField, StringField, SubmitField, URLField
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from tracker.i18n import lazy_text as _l
from tracker.services.partner_webhooks import EVENTS


class TokenForm(FlaskForm):
    name = StringField(
        _l("Name"), validators=[DataRequired(_l("Enter your name.")), Length(max=100)]
    )
    scope = SelectField(
        _l("Scope"),
        choices=[("read", _l("Read: look only")), ("write", _l("Write: raise, act, comment"))],
        default="read",
    )
    expires_on = DateField(_l("Expires on (optional)"), validators=[Optional()])
    submit = SubmitField(_l("Create token"))


class WebhookForm(FlaskForm):
    url = URLField(
        _l("Endpoint URL (https://)"),
        validators=[DataRequired(_l("Enter the endpoint URL.")), Length(max=500)],
    )
    events = SelectMultipleField(
        _l("Events"),
        choices=[(key, _l(label)) for key, label in EVENTS.items()],
        default=list(EVENTS),
        option_widget=CheckboxInput(),
        widget=ListWidget(prefix_label=False),
    )
    submit = SubmitField(_l("Add webhook"))


class TimezoneForm(FlaskForm):
    timezone = SelectField(_l("Show times in"), choices=[])
    locale = SelectField(_l("Language"), choices=[])
    submit = SubmitField(_l("Save"))

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        from tracker.domain.accounts import timezone_choices

        super().__init__(*args, **kwargs)
        from tracker.domain.accounts import LOCALES

        self.timezone.choices = [("", _l("— my organisation's timezone, else UTC —"))] + [
            (z, z) for z in timezone_choices()
        ]
        self.locale.choices = [("", _l("— my browser's language —"))] + list(LOCALES.items())
