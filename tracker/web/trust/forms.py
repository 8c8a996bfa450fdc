"""Forms for ratings and check-ins."""

from flask_wtf import FlaskForm
from wtforms import RadioField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length

from tracker.i18n import lazy_text as _l


class RatingForm(FlaskForm):
    stars = RadioField(
        _l("How well was this resolved?"),
        choices=[
            ("5", _l("5 · excellent")),
            ("4", _l("4 · good")),
            ("3", _l("3 · acceptable")),
            ("2", _l("2 · poor")),
            ("1", _l("1 · very poor")),
        ],
        validators=[DataRequired(message=_l("Choose 1 to 5 stars."))],
    )
    comment = TextAreaField(_l("Comment (optional)"), validators=[Length(max=2000)])
    submit = SubmitField(_l("Send rating"))


class CheckInForm(FlaskForm):
    note = TextAreaField(
        _l("What did you discuss?"),
        validators=[DataRequired(_l("Say what you discussed.")), Length(max=5000)],
    )
    submit = SubmitField(_l("Log check-in"))
