"""Small helpers shared by the blueprints' forms."""

from __future__ import annotations

from flask import flash
from flask_babel import gettext as _
from flask_wtf import FlaskForm

from tracker.services.errors import ServiceError


def apply_field_errors(form: FlaskForm, error: ServiceError) -> None:
    """Show a service's field errors beside the fields; anything else as a flash."""
    shown = False
    for name, message in error.field_errors.items():
        field = getattr(form, name, None)
        if field is not None:
            message = _(message)
            field.errors = [*field.errors, message] if isinstance(field.errors, list) else [message]
            shown = True
    if not shown or not error.field_errors:
        flash(_(error.message), "error")
