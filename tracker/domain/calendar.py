"""Business-time SLA clock: deadlines and elapsed time counted only in working hours.

A `BusinessCalendar` lists local wall-clock intervals per weekday in an IANA
timezone. Its rules:

- An interval belongs to the weekday and date it starts on. `end <= start` is
  an overnight shift ending the next day; `end == time(0)` means the following
  midnight, so `(time(0), time(0))` is a whole day. Any other `start == end`
  is rejected as zero length.
- A holiday (explicit, or a public holiday of `holiday_country`) cancels the
  intervals that start on that date. A shift that started the evening before
  still runs into the holiday.
- Business time is real elapsed time (UTC arithmetic) inside the intervals.
  A 09:00-17:00 day is 8h even on a DST day, while a 22:00-06:00 shift across
  a DST change is 7h (spring) or 9h (autumn).
- Wall-clock times are turned into instants the way zoneinfo does with
  fold=0. A time in the spring-forward gap takes the offset from before the
  change, so it lands later: New York 02:30 on a spring-forward day becomes
  07:30 UTC (03:30 EDT). An ambiguous autumn time is its first occurrence.
  If this makes an interval end before it starts, the interval is empty.
- Working time is the union of all intervals, split at local midnights
  (fold=0) into per-date buckets. The buckets are cached per (calendar, date)
  and summed per 7 days, so a deadline weeks away costs a few look-ups rather
  than a minute-by-minute walk.
- `always_open` counts every instant and ignores holidays.

All datetimes in and out are timezone-aware; results are in UTC. Naive
datetimes raise ValueError.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tracker.domain.text import N_

if TYPE_CHECKING:
    import holidays as holidays_lib

__all__ = [
    "BusinessCalendar",
    "SlaConfigError",
    "add_business_time",
    "business_time_between",
    "clear_caches",
]

_DAY = timedelta(days=1)
_WEEK = timedelta(days=7)
_ZERO = timedelta(0)
_WEEKDAY_NAMES = (
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
)

_Interval = tuple[datetime, datetime]


class SlaConfigError(ValueError):
    """A business calendar that cannot work, with a message a person can fix."""


@dataclass(frozen=True)
class BusinessCalendar:
    """When the SLA clock runs. Frozen and hashable, so it can key the caches."""

    timezone: str
    weekly_hours: tuple[tuple[tuple[time, time], ...], ...]
    holidays: frozenset[date] = frozenset()
    holiday_country: str | None = None
    always_open: bool = False

    def __post_init__(self) -> None:
        # Lists and sets would make the calendar unhashable; accept them as tuples.
        try:
            weekly = tuple(tuple(tuple(pair) for pair in day) for day in self.weekly_hours)
        except TypeError:
            weekly = self.weekly_hours  # left for validate() to explain
        object.__setattr__(self, "weekly_hours", weekly)
        with contextlib.suppress(TypeError):
            object.__setattr__(self, "holidays", frozenset(self.holidays))

    @classmethod
    def twenty_four_seven(cls, timezone: str = "UTC") -> BusinessCalendar:
        """Every instant counts: the clock never pauses, not even on holidays."""
        whole_day = ((time(0), time(0)),)
        calendar = cls(timezone, (whole_day,) * 7, always_open=True)
        calendar.validate()
        return calendar

    @classmethod
    def office_hours(
        cls,
        timezone: str,
        start: time = time(9),
        end: time = time(17),
        weekdays: int = 5,
        holiday_country: str | None = None,
        holidays: frozenset[date] = frozenset(),
    ) -> BusinessCalendar:
        """The same hours on the first `weekdays` days (Monday to Friday by default)."""
        if not 0 <= weekdays <= 7:
            raise SlaConfigError(f"weekdays must be between 0 and 7, got {weekdays}.")
        day = ((start, end),)
        weekly = (day,) * weekdays + ((),) * (7 - weekdays)
        calendar = cls(timezone, weekly, frozenset(holidays), holiday_country)
        calendar.validate()
        return calendar

    def validate(self) -> None:
        """Raise SlaConfigError if the calendar is malformed or has no working time."""
        _zone(self.timezone)
        if self.holiday_country is not None:
            _country_holidays(self.holiday_country)
        if not isinstance(self.weekly_hours, tuple) or len(self.weekly_hours) != 7:
            count = len(self.weekly_hours) if isinstance(self.weekly_hours, tuple) else "?"
            raise SlaConfigError(
                f"weekly_hours needs exactly 7 days (Monday to Sunday), got {count}."
            )
        if not all(isinstance(holiday, date) for holiday in self.holidays):
            raise SlaConfigError(N_("holidays must be dates."))
        spans = sorted(_week_spans(self.weekly_hours))
        if not spans and not self.always_open:
            raise SlaConfigError(
                N_("The calendar has no working time at all; add hours or use a 24x7 calendar.")
            )
        # The week is a cycle: Sunday night may spill into Monday morning.
        cyclic = [*spans, *((s + _WEEK, e + _WEEK, label) for s, e, label in spans[:1])]
        for (_, end, label), (next_start, _, next_label) in itertools.pairwise(cyclic):
            if end > next_start:
                raise SlaConfigError(f"{label} overlaps {next_label}.")

    def is_working(self, at: datetime) -> bool:
        """Whether the SLA clock runs at this instant (intervals are [start, end))."""
        moment = _as_utc("at", at)
        zone = _prepared(self)
        if self.always_open:
            return True
        local_date = moment.astimezone(zone).date()
        with _within_supported_dates():
            return any(
                start <= moment < end
                for offset in (-1, 0, 1)
                for start, end in _bucket(self, local_date + offset * _DAY).intervals
            )


def add_business_time(start: datetime, duration: timedelta, calendar: BusinessCalendar) -> datetime:
    """The UTC instant at which `duration` of business time has elapsed after `start`.

    Outside working hours the clock starts at the next working instant; a zero
    duration returns `start` itself. A deadline that uses up an interval exactly
    is that interval's end, not the start of the next one.
    """
    cursor = _as_utc("start", start)
    _prepared(calendar)
    if duration < _ZERO:
        raise ValueError(f"duration must not be negative, got {duration}.")
    if duration == _ZERO:
        return cursor
    if calendar.always_open:
        return cursor + duration
    remaining = duration
    may_skip = True
    with _within_supported_dates():
        day = _first_bucket_date(calendar, cursor)
        while True:
            bucket = _bucket(calendar, day)
            if may_skip and cursor <= bucket.start:
                week_total = _week(calendar, day)[0]
                if week_total < remaining:
                    remaining -= week_total
                    day += _WEEK
                    continue
                may_skip = False  # the deadline lies within these 7 days
            for interval_start, interval_end in bucket.intervals:
                if interval_end <= cursor:
                    continue
                begin = max(interval_start, cursor)
                available = interval_end - begin
                if remaining <= available:
                    return begin + remaining
                remaining -= available
            day += _DAY


def business_time_between(a: datetime, b: datetime, calendar: BusinessCalendar) -> timedelta:
    """Business time inside [a, b); zero when b <= a."""
    start = _as_utc("a", a)
    stop = _as_utc("b", b)
    _prepared(calendar)
    if stop <= start:
        return _ZERO
    if calendar.always_open:
        return stop - start
    total = _ZERO
    may_skip = True
    with _within_supported_dates():
        day = _first_bucket_date(calendar, start)
        while True:
            bucket = _bucket(calendar, day)
            if bucket.start >= stop:
                return total
            if may_skip and start <= bucket.start:
                week_total, week_end = _week(calendar, day)
                if week_end <= stop:
                    total += week_total
                    day += _WEEK
                    continue
                may_skip = False  # later weeks end later still
            for interval_start, interval_end in bucket.intervals:
                if interval_start >= stop:
                    break
                overlap = min(interval_end, stop) - max(interval_start, start)
                if overlap > _ZERO:
                    total += overlap
            day += _DAY


def clear_caches() -> None:
    """Forget cached zones, holidays and day buckets (for benchmarks and tests)."""
    for cached in (
        _zone,
        _country_holidays,
        _country_holiday_dates,
        _raw_day,
        _bucket,
        _week,
        _prepared,
    ):
        cached.cache_clear()


# --- internals -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Bucket:
    """Working intervals between two local midnights, as sorted disjoint UTC pairs."""

    start: datetime
    end: datetime
    intervals: tuple[_Interval, ...]
    total: timedelta


def _week_spans(
    weekly_hours: tuple[tuple[tuple[time, time], ...], ...],
) -> Iterator[tuple[timedelta, timedelta, str]]:
    """Each interval as (start, end) offsets from Monday 00:00, with a label."""
    for weekday, (name, day) in enumerate(zip(_WEEKDAY_NAMES, weekly_hours, strict=True)):
        if not isinstance(day, tuple):
            raise SlaConfigError(f"{name}: expected a tuple of (start, end) pairs.")
        for pair in day:
            if (
                not isinstance(pair, tuple)
                or len(pair) != 2
                or not all(isinstance(wall, time) for wall in pair)
                or any(wall.tzinfo is not None for wall in pair)
            ):
                raise SlaConfigError(
                    f"{name}: each interval must be a (start, end) pair of naive "
                    f"datetime.time values, got {pair!r}."
                )
            start, end = (_since_midnight(wall) for wall in pair)
            label = f"{name} {pair[0]:%H:%M}-{pair[1]:%H:%M}"
            if start == end and start:
                raise SlaConfigError(f"{label} has zero length; use 00:00-00:00 for a whole day.")
            if end <= start:
                end += _DAY  # overnight: ends the next day
            offset = weekday * _DAY
            yield offset + start, offset + end, label


def _since_midnight(wall: time) -> timedelta:
    return timedelta(
        hours=wall.hour,
        minutes=wall.minute,
        seconds=wall.second,
        microseconds=wall.microsecond,
    )


def _as_utc(name: str, moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {moment!r}.")
    return moment.astimezone(UTC)


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise SlaConfigError(
            f"Unknown timezone {name!r}; use an IANA name such as 'Europe/Berlin'."
        ) from None


_package_lock = threading.Lock()


def _holidays_package():  # type: ignore[no-untyped-def]
    """The holidays package, loaded on the first calendar that names a country (not at
    start-up), with only the countries asked for: `holidays.countries/__init__` imports all
    ~250 country modules (about 8 MiB a process) when only one is used. Its package is
    registered bare, so that `country_holidays()`, which imports `holidays.countries.<name>`
    by name, loads just that module."""
    import importlib.util
    import sys
    from pathlib import Path

    import holidays

    with _package_lock:
        if "holidays.countries" not in sys.modules:
            folder = Path(holidays.__file__).parent / "countries"
            spec = importlib.util.spec_from_file_location(
                "holidays.countries",
                folder / "__init__.py",
                submodule_search_locations=[str(folder)],
            )
            if spec is not None:
                package = importlib.util.module_from_spec(spec)
                sys.modules["holidays.countries"] = package
                holidays.countries = package  # type: ignore[attr-defined]
    return holidays


@lru_cache(maxsize=64)
def _country_holidays(country: str) -> holidays_lib.HolidayBase:
    # Built once per country; it fills in years lazily, so reads go through a lock.
    holidays_lib = _holidays_package()
    try:
        return holidays_lib.country_holidays(country.upper())
    except (NotImplementedError, KeyError, AttributeError):
        raise SlaConfigError(
            f"Unknown holiday country {country!r}; use an ISO 3166 code such as 'DE' or 'US'."
        ) from None


_holiday_lock = threading.Lock()


@lru_cache(maxsize=1024)
def _country_holiday_dates(country: str, year: int) -> frozenset[date]:
    calendar = _country_holidays(country)
    with _holiday_lock:
        _ = date(year, 1, 1) in calendar  # membership fills in the whole year
        return frozenset(day for day in calendar if day.year == year)


@lru_cache(maxsize=256)
def _prepared(calendar: BusinessCalendar) -> ZoneInfo:
    """Validate a calendar once; later calls reuse the verdict."""
    calendar.validate()
    return _zone(calendar.timezone)


def _is_holiday(calendar: BusinessCalendar, day: date) -> bool:
    if day in calendar.holidays:
        return True
    country = calendar.holiday_country
    return country is not None and day in _country_holiday_dates(country, day.year)


def _local_instant(day: date, wall: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, wall, tzinfo=zone).astimezone(UTC)


@lru_cache(maxsize=16384)
def _raw_day(calendar: BusinessCalendar, day: date) -> tuple[_Interval, ...]:
    """The UTC intervals that start on local `day`, before merging and splitting."""
    if _is_holiday(calendar, day):
        return ()
    zone = _prepared(calendar)
    intervals = []
    for start, end in calendar.weekly_hours[day.weekday()]:
        end_day = day if end > start else day + _DAY
        intervals.append((_local_instant(day, start, zone), _local_instant(end_day, end, zone)))
    return tuple(intervals)


@lru_cache(maxsize=16384)
def _bucket(calendar: BusinessCalendar, day: date) -> _Bucket:
    """Working time between local midnight of `day` and the next one.

    Neighbouring days are merged in: overnight shifts spill forward, a shift
    ending in a late-evening DST gap lands after the next midnight (America/Nuuk),
    and where midnight itself is skipped a start after the gap lands before it
    (America/Toronto, 31 March 1919).
    """
    zone = _prepared(calendar)
    bucket_start = _local_instant(day, time(0), zone)
    bucket_end = _local_instant(day + _DAY, time(0), zone)
    candidates = sorted(
        interval
        for offset in (-2, -1, 0, 1)
        for interval in _raw_day(calendar, day + offset * _DAY)
    )
    merged: list[list[datetime]] = []
    for start, end in candidates:
        start, end = max(start, bucket_start), min(end, bucket_end)
        if end <= start:  # outside this bucket, or swallowed by a DST gap
            continue
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    intervals = tuple((start, end) for start, end in merged)
    total = sum((end - start for start, end in intervals), _ZERO)
    return _Bucket(bucket_start, bucket_end, intervals, total)


@lru_cache(maxsize=16384)
def _week(calendar: BusinessCalendar, day: date) -> tuple[timedelta, datetime]:
    """Business time in the 7 buckets from `day`, and the instant they end."""
    buckets = [_bucket(calendar, day + offset * _DAY) for offset in range(7)]
    return sum((bucket.total for bucket in buckets), _ZERO), buckets[-1].end


def _first_bucket_date(calendar: BusinessCalendar, moment: datetime) -> date:
    # One bucket early: where midnight falls in a DST gap, the previous bucket
    # may still hold `moment`.
    return moment.astimezone(_prepared(calendar)).date() - _DAY


@contextlib.contextmanager
def _within_supported_dates() -> Iterator[None]:
    try:
        yield
    except OverflowError:
        raise ValueError(
            N_("The SLA clock only works between the years 1 and 9999 (with a few days' margin).")
        ) from None


def working_day_length(calendar: BusinessCalendar) -> timedelta:
    """The usual length of one working day, so partners can read targets in days.

    The most common non-empty daily total of the week (a 09:00-17:00 Monday to Friday
    is 8h; a shorter Saturday does not change it); 24h when always open.
    """
    if calendar.always_open:
        return _DAY
    totals: dict[timedelta, int] = {}
    for weekday in range(7):
        total = timedelta(0)
        for pair in calendar.weekly_hours[weekday]:
            start, end = (_since_midnight(wall) for wall in pair)
            total += end - start if end > start else end + _DAY - start
        if total:
            totals[total] = totals.get(total, 0) + 1
    if not totals:
        return _DAY
    return max(totals, key=lambda length: (totals[length], length))
