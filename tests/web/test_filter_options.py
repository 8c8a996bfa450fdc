"""A list filter's options render exactly what the templates' Jinja loops rendered."""

from __future__ import annotations

import pytest

from tracker.domain import workflow
from tracker.web.templating import filter_options

# The loops the queue and the partner's list had, one for named rows and one for labels.
NAMED_LOOP = (
    '{% for pid, name in choices %}<option value="{{ pid }}"{% if chosen == pid|string %}'
    " selected{% endif %}>{{ name }}</option>{% endfor %}"
)
LABEL_LOOP = (
    '{% for key, label in choices %}<option value="{{ key }}"{% if chosen == key %}'
    " selected{% endif %}>{{ label|t }}</option>{% endfor %}"
)
NAMES = [(1, "Ada <Admin>"), (2, 'Bo "the" Manager'), (3, "Cy & Co's"), (10, "Dee")]


def _loop(app, source: str, choices, chosen):  # type: ignore[no-untyped-def]
    # Autoescaped as the .html templates are.
    template = app.jinja_env.from_string("{% autoescape true %}" + source + "{% endautoescape %}")
    return template.render(choices=choices, chosen=chosen)


@pytest.mark.parametrize("chosen", [None, "", "1", "2", "10", "0", "x"])
def test_named_options_match_the_loop_with_every_kind_of_name(app, chosen) -> None:
    with app.test_request_context():
        assert str(filter_options(NAMES, chosen)) == _loop(app, NAMED_LOOP, NAMES, chosen)


@pytest.mark.parametrize("locale", ["en", "de", "fr"])
@pytest.mark.parametrize(
    "labels", [workflow.STATE_LABELS, workflow.PARTNER_STATE_LABELS, workflow.SEVERITIES]
)
def test_label_options_are_translated_and_escaped_as_the_loop_did(app, locale, labels) -> None:
    with app.test_request_context(headers={"Accept-Language": locale}):
        for chosen in (None, "", *labels):
            expected = _loop(app, LABEL_LOOP, labels.items(), chosen)
            assert str(filter_options(labels.items(), chosen, translate=True)) == expected
