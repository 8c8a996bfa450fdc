"""Forms for ratings and check-ins."""

from flask_wtf import FlaskForm
from wtforms import RadioField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length


class RatingForm(FlaskForm):
    stars = RadioField(
        "How well was this resolved?",
        choices=[
            ("5", "5 · excellent"),
            ("4", "4 · good"),
            ("3", "3 · acceptable"),
            ("2", "2 · poor"),
            ("1", "1 · very poor"),
        ],
        validators=[DataRequired(message="Choose 1 to 5 stars.")],
    )
    comment = TextAreaField("Comment (optional)", validators=[Length(max=2000)])
    submit = SubmitField("Send rating")


class CheckInForm(FlaskForm):
    note = TextAreaField(
        "What did you discuss?",
        validators=[DataRequired("Say what you discussed."), Length(max=5000)],
    )
    submit = SubmitField("Log check-in")
