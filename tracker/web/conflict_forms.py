"""Forms shared by the partner portal and the manager console."""

from __future__ import annotations

from flask import request
from flask_wtf import FlaskForm
from wtforms import (
    MultipleFileField,
    RadioField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length

from tracker.domain import workflow
from tracker.i18n import lazy_text as _l
from tracker.services.attachments import Upload
from tracker.web.fields import SelectField

BODY_MAX = workflow.MAX_TEXT


def _choices(mapping: dict[str, str]) -> list[tuple[str, str]]:
    """A domain label table as choices, each label read in the viewer's language."""
    return [(key, _l(label)) for key, label in mapping.items()]


def uploads_from_request(field_name: str = "attachments") -> list[Upload]:
    """The files of a multipart form as plain values for the services."""
    return [
        Upload(filename=f.filename or "", data=f.read())
        for f in request.files.getlist(field_name)
        if f and f.filename
    ]


class ConflictForm(FlaskForm):
    title = StringField(
        _l("Title"),
        validators=[
            DataRequired(message=_l("Give the conflict a title.")),
            Length(min=5, max=200, message=_l("The title needs 5 to 200 characters.")),
        ],
    )
    description = TextAreaField(
        _l("What happened, and what would resolve it?"),
        validators=[
            DataRequired(_l("Describe what happened and what would resolve it.")),
            Length(max=BODY_MAX),
        ],
    )
    category = SelectField(
        _l("Category"),
        choices=[("", _l("— choose what it is about —")), *_choices(workflow.CATEGORIES)],
        validators=[DataRequired(message=_l("Choose what the conflict is about."))],
    )
    severity = SelectField(
        _l("How severe is it for you?"), choices=_choices(workflow.SEVERITIES), default="medium"
    )
    attachments = MultipleFileField(_l("Attachments (optional)"))
    check = SubmitField(_l("Check for similar conflicts"))  # shows them; raises nothing
    submit = SubmitField(_l("Raise conflict"))


class MessageForm(FlaskForm):
    body = TextAreaField(
        _l("Message"), validators=[DataRequired(_l("Write a message.")), Length(max=BODY_MAX)]
    )
    attachments = MultipleFileField(_l("Attachments (optional)"))
    submit = SubmitField(_l("Send"))


class StaffMessageForm(MessageForm):
    """Two submit buttons carry the choice ("Send public reply" / "Add internal note"):
    nothing is preselected, so nothing goes to the partner by default."""

    visibility = RadioField(
        _l("Who sees this?"),
        choices=[
            ("public", _l("Send public reply")),
            ("internal", _l("Add internal note")),
        ],
    )


class TriageForm(FlaskForm):
    severity = SelectField(_l("Severity"), choices=_choices(workflow.SEVERITIES))
    category = SelectField(_l("Category"), choices=_choices(workflow.CATEGORIES))
    assignee_id = SelectField(_l("Assignee"), coerce=int)
    submit = SubmitField(_l("Triage"))


class WaitForm(FlaskForm):
    message = TextAreaField(
        _l("What do you need from the partner? (public)"),
        validators=[DataRequired(_l("Say what you need from the partner.")), Length(max=BODY_MAX)],
    )
    submit = SubmitField(_l("Ask the partner"))


class ResolveForm(FlaskForm):
    summary = TextAreaField(
        _l("Resolution summary (public)"),
        validators=[DataRequired(_l("Write the resolution summary.")), Length(max=BODY_MAX)],
    )
    root_cause = SelectField(_l("Root cause"), choices=_choices(workflow.ROOT_CAUSES))
    accountable_side = SelectField(
        _l("Accountable side (recorded without blame, shown to the partner)"),
        choices=_choices(workflow.ACCOUNTABLE_SIDES),
    )
    submit = SubmitField(_l("Resolve"))


class ReasonForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason"), validators=[DataRequired(_l("Give a reason.")), Length(max=BODY_MAX)]
    )
    submit = SubmitField(_l("Send"))


class WithdrawForm(FlaskForm):
    reason = SelectField(_l("Why withdraw it?"), choices=_choices(workflow.WITHDRAW_REASONS))
    submit = SubmitField(_l("Withdraw"))


class EmptyForm(FlaskForm):
    submit = SubmitField(_l("Confirm"))


class AssignForm(FlaskForm):
    assignee_id = SelectField(
        _l("Assignee"), coerce=lambda v: int(v) if v not in ("", None) else None
    )
    submit = SubmitField(_l("Assign"))


class FieldsForm(FlaskForm):
    severity = SelectField(_l("Severity"), choices=_choices(workflow.SEVERITIES))
    category = SelectField(_l("Category"), choices=_choices(workflow.CATEGORIES))
    submit = SubmitField(_l("Save changes"))


class LinkForm(FlaskForm):
    earlier_ref = StringField(
        _l("Repeat of (reference of the earlier conflict)"),
        validators=[
            DataRequired(
                _l("Enter the reference of the earlier conflict, for example TR-2026-00042.")
            ),
            Length(max=20),
        ],
    )
    submit = SubmitField(_l("Link as repeat"))


ACTION_FORMS: dict[str, type[FlaskForm]] = {
    "triage": TriageForm,
    "wait_on_partner": WaitForm,
    "resume": EmptyForm,
    "resolve": ResolveForm,
    "accept": EmptyForm,
    "dispute": ReasonForm,
    "reopen": ReasonForm,
    "withdraw": WithdrawForm,
}


class AcknowledgeForm(FlaskForm):
    note = TextAreaField(_l("Note (what you are doing about it)"), validators=[Length(max=2000)])
    submit = SubmitField(_l("Acknowledge"))


class BulkForm(FlaskForm):
    """Queue bulk actions: nothing is pre-chosen, so nothing changes by accident."""

    assignee_id = SelectField(
        _l("Assignee"), coerce=lambda v: int(v) if v not in ("", None) else None
    )
    severity = SelectField(
        _l("Severity"),
        choices=[("", _l("— keep each conflict's —")), *_choices(workflow.SEVERITIES)],
    )
    category = SelectField(
        _l("Category"),
        choices=[("", _l("— keep each conflict's —")), *_choices(workflow.CATEGORIES)],
    )
