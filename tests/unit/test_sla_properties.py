"""Laws the business-time SLA clock keeps for any start, duration and calendar."""

from datetime import UTC, datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.domain.calendar import BusinessCalendar, add_business_time, business_time_between

NO_DAY: tuple[tuple[time, time], ...] = ()
MICROSECOND = timedelta(microseconds=1)

CALENDARS = [
    BusinessCalendar.office_hours("UTC"),
    BusinessCalendar.office_hours("America/New_York", holiday_country="US"),
    BusinessCalendar.office_hours("Europe/Berlin", holiday_country="DE"),
    BusinessCalendar.office_hours("Asia/Kolkata", time(9, 30), time(18), 6, "IN"),
    BusinessCalendar(
        "Europe/Berlin",
        (((time(9), time(12)), (time(13), time(17))),) * 5 + (NO_DAY, NO_DAY),
    ),
    BusinessCalendar("America/New_York", ((((time(22), time(6)),),) * 7)),
    BusinessCalendar("Europe/Berlin", ((((time(22), time(6)),),) * 6 + (NO_DAY,))),
    BusinessCalendar(
        "Asia/Kolkata", (((time(8), time(12)), (time(20), time(2))),) * 5 + (NO_DAY, NO_DAY)
    ),
    # Saturday night runs into Sunday; Sunday intervals meet the spring-forward gap
    # (02:15 and 02:45 do not exist on that day) and the autumn repeated hour.
    BusinessCalendar(
        "America/New_York",
        (((time(9), time(17)),),) * 5
        + (((time(23), time(1, 30)),), ((time(2, 15), time(2, 45)), (time(3), time(4)))),
    ),
    BusinessCalendar("UTC", (((time(0), time(0)),),) * 5 + (NO_DAY, NO_DAY)),
    BusinessCalendar.twenty_four_seven("Europe/Berlin"),
]

# DST changes in 2026 (UTC): US 8 Mar 07:00 and 1 Nov 06:00; EU 29 Mar and 25 Oct 01:00.
DST_CHANGES = [
    datetime(2026, 3, 8, 7, tzinfo=UTC),
    datetime(2026, 11, 1, 6, tzinfo=UTC),
    datetime(2026, 3, 29, 1, tzinfo=UTC),
    datetime(2026, 10, 25, 1, tzinfo=UTC),
    datetime(2026, 12, 31, 23, tzinfo=UTC),
]

anywhere = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
).map(lambda moment: moment.replace(microsecond=0))
near_a_change = st.builds(
    lambda change, seconds: change + timedelta(seconds=seconds),
    st.sampled_from(DST_CHANGES),
    st.integers(min_value=-4 * 86_400, max_value=4 * 86_400),
)
instants = st.one_of(anywhere, near_a_change)
durations = st.integers(min_value=0, max_value=200 * 3600).map(lambda s: timedelta(seconds=s))
calendars = st.sampled_from(CALENDARS)

PROPERTY = settings(max_examples=200, deadline=None)


@PROPERTY
@given(calendars, instants, durations, durations)
def test_add_is_monotonic_in_duration(
    calendar: BusinessCalendar, start: datetime, d1: timedelta, d2: timedelta
) -> None:
    shorter, longer = sorted((d1, d2))
    assert add_business_time(start, shorter, calendar) <= add_business_time(start, longer, calendar)


@PROPERTY
@given(calendars, instants, durations, durations)
def test_add_is_additive(
    calendar: BusinessCalendar, start: datetime, d1: timedelta, d2: timedelta
) -> None:
    in_two_steps = add_business_time(add_business_time(start, d1, calendar), d2, calendar)
    assert in_two_steps == add_business_time(start, d1 + d2, calendar)


@PROPERTY
@given(calendars, instants, durations)
def test_between_undoes_add(
    calendar: BusinessCalendar, start: datetime, duration: timedelta
) -> None:
    deadline = add_business_time(start, duration, calendar)
    assert business_time_between(start, deadline, calendar) == duration


@PROPERTY
@given(calendars, instants, instants, instants)
def test_between_is_additive_over_a_split_point(
    calendar: BusinessCalendar, x: datetime, y: datetime, z: datetime
) -> None:
    a, b, c = sorted((x, y, z))
    whole = business_time_between(a, c, calendar)
    assert whole == business_time_between(a, b, calendar) + business_time_between(b, c, calendar)
    assert timedelta(0) <= whole <= c - a


@PROPERTY
@given(calendars, instants, durations.filter(bool))
def test_a_deadline_closes_a_stretch_of_working_time(
    calendar: BusinessCalendar, start: datetime, duration: timedelta
) -> None:
    deadline = add_business_time(start, duration, calendar)
    assert deadline > start
    assert deadline.tzinfo is UTC
    assert calendar.is_working(deadline - MICROSECOND)


@PROPERTY
@given(calendars, instants)
def test_is_working_agrees_with_between(calendar: BusinessCalendar, moment: datetime) -> None:
    counted = business_time_between(moment, moment + MICROSECOND, calendar)
    assert counted == (MICROSECOND if calendar.is_working(moment) else timedelta(0))


@PROPERTY
@given(instants, durations)
def test_twenty_four_seven_is_plain_elapsed_time(start: datetime, duration: timedelta) -> None:
    always = CALENDARS[-1]
    assert add_business_time(start, duration, always) == start + duration
    assert business_time_between(start, start + duration, always) == duration
