"""Worked examples for the business-time SLA clock, each checked by hand."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from tracker.domain.calendar import (
    BusinessCalendar,
    SlaConfigError,
    add_business_time,
    business_time_between,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
H = timedelta(hours=1)
NO_DAY: tuple[tuple[time, time], ...] = ()


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


def new_york(*args: int) -> datetime:
    return datetime(*args, tzinfo=NEW_YORK)


def every_day(*intervals: tuple[time, time]) -> tuple[tuple[tuple[time, time], ...], ...]:
    return (tuple(intervals),) * 7


OFFICE_BERLIN = BusinessCalendar.office_hours("Europe/Berlin")
OFFICE_BERLIN_DE = BusinessCalendar.office_hours("Europe/Berlin", holiday_country="DE")
OFFICE_NEW_YORK = BusinessCalendar.office_hours("America/New_York")
OFFICE_NEW_YORK_US = BusinessCalendar.office_hours("America/New_York", holiday_country="US")
SEVEN_DAYS_NEW_YORK = BusinessCalendar.office_hours("America/New_York", weekdays=7)
LUNCH_BREAK_BERLIN = BusinessCalendar(
    "Europe/Berlin",
    (((time(9), time(12)), (time(13), time(17))),) * 5 + (NO_DAY, NO_DAY),
)
NIGHTS_BERLIN = BusinessCalendar("Europe/Berlin", every_day((time(22), time(6))))
NIGHTS_NEW_YORK = BusinessCalendar("America/New_York", every_day((time(22), time(6))))
NIGHTS_BERLIN_NO_SUNDAY = BusinessCalendar(
    "Europe/Berlin",
    every_day((time(22), time(6))),
    holidays=frozenset({date(2026, 6, 21)}),
)
OFFICE_BERLIN_JUNE_16_OFF = BusinessCalendar.office_hours(
    "Europe/Berlin", holidays=frozenset({date(2026, 6, 16)})
)
# Sunday intervals that meet the New York spring-forward gap (02:00-03:00 is skipped).
GAP_SUNDAYS_NEW_YORK = BusinessCalendar(
    "America/New_York",
    (NO_DAY,) * 6 + (((time(2, 30), time(4)),),),
)
AMBIGUOUS_SUNDAYS_NEW_YORK = BusinessCalendar(
    "America/New_York",
    (NO_DAY,) * 6 + (((time(1, 30), time(3)),),),
)
ALWAYS_BERLIN = BusinessCalendar.twenty_four_seven("Europe/Berlin")


ADD_CASES = [
    pytest.param(
        OFFICE_BERLIN,
        berlin(2026, 6, 15, 10),
        2 * H,
        berlin(2026, 6, 15, 12),
        id="same-day: Mon 10:00 + 2h = Mon 12:00",
    ),
    pytest.param(
        OFFICE_BERLIN,
        berlin(2026, 6, 15, 15),
        4 * H,
        berlin(2026, 6, 16, 11),
        id="next-day: 2h left Mon, 2h from Tue 09:00",
    ),
    pytest.param(
        OFFICE_BERLIN,
        berlin(2026, 6, 15, 7),
        H,
        berlin(2026, 6, 15, 10),
        id="before-opening: the clock starts at 09:00",
    ),
    pytest.param(
        OFFICE_BERLIN,
        berlin(2026, 6, 15, 18),
        H,
        berlin(2026, 6, 16, 10),
        id="after-closing: the clock starts Tue 09:00",
    ),
    pytest.param(
        OFFICE_BERLIN,
        berlin(2026, 6, 19, 16),
        2 * H,
        berlin(2026, 6, 22, 10),
        id="weekend: 1h Fri, 1h from Mon 09:00",
    ),
    pytest.param(
        OFFICE_BERLIN,
        berlin(2026, 6, 20, 12),
        H,
        berlin(2026, 6, 22, 10),
        id="start-on-saturday: the clock starts Mon 09:00",
    ),
    pytest.param(
        OFFICE_BERLIN,
        berlin(2026, 6, 15, 9),
        8 * H,
        berlin(2026, 6, 15, 17),
        id="exact-day: ends at 17:00, not at Tue 09:00",
    ),
    pytest.param(
        OFFICE_BERLIN,
        berlin(2026, 6, 20, 12),
        timedelta(0),
        berlin(2026, 6, 20, 12),
        id="zero-duration: start itself, even on a Saturday",
    ),
    pytest.param(
        OFFICE_BERLIN,
        berlin(2026, 6, 15, 9),
        40 * H,
        berlin(2026, 6, 19, 17),
        id="one-week: 40h from Mon 09:00 is Fri 17:00",
    ),
    pytest.param(
        OFFICE_BERLIN,
        berlin(2026, 6, 15, 9),
        41 * H,
        berlin(2026, 6, 22, 10),
        id="week-plus-hour: Mon 10:00 a week later",
    ),
    pytest.param(
        OFFICE_BERLIN,
        berlin(2026, 6, 15, 9),
        120 * H,
        berlin(2026, 7, 3, 17),
        id="three-weeks: 120h = 15 days, Fri 17:00 of week three",
    ),
    pytest.param(
        LUNCH_BREAK_BERLIN,
        berlin(2026, 6, 15, 11),
        2 * H,
        berlin(2026, 6, 15, 14),
        id="lunch-break: 1h before 12:00, 1h after 13:00",
    ),
    pytest.param(
        LUNCH_BREAK_BERLIN,
        berlin(2026, 6, 15, 12, 30),
        H,
        berlin(2026, 6, 15, 14),
        id="start-in-lunch-break: the clock starts at 13:00",
    ),
    pytest.param(
        LUNCH_BREAK_BERLIN,
        berlin(2026, 6, 15, 9),
        3 * H,
        berlin(2026, 6, 15, 12),
        id="morning-used-up: ends at 12:00, not at 13:00",
    ),
    pytest.param(
        OFFICE_NEW_YORK,
        new_york(2026, 3, 6, 16),
        2 * H,
        new_york(2026, 3, 9, 10),
        id="ny-spring-weekend: Fri 16:00 EST + 2h = Mon 10:00 EDT",
    ),
    pytest.param(
        OFFICE_BERLIN,
        berlin(2026, 3, 27, 16),
        2 * H,
        berlin(2026, 3, 30, 10),
        id="berlin-spring-weekend: Fri 16:00 CET + 2h = Mon 10:00 CEST",
    ),
    pytest.param(
        SEVEN_DAYS_NEW_YORK,
        new_york(2026, 3, 8, 9),
        8 * H,
        new_york(2026, 3, 8, 17),
        id="ny-spring-day: 09:00-17:00 EDT on the change day is still 8h",
    ),
    pytest.param(
        SEVEN_DAYS_NEW_YORK,
        new_york(2026, 11, 1, 9),
        8 * H,
        new_york(2026, 11, 1, 17),
        id="ny-autumn-day: 09:00-17:00 EST on the change day is still 8h",
    ),
    pytest.param(
        NIGHTS_NEW_YORK,
        new_york(2026, 3, 7, 22),
        7 * H,
        new_york(2026, 3, 8, 6),
        id="ny-spring-night: Sat 22:00 EST to Sun 06:00 EDT is 7h real",
    ),
    pytest.param(
        NIGHTS_NEW_YORK,
        new_york(2026, 3, 7, 22),
        8 * H,
        new_york(2026, 3, 8, 23),
        id="ny-spring-night-plus-hour: 7h Sat night, 1h from Sun 22:00",
    ),
    pytest.param(
        NIGHTS_NEW_YORK,
        new_york(2026, 10, 31, 22),
        9 * H,
        new_york(2026, 11, 1, 6),
        id="ny-autumn-night: Sat 22:00 EDT to Sun 06:00 EST is 9h real",
    ),
    pytest.param(
        NIGHTS_NEW_YORK,
        new_york(2026, 10, 31, 22),
        8 * H,
        new_york(2026, 11, 1, 5),
        id="ny-autumn-night-8h: Sat 22:00 EDT + 8h = Sun 05:00 EST",
    ),
    pytest.param(
        NIGHTS_BERLIN,
        berlin(2026, 3, 28, 22),
        7 * H,
        berlin(2026, 3, 29, 6),
        id="berlin-spring-night: Sat 22:00 CET to Sun 06:00 CEST is 7h real",
    ),
    pytest.param(
        NIGHTS_BERLIN,
        berlin(2026, 10, 24, 22),
        9 * H,
        berlin(2026, 10, 25, 6),
        id="berlin-autumn-night: Sat 22:00 CEST to Sun 06:00 CET is 9h real",
    ),
    pytest.param(
        NIGHTS_BERLIN,
        berlin(2026, 6, 15, 12),
        H,
        berlin(2026, 6, 15, 23),
        id="night-shift-daytime-start: the clock starts at 22:00",
    ),
    pytest.param(
        NIGHTS_BERLIN,
        berlin(2026, 6, 16, 3),
        4 * H,
        berlin(2026, 6, 16, 23),
        id="night-shift-spill-start: 3h until 06:00, 1h from 22:00",
    ),
    pytest.param(
        NIGHTS_BERLIN_NO_SUNDAY,
        berlin(2026, 6, 20, 22),
        9 * H,
        berlin(2026, 6, 22, 23),
        id="holiday-night: Sat shift runs into Sun 06:00, Sun 22:00 shift cancelled",
    ),
    pytest.param(
        OFFICE_BERLIN_DE,
        berlin(2026, 12, 24, 16),
        2 * H,
        berlin(2026, 12, 28, 10),
        id="de-christmas: 1h Thu 24th, 25th holiday, 26th-27th weekend",
    ),
    pytest.param(
        OFFICE_NEW_YORK_US,
        new_york(2026, 7, 2, 16),
        2 * H,
        new_york(2026, 7, 6, 10),
        id="us-july-3-observed: 1h Thu, Fri observed holiday, weekend",
    ),
    pytest.param(
        OFFICE_BERLIN_JUNE_16_OFF,
        berlin(2026, 6, 15, 16),
        2 * H,
        berlin(2026, 6, 17, 10),
        id="explicit-holiday: 1h Mon, Tue 16th off, 1h Wed",
    ),
    pytest.param(
        OFFICE_BERLIN_DE,
        berlin(2026, 12, 31, 16),
        2 * H,
        berlin(2027, 1, 4, 10),
        id="de-new-year: 1h Thu 31st, Fri 1 Jan holiday, weekend",
    ),
    pytest.param(
        OFFICE_NEW_YORK_US,
        new_york(2026, 12, 31, 16),
        2 * H,
        new_york(2027, 1, 4, 10),
        id="us-new-year: 1h Thu 31st, Fri 1 Jan holiday, weekend",
    ),
    pytest.param(
        GAP_SUNDAYS_NEW_YORK,
        new_york(2026, 3, 8, 0),
        30 * timedelta(minutes=1),
        datetime(2026, 3, 8, 8, tzinfo=UTC),
        id="spring-gap: 02:30 maps to 07:30Z, so 02:30-04:00 is 30min",
    ),
    pytest.param(
        AMBIGUOUS_SUNDAYS_NEW_YORK,
        new_york(2026, 11, 1, 0),
        150 * timedelta(minutes=1),
        datetime(2026, 11, 1, 8, tzinfo=UTC),
        id="autumn-fold: 01:30 is the first (EDT) one, so 01:30-03:00 is 2h30",
    ),
    pytest.param(
        ALWAYS_BERLIN,
        berlin(2026, 12, 25, 12),
        24 * H,
        berlin(2026, 12, 26, 12),
        id="24x7: holidays are ignored",
    ),
    pytest.param(
        ALWAYS_BERLIN,
        berlin(2026, 3, 28, 12),
        24 * H,
        berlin(2026, 3, 29, 13),
        id="24x7-dst: 24h real time, so 13:00 CEST on the change day",
    ),
    pytest.param(
        OFFICE_BERLIN,
        datetime(2026, 6, 15, 17, tzinfo=ZoneInfo("Asia/Tokyo")),
        H,
        berlin(2026, 6, 15, 11),
        id="any-input-zone: 17:00 JST is 10:00 CEST",
    ),
]


@pytest.mark.parametrize(("calendar", "start", "duration", "expected"), ADD_CASES)
def test_add_business_time_reaches_the_hand_computed_deadline(
    calendar: BusinessCalendar,
    start: datetime,
    duration: timedelta,
    expected: datetime,
) -> None:
    deadline = add_business_time(start, duration, calendar)
    assert deadline == expected
    assert deadline.tzinfo is UTC


BETWEEN_CASES = [
    pytest.param(
        OFFICE_BERLIN,
        berlin(2026, 6, 15, 10),
        berlin(2026, 6, 15, 12),
        2 * H,
        id="same-day",
    ),
    pytest.param(
        OFFICE_BERLIN,
        berlin(2026, 6, 19, 16),
        berlin(2026, 6, 22, 10),
        2 * H,
        id="over-a-weekend: 1h Fri + 1h Mon",
    ),
    pytest.param(
        OFFICE_BERLIN,
        berlin(2026, 6, 15, 12),
        berlin(2026, 6, 15, 10),
        timedelta(0),
        id="reversed-is-zero",
    ),
    pytest.param(
        OFFICE_BERLIN,
        berlin(2026, 6, 15, 12),
        berlin(2026, 6, 15, 12),
        timedelta(0),
        id="empty-is-zero",
    ),
    pytest.param(
        OFFICE_BERLIN,
        berlin(2026, 6, 20),
        berlin(2026, 6, 22),
        timedelta(0),
        id="weekend-only-is-zero",
    ),
    pytest.param(
        OFFICE_BERLIN,
        berlin(2026, 6, 15),
        berlin(2026, 6, 22),
        40 * H,
        id="full-week: 5 x 8h",
    ),
    pytest.param(
        OFFICE_BERLIN_DE,
        berlin(2026, 12, 21),
        berlin(2026, 12, 28),
        32 * H,
        id="christmas-week: Fri 25th is a holiday, 4 x 8h",
    ),
    pytest.param(
        OFFICE_BERLIN_DE,
        berlin(2026, 1, 1),
        berlin(2027, 1, 1),
        2032 * H,
        id="year-2026-de: 261 weekdays - 7 weekday holidays = 254 x 8h",
    ),
    pytest.param(
        LUNCH_BREAK_BERLIN,
        berlin(2026, 6, 15, 10),
        berlin(2026, 6, 15, 15),
        4 * H,
        id="lunch-break-not-counted: 2h + 2h",
    ),
    pytest.param(
        NIGHTS_NEW_YORK,
        new_york(2026, 3, 7, 20),
        new_york(2026, 3, 8, 12),
        7 * H,
        id="ny-spring-night: 7h real",
    ),
    pytest.param(
        NIGHTS_NEW_YORK,
        new_york(2026, 10, 31, 20),
        new_york(2026, 11, 1, 12),
        9 * H,
        id="ny-autumn-night: 9h real",
    ),
    pytest.param(
        NIGHTS_BERLIN,
        berlin(2026, 3, 28, 20),
        berlin(2026, 3, 29, 12),
        7 * H,
        id="berlin-spring-night: 7h real",
    ),
    pytest.param(
        NIGHTS_BERLIN,
        berlin(2026, 10, 24, 20),
        berlin(2026, 10, 25, 12),
        9 * H,
        id="berlin-autumn-night: 9h real",
    ),
    pytest.param(
        NIGHTS_BERLIN,
        berlin(2026, 12, 31, 23),
        berlin(2027, 1, 1, 1),
        2 * H,
        id="night-over-new-year",
    ),
    pytest.param(
        GAP_SUNDAYS_NEW_YORK,
        new_york(2026, 3, 15),
        new_york(2026, 3, 16),
        90 * timedelta(minutes=1),
        id="ordinary-sunday: 02:30-04:00 is 1h30",
    ),
    pytest.param(
        ALWAYS_BERLIN,
        berlin(2026, 10, 24, 12),
        berlin(2026, 10, 25, 12),
        25 * H,
        id="24x7-autumn-day-is-25h",
    ),
]


@pytest.mark.parametrize(("calendar", "a", "b", "expected"), BETWEEN_CASES)
def test_business_time_between_counts_only_working_time(
    calendar: BusinessCalendar, a: datetime, b: datetime, expected: timedelta
) -> None:
    assert business_time_between(a, b, calendar) == expected


WORKING_CASES = [
    pytest.param(OFFICE_BERLIN, berlin(2026, 6, 15, 9), True, id="opening-instant"),
    pytest.param(OFFICE_BERLIN, berlin(2026, 6, 15, 8, 59, 59), False, id="second-before-open"),
    pytest.param(
        OFFICE_BERLIN,
        berlin(2026, 6, 15, 16, 59, 59, 999999),
        True,
        id="last-microsecond",
    ),
    pytest.param(OFFICE_BERLIN, berlin(2026, 6, 15, 17), False, id="closing-instant"),
    pytest.param(OFFICE_BERLIN, berlin(2026, 6, 20, 12), False, id="saturday"),
    pytest.param(OFFICE_BERLIN_DE, berlin(2026, 12, 25, 12), False, id="country-holiday"),
    pytest.param(OFFICE_BERLIN_JUNE_16_OFF, berlin(2026, 6, 16, 12), False, id="explicit-holiday"),
    pytest.param(LUNCH_BREAK_BERLIN, berlin(2026, 6, 15, 12, 30), False, id="lunch"),
    pytest.param(NIGHTS_BERLIN, berlin(2026, 6, 16, 3), True, id="night-spill"),
    pytest.param(NIGHTS_BERLIN, berlin(2026, 6, 16, 12), False, id="night-shift-noon"),
    pytest.param(
        NIGHTS_BERLIN_NO_SUNDAY,
        berlin(2026, 6, 21, 5),
        True,
        id="saturday-night-runs-into-holiday",
    ),
    pytest.param(
        NIGHTS_BERLIN_NO_SUNDAY,
        berlin(2026, 6, 21, 23),
        False,
        id="holiday-night-cancelled",
    ),
    pytest.param(
        GAP_SUNDAYS_NEW_YORK,
        datetime(2026, 3, 8, 7, 15, tzinfo=UTC),
        False,
        id="03:15-edt-before-the-shifted-start",
    ),
    pytest.param(ALWAYS_BERLIN, berlin(2026, 12, 25, 3), True, id="24x7"),
]


@pytest.mark.parametrize(("calendar", "at", "expected"), WORKING_CASES)
def test_is_working(calendar: BusinessCalendar, at: datetime, expected: bool) -> None:
    assert calendar.is_working(at) is expected


def test_office_hours_defaults_to_monday_to_friday_nine_to_five() -> None:
    nine_to_five = ((time(9), time(17)),)
    assert OFFICE_BERLIN.weekly_hours == (nine_to_five,) * 5 + (NO_DAY, NO_DAY)
    assert OFFICE_BERLIN.holidays == frozenset()
    assert OFFICE_BERLIN.holiday_country is None
    assert not OFFICE_BERLIN.always_open


def test_calendars_are_hashable_values_even_when_built_from_lists() -> None:
    listy = BusinessCalendar(
        "Europe/Berlin",
        [[(time(9), time(17))]] * 5 + [[], []],  # type: ignore[arg-type]
        holidays={date(2026, 6, 16)},  # type: ignore[arg-type]
    )
    assert listy == OFFICE_BERLIN_JUNE_16_OFF
    assert hash(listy) == hash(OFFICE_BERLIN_JUNE_16_OFF)
    assert add_business_time(berlin(2026, 6, 15, 16), 2 * H, listy) == berlin(2026, 6, 17, 10)


INVALID_CALENDARS = [
    pytest.param(
        BusinessCalendar("Mars/Olympus_Mons", every_day((time(9), time(17)))),
        "Unknown timezone",
        id="unknown-timezone",
    ),
    pytest.param(
        BusinessCalendar("UTC", (((time(9), time(17)),),) * 6),
        "exactly 7 days",
        id="six-days",
    ),
    pytest.param(
        BusinessCalendar("UTC", every_day((time(9), time(12)), (time(11), time(13)))),
        "overlaps",
        id="overlap-within-a-day",
    ),
    pytest.param(
        BusinessCalendar(
            "UTC",
            ((((time(22), time(6)),), ((time(5), time(9)),)) + (NO_DAY,) * 5),
        ),
        "Monday 22:00-06:00 overlaps Tuesday 05:00-09:00",
        id="overnight-spills-into-next-day",
    ),
    pytest.param(
        BusinessCalendar(
            "UTC", (((time(5), time(9)),),) + (NO_DAY,) * 5 + (((time(22), time(6)),),)
        ),
        "Sunday 22:00-06:00 overlaps Monday 05:00-09:00",
        id="sunday-night-spills-into-monday",
    ),
    pytest.param(
        BusinessCalendar("UTC", every_day((time(9), time(9)))),
        "zero length",
        id="zero-length",
    ),
    pytest.param(
        BusinessCalendar("UTC", (NO_DAY,) * 7),
        "no working time",
        id="no-working-time",
    ),
    pytest.param(
        BusinessCalendar("UTC", every_day((time(9), time(17))), holiday_country="XX"),
        "Unknown holiday country",
        id="unknown-country",
    ),
    pytest.param(
        BusinessCalendar("UTC", every_day((time(9, tzinfo=UTC), time(17)))),
        "naive datetime.time",
        id="aware-wall-clock-time",
    ),
    pytest.param(
        BusinessCalendar("UTC", every_day(("09:00", "17:00"))),  # type: ignore[arg-type]
        "naive datetime.time",
        id="strings-not-times",
    ),
]


@pytest.mark.parametrize(("calendar", "message"), INVALID_CALENDARS)
def test_validate_explains_what_is_wrong(calendar: BusinessCalendar, message: str) -> None:
    with pytest.raises(SlaConfigError, match=message):
        calendar.validate()


@pytest.mark.parametrize(("calendar", "message"), INVALID_CALENDARS)
def test_the_clock_refuses_an_invalid_calendar(calendar: BusinessCalendar, message: str) -> None:
    with pytest.raises(SlaConfigError, match=message):
        add_business_time(berlin(2026, 6, 15, 9), H, calendar)


VALID_CALENDARS = [
    pytest.param(
        BusinessCalendar("UTC", every_day((time(9), time(12)), (time(12), time(17)))),
        id="touching-intervals",
    ),
    pytest.param(BusinessCalendar("UTC", every_day((time(0), time(0)))), id="whole-days"),
    pytest.param(
        BusinessCalendar("UTC", every_day((time(22), time(6)), (time(6), time(7)))),
        id="night-then-morning",
    ),
    pytest.param(BusinessCalendar.twenty_four_seven(), id="24x7"),
    pytest.param(
        BusinessCalendar("UTC", (NO_DAY,) * 7, always_open=True),
        id="24x7-needs-no-hours",
    ),
    pytest.param(
        BusinessCalendar.office_hours("Asia/Kolkata", time(9, 30), time(18), 6, "IN"),
        id="kolkata-six-days",
    ),
]


@pytest.mark.parametrize("calendar", VALID_CALENDARS)
def test_validate_accepts_sound_calendars(calendar: BusinessCalendar) -> None:
    calendar.validate()


def test_whole_day_intervals_count_24_hours() -> None:
    whole_days = BusinessCalendar("UTC", every_day((time(0), time(0))))
    start = datetime(2026, 6, 15, tzinfo=UTC)
    assert business_time_between(start, start + 3 * 24 * H, whole_days) == 72 * H


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param({"timezone": "Nowhere/Land"}, "Unknown timezone", id="timezone"),
        pytest.param({"timezone": "UTC", "weekdays": 8}, "weekdays", id="weekdays"),
        pytest.param({"timezone": "UTC", "weekdays": 0}, "no working time", id="no-weekdays"),
        pytest.param(
            {"timezone": "UTC", "holiday_country": "Atlantis"},
            "Unknown holiday country",
            id="country",
        ),
    ],
)
def test_office_hours_validates_at_once(kwargs: dict, message: str) -> None:
    with pytest.raises(SlaConfigError, match=message):
        BusinessCalendar.office_hours(**kwargs)


def test_sla_config_error_is_a_value_error() -> None:
    assert issubclass(SlaConfigError, ValueError)


NAIVE = datetime(2026, 6, 15, 9)
AWARE = berlin(2026, 6, 15, 9)


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda: add_business_time(NAIVE, H, OFFICE_BERLIN), id="add"),
        pytest.param(lambda: business_time_between(NAIVE, AWARE, OFFICE_BERLIN), id="between-a"),
        pytest.param(lambda: business_time_between(AWARE, NAIVE, OFFICE_BERLIN), id="between-b"),
        pytest.param(lambda: OFFICE_BERLIN.is_working(NAIVE), id="is-working"),
        pytest.param(lambda: ALWAYS_BERLIN.is_working(NAIVE), id="24x7-is-working"),
        pytest.param(lambda: add_business_time(NAIVE, H, ALWAYS_BERLIN), id="24x7-add"),
    ],
)
def test_naive_datetimes_are_rejected(call) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        call()


def test_negative_duration_is_rejected() -> None:
    with pytest.raises(ValueError, match="negative"):
        add_business_time(AWARE, -H, OFFICE_BERLIN)


# Zones where local midnight is not a clean boundary. Toronto sprang forward from
# 23:30 on 30 March 1919 to 00:30 on the 31st, so midnight itself did not exist;
# Nuuk springs forward from 23:00 to 00:00 on Saturday nights.
TORONTO = ZoneInfo("America/Toronto")
WHOLE_DAYS_TORONTO = BusinessCalendar("America/Toronto", every_day((time(0), time(0))))
EARLY_HOURS_TORONTO = BusinessCalendar("America/Toronto", every_day((time(0, 40), time(2))))
LONG_FRIDAY_NUUK = BusinessCalendar(
    "America/Nuuk", (NO_DAY,) * 4 + (((time(23, 40), time(23, 30)),),) + (NO_DAY,) * 2
)
OVERLAP_IN_GAP_NEW_YORK = BusinessCalendar(
    "America/New_York",
    (NO_DAY,) * 6 + (((time(2, 15), time(2, 45)), (time(3), time(4))),),
)


def test_a_start_just_after_a_skipped_midnight_is_still_counted() -> None:
    # 00:40 EDT on 31 March 1919 is 04:40Z, before the nonexistent midnight (05:00Z
    # by fold=0), so it belongs to the 30th's stretch of working time.
    start = datetime(1919, 3, 31, 4, 40, tzinfo=UTC)
    assert start.astimezone(TORONTO).date() == date(1919, 3, 31)
    assert WHOLE_DAYS_TORONTO.is_working(start)
    assert add_business_time(start, timedelta(minutes=10), WHOLE_DAYS_TORONTO) == start + (
        timedelta(minutes=10)
    )


def test_an_interval_starting_after_a_skipped_midnight_is_counted_in_full() -> None:
    # 00:40-02:00 EDT on 31 March 1919 is 04:40Z-06:00Z: 1h20, like any other day.
    a = datetime(1919, 3, 30, 12, tzinfo=TORONTO)
    b = datetime(1919, 3, 31, 12, tzinfo=TORONTO)
    assert business_time_between(a, b, EARLY_HOURS_TORONTO) == timedelta(hours=1, minutes=20)


def test_a_long_shift_ending_in_a_gap_runs_past_the_next_midnight() -> None:
    # Fri 23:40 (-02) is 01:40Z Sat; Sat 23:30 is in the gap, so fold=0 reads it
    # as -02: 01:30Z Sun, after Sunday's midnight (00:00 -01 = 01:00Z). 23h50 in all.
    a = datetime(2026, 3, 27, 12, tzinfo=UTC)
    b = datetime(2026, 3, 30, 12, tzinfo=UTC)
    assert business_time_between(a, b, LONG_FRIDAY_NUUK) == timedelta(hours=23, minutes=50)


def test_intervals_that_overlap_only_after_a_gap_count_once() -> None:
    # On 8 March 2026 02:15-02:45 maps to 07:15Z-07:45Z and 03:00-04:00 EDT to
    # 07:00Z-08:00Z: together one hour, not one and a half.
    sunday = new_york(2026, 3, 8)
    assert business_time_between(sunday, sunday + 24 * H, OVERLAP_IN_GAP_NEW_YORK) == H
    assert add_business_time(sunday, H, OVERLAP_IN_GAP_NEW_YORK) == datetime(
        2026, 3, 8, 8, tzinfo=UTC
    )
    next_sunday = new_york(2026, 3, 15)
    assert business_time_between(
        next_sunday, next_sunday + 24 * H, OVERLAP_IN_GAP_NEW_YORK
    ) == timedelta(hours=1, minutes=30)


def test_a_deadline_past_year_9999_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="9999"):
        add_business_time(datetime(9999, 12, 20, tzinfo=UTC), 100 * H, OFFICE_BERLIN)
