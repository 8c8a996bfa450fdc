"""The fast select renders exactly what WTForms' own Select renders."""

from __future__ import annotations

import pytest
from wtforms.widgets import Select

from tracker.web.conflict_forms import (
    ACTION_FORMS,
    AssignForm,
    BulkForm,
    ConflictForm,
    FieldsForm,
)
from tracker.web.fields import SelectField, SelectWidget

STAFF = [(1, "Ada <Admin>"), (2, 'Bo "the" Manager'), (3, "Cy & Co")]


def _selects(form):  # type: ignore[no-untyped-def]
    return [field for field in form if isinstance(field, SelectField)]


@pytest.mark.parametrize("locale", ["en", "de"])
def test_every_select_of_the_conflict_forms_renders_as_wtforms_does(app, locale) -> None:
    forms = [form_class for form_class in ACTION_FORMS.values()]
    forms += [AssignForm, BulkForm, ConflictForm, FieldsForm]
    with app.test_request_context(headers={"Accept-Language": locale}):
        for form_class in forms:
            form = form_class(meta={"csrf": False})
            for field in _selects(form):
                if field.choices is None:  # the staff, set by the route
                    field.choices = STAFF if field.coerce is int else [("", "— nobody —"), *STAFF]
                for data in (None, "", "medium", 2, "delivery"):
                    field.data = data
                    for attrs in ({}, {"id": "side-x", "required": True}):
                        assert field(**attrs) == Select()(field, **attrs), (field.name, data)


def test_groups_and_render_kw_take_the_wtforms_path(app) -> None:
    with app.test_request_context():
        form = BulkForm(meta={"csrf": False})
        field = form.assignee_id
        field.choices = {"Team <a>": [(1, "Ada")], "Team b": [(2, "Bo")]}
        assert field() == Select()(field)
        field.choices = [(1, "Ada", {"disabled": True}), (2, "Bo", {})]
        assert "disabled" in SelectWidget()(field)
        assert field() == Select()(field)
