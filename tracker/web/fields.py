"""Form fields that render as WTForms renders them, at a fraction of its cost.

WTForms 3.3 turns every (value, label) choice into an object twice per render and inspects
a signature per field: a five-option select cost about 0.4 ms, and a conflict page shows
nine of them. Plain (value, label) choices take the short path below; anything else
(groups, render_kw, a multiple select) goes through WTForms itself. tests/web/test_fields.py
checks the output against WTForms' own, byte for byte.
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup, escape
from wtforms import SelectField as _SelectField
from wtforms.fields import Field
from wtforms.widgets import Select as _SelectWidget
from wtforms.widgets import html_params


class SelectWidget(_SelectWidget):
    """`<select>` with its options, the short way for plain two-item choices."""

    def __call__(self, field: Field, **kwargs: Any) -> Markup:
        choices = field.choices  # type: ignore[attr-defined]
        if self.multiple or not _plain(choices):
            return super().__call__(field, **kwargs)
        kwargs.setdefault("id", field.id)
        flags = vars(field.flags)
        for name in self.validation_attrs:
            if name not in kwargs and name in flags:
                kwargs[name] = flags[name]
        html = [f"<select {html_params(name=field.name, **kwargs)}>"]
        coerce, data = field.coerce, field.data  # type: ignore[attr-defined]
        for value, label in choices:
            shown = str(value) if isinstance(value, bool) else value
            selected = " selected" if coerce(value) == data else ""
            html.append(
                f'<option{selected} value="{escape(shown)}">{escape(label or value)}</option>'
            )
        html.append("</select>")
        return Markup("".join(html))  # noqa: S704  (every value and label escaped above)


def _plain(choices: object) -> bool:
    return isinstance(choices, (list, tuple)) and all(
        type(choice) is tuple and len(choice) == 2 for choice in choices
    )


class SelectField(_SelectField):
    """WTForms' SelectField with the faster widget."""

    widget = SelectWidget()
