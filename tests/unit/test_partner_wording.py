"""Partners read working days and their own words for a conflict's state."""

from __future__ import annotations

from datetime import time, timedelta

import pytest

from tracker.domain import workflow
from tracker.domain.calendar import BusinessCalendar, working_day_length
from tracker.domain.clock import format_working_time

NINE_TO_FIVE = ((time(9), time(17)),)


def test_a_working_day_is_the_weeks_usual_day() -> None:
    week = BusinessCalendar("Europe/Berlin", (NINE_TO_FIVE,) * 5 + (((time(9), time(12)),), ()))
    assert working_day_length(week) == timedelta(hours=8)
    night = BusinessCalendar("UTC", (((time(22), time(6)),),) * 5 + ((), ()))
    assert working_day_length(night) == timedelta(hours=8)
    assert working_day_length(BusinessCalendar.twenty_four_seven()) == timedelta(days=1)
    assert working_day_length(BusinessCalendar("UTC", ((),) * 7)) == timedelta(days=1)


@pytest.mark.parametrize(
    ("hours", "text"),
    [
        (24, "3 working days"),
        (8, "1 working day"),
        (1, "1 working hour"),
        (4, "4 working hours"),
        (12, "12 working hours"),
        (0.5, "30 working minutes"),
    ],
)
def test_business_time_in_working_days(hours: float, text: str) -> None:
    assert format_working_time(timedelta(hours=hours), timedelta(hours=8)) == text


def test_partners_never_read_the_queues_words() -> None:
    assert workflow.state_label(workflow.WAITING_ON_PARTNER, staff=True) == "Waiting on partner"
    assert (
        workflow.state_label(workflow.WAITING_ON_PARTNER, staff=False) == "Waiting for your answer"
    )
    assert set(workflow.PARTNER_STATE_LABELS) == set(workflow.STATES)
    assert set(workflow.PARTNER_NEXT_STEPS) == set(workflow.STATES)
    for label in workflow.PARTNER_STATE_LABELS.values():
        assert "partner" not in label.lower() and "triage" not in label.lower()
