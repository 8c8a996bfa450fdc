"""Forms shared by the partner portal and the manager console."""

from __future__ import annotations

from flask import request
from flask_wtf import FlaskForm
from wtforms import (
    MultipleFileField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length

from tracker.domain import workflow
from tracker.services.attachments import Upload

BODY_MAX = workflow.MAX_TEXT


def _choices(mapping: dict[str, str]) -> list[tuple[str, str]]:
    return list(mapping.items())


def uploads_from_request(field_name: str = "attachments") -> list[Upload]:
    """The files of a multipart form as plain values for the services."""
    return [
        Upload(filename=f.filename or "", data=f.read())
        for f in request.files.getlist(field_name)
        if f and f.filename
    ]


class ConflictForm(FlaskForm):
    title = StringField(
        "Title",
        validators=[
            DataRequired(message="Give the conflict a title."),
            Length(min=5, max=200, message="The title needs 5 to 200 characters."),
        ],
    )
    description = TextAreaField(
        "What happened, and what would resolve it?",
        validators=[
            DataRequired("Describe what happened and what would resolve it."),
            Length(max=BODY_MAX),
        ],
    )
    category = SelectField(
        "Category",
        choices=[("", "— choose what it is about —"), *_choices(workflow.CATEGORIES)],
        validators=[DataRequired(message="Choose what the conflict is about.")],
    )
    severity = SelectField(
        "How severe is it for you?", choices=_choices(workflow.SEVERITIES), default="medium"
    )
    attachments = MultipleFileField("Attachments (optional)")
    check = SubmitField("Check for similar conflicts")  # shows them; raises nothing
    submit = SubmitField("Raise conflict")


class MessageForm(FlaskForm):
    body = TextAreaField(
        "Message", validators=[DataRequired("Write a message."), Length(max=BODY_MAX)]
    )
    attachments = MultipleFileField("Attachments (optional)")
    submit = SubmitField("Send")


class StaffMessageForm(MessageForm):
    """Two submit buttons carry the choice ("Send public reply" / "Add internal note"):
    nothing is preselected, so nothing goes to the partner by default."""

    visibility = RadioField(
        "Who sees this?",
        choices=[
            ("public", "Send public reply"),
            ("internal", "Add internal note"),
        ],
    )


class TriageForm(FlaskForm):
    severity = SelectField("Severity", choices=_choices(workflow.SEVERITIES))
    category = SelectField("Category", choices=_choices(workflow.CATEGORIES))
    assignee_id = SelectField("Assignee", coerce=int)
    submit = SubmitField("Triage")


class WaitForm(FlaskForm):
    message = TextAreaField(
        "What do you need from the partner? (public)",
        validators=[DataRequired("Say what you need from the partner."), Length(max=BODY_MAX)],
    )
    submit = SubmitField("Ask the partner")


class ResolveForm(FlaskForm):
    summary = TextAreaField(
        "Resolution summary (public)",
        validators=[DataRequired("Write the resolution summary."), Length(max=BODY_MAX)],
    )
    root_cause = SelectField("Root cause", choices=_choices(workflow.ROOT_CAUSES))
    accountable_side = SelectField(
        "Accountable side (recorded without blame, shown to the partner)",
        choices=_choices(workflow.ACCOUNTABLE_SIDES),
    )
    submit = SubmitField("Resolve")


class ReasonForm(FlaskForm):
    reason = TextAreaField(
        "Reason", validators=[DataRequired("Give a reason."), Length(max=BODY_MAX)]
    )
    submit = SubmitField("Send")


class WithdrawForm(FlaskForm):
    reason = SelectField("Why withdraw it?", choices=_choices(workflow.WITHDRAW_REASONS))
    submit = SubmitField("Withdraw")


class EmptyForm(FlaskForm):
    submit = SubmitField("Confirm")


class AssignForm(FlaskForm):
    assignee_id = SelectField("Assignee", coerce=lambda v: int(v) if v not in ("", None) else None)
    submit = SubmitField("Assign")


class FieldsForm(FlaskForm):
    severity = SelectField("Severity", choices=_choices(workflow.SEVERITIES))
    category = SelectField("Category", choices=_choices(workflow.CATEGORIES))
    submit = SubmitField("Save changes")


class LinkForm(FlaskForm):
    earlier_ref = StringField(
        "Repeat of (reference of the earlier conflict)",
        validators=[
            DataRequired("Enter the reference of the earlier conflict, for example TR-2026-00042."),
            Length(max=20),
        ],
    )
    submit = SubmitField("Link as repeat")


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
    note = TextAreaField("Note (what you are doing about it)", validators=[Length(max=2000)])
    submit = SubmitField("Acknowledge")


class BulkForm(FlaskForm):
    """Queue bulk actions: nothing is pre-chosen, so nothing changes by accident."""

    assignee_id = SelectField("Assignee", coerce=lambda v: int(v) if v not in ("", None) else None)
    severity = SelectField(
        "Severity",
        choices=[("", "— keep each conflict's —"), *_choices(workflow.SEVERITIES)],
    )
    category = SelectField(
        "Category",
        choices=[("", "— keep each conflict's —"), *_choices(workflow.CATEGORIES)],
    )
