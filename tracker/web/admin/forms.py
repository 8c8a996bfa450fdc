"""Forms for managing users, partners and partner agreements (SLA calendars and policies)."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DecimalField,
    EmailField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from tracker.domain.accounts import LOCALES, TIER_LABELS, TIERS, timezone_choices
from tracker.domain.clock import (
    DEFAULT_CRITICAL_PERCENT,
    DEFAULT_TARGETS,
    DEFAULT_WARNING_PERCENT,
    WEEKDAY_KEYS,
)
from tracker.domain.workflow import SEVERITIES as DOMAIN_SEVERITIES
from tracker.domain.workflow import SEVERITY_RANK
from tracker.i18n import lazy_text as _l


def _optional_str(value: str | None) -> str | None:
    return None if value in (None, "", "None") else value


def _optional_int(value: str | int | None) -> int | None:
    if value in (None, "", "None"):
        return None
    return int(value)


class UserForm(FlaskForm):
    email = EmailField(
        _l("Email"),
        validators=[DataRequired(_l("Enter the person's email address.")), Length(max=254)],
    )
    name = StringField(
        _l("Full name"),
        validators=[DataRequired(_l("Enter the person's full name.")), Length(max=120)],
    )
    role = SelectField(
        _l("Role"),
        choices=[
            ("partner", _l("Partner user")),
            ("manager", _l("Alliance manager")),
            ("admin", _l("Admin (full access)")),
        ],
        default="partner",
    )
    partner_id = SelectField(_l("Partner organisation (partner users only)"), coerce=_optional_int)
    submit = SubmitField(_l("Create and invite"))


class PartnerForm(FlaskForm):
    name = StringField(
        _l("Name"), validators=[DataRequired(_l("Enter the partner's name.")), Length(max=120)]
    )
    tier = SelectField(_l("Tier"), choices=[(t, _l(TIER_LABELS[t])) for t in TIERS])
    timezone = SelectField(_l("Timezone"), choices=[])
    country = StringField(_l("Country (ISO code, e.g. DE)"), validators=[Optional(), Length(max=2)])
    owner_id = SelectField(_l("Relationship owner"), coerce=_optional_int)
    sla_policy_id = SelectField(_l("Agreement"), coerce=_optional_int)
    default_locale = SelectField(_l("Default language"), coerce=_optional_str)
    active = BooleanField(_l("Active"), default=True)
    submit = SubmitField(_l("Save partner"))

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.timezone.choices = [(z, z) for z in timezone_choices()]
        self.default_locale.choices = [(None, _l("— English —")), *LOCALES.items()]


class ConfirmForm(FlaskForm):
    """An empty form: a POST button with its CSRF token."""

    submit = SubmitField(_l("Confirm"))


# --- partner agreements ----------------------------------------------------------------------

_INTERVAL = re.compile(r"(\d{1,2}:\d{2})\s*[-–]\s*(\d{1,2}:\d{2})")


def parse_intervals(text: str | None) -> list[list[str]]:
    """'09:00-12:00, 13:00-17:00' as [["09:00", "12:00"], ["13:00", "17:00"]]; '' is closed."""
    pairs = []
    for part in re.split(r"[,;]", text or ""):
        if not part.strip():
            continue
        match = _INTERVAL.fullmatch(part.strip())
        if match is None:
            raise ValueError(
                f"{part.strip()!r} is not an interval; write start-end in 24-hour time, "
                "such as 09:00-12:00, 13:00-17:00 (leave empty when closed)."
            )
        pairs.append([match[1].zfill(5), match[2].zfill(5)])
    return pairs


def format_intervals(pairs: list[list[str]] | None) -> str:
    """The stored pairs back as the text parse_intervals reads."""
    return ", ".join(f"{start}-{end}" for start, end in pairs or [])


class IntervalsField(StringField):
    """One weekday's working hours as text; the parsed pairs are in `intervals`."""

    intervals: list[list[str]]

    def pre_validate(self, form: Any) -> None:
        try:
            self.intervals = parse_intervals(self.data)
        except ValueError as exc:
            self.intervals = []
            raise ValidationError(str(exc)) from exc


_WEEKDAY_LABELS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class CalendarForm(FlaskForm):
    name = StringField(
        _l("Name"), validators=[DataRequired(_l("Enter a name for the calendar.")), Length(max=120)]
    )
    # The service explains an unknown timezone better than "Not a valid choice".
    timezone = SelectField(_l("Timezone"), choices=[], default="UTC", validate_choice=False)
    always_open = BooleanField(_l("Open 24x7: the clock never pauses, not even on holidays"))
    mon = IntervalsField(_l("Monday"), default="09:00-17:00")
    tue = IntervalsField(_l("Tuesday"), default="09:00-17:00")
    wed = IntervalsField(_l("Wednesday"), default="09:00-17:00")
    thu = IntervalsField(_l("Thursday"), default="09:00-17:00")
    fri = IntervalsField(_l("Friday"), default="09:00-17:00")
    sat = IntervalsField(_l("Saturday"))
    sun = IntervalsField(_l("Sunday"))
    holidays = TextAreaField(_l("Holidays (one date a line, YYYY-MM-DD)"))
    holiday_country = StringField(_l("Public holidays of country (ISO code, e.g. DE)"))
    submit = SubmitField(_l("Save calendar"))

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.timezone.choices = [(z, z) for z in timezone_choices()]

    def weekdays(self) -> list[IntervalsField]:
        return [getattr(self, key) for key in WEEKDAY_KEYS]

    def load(self, calendar: Any) -> None:
        """Fill the fields from a saved calendar."""
        self.name.data = calendar.name
        self.timezone.data = calendar.timezone
        self.always_open.data = calendar.always_open
        for key in WEEKDAY_KEYS:
            getattr(self, key).data = format_intervals(calendar.weekly_hours.get(key))
        self.holidays.data = "\n".join(calendar.holidays)
        self.holiday_country.data = calendar.holiday_country or ""

    def values(self) -> dict[str, Any]:
        """Plain values for services.agreements.create_calendar / update_calendar."""
        return {
            "name": self.name.data,
            "timezone": self.timezone.data,
            "always_open": bool(self.always_open.data),
            "weekly_hours": {key: getattr(self, key).intervals for key in WEEKDAY_KEYS},
            "holidays": (self.holidays.data or "").splitlines(),
            "holiday_country": self.holiday_country.data or None,
        }


def _finite(form: Any, field: Any) -> None:
    if field.data is not None and not field.data.is_finite():
        raise ValidationError(_l("Enter a number of hours, such as 4 or 0.5."))


class HoursField(DecimalField):
    """Business hours as a decimal number (0.5 is 30 minutes), stored as whole minutes."""

    def __init__(self, label: str, default: Decimal | None = None, **kwargs: Any) -> None:
        super().__init__(
            label,
            default=default,
            places=None,
            validators=[
                InputRequired(_l("Enter a number of hours, for example 8 or 0.5.")),
                _finite,
            ],
            **kwargs,
        )

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        if self.data is None:
            return ""
        text = f"{Decimal(self.data).quantize(Decimal('0.01')):f}"
        return text.rstrip("0").rstrip(".") if "." in text else text

    @property
    def minutes(self) -> int:
        return int((self.data * 60).to_integral_value(rounding=ROUND_HALF_UP))

    def set_minutes(self, minutes: int) -> None:
        self.data = Decimal(minutes) / 60


def _target(severity: str, kind: str) -> HoursField:
    """A target in business hours, defaulting to the built-in agreement."""
    default = getattr(DEFAULT_TARGETS[severity], kind)
    label = (
        _l("%(severity)s: time to triage (business hours)", severity=SEVERITY_NAMES[severity])
        if kind == "triage"
        else _l(
            "%(severity)s: time to resolution (business hours)", severity=SEVERITY_NAMES[severity]
        )
    )
    return HoursField(label, Decimal(int(default.total_seconds())) / 3600)


SEVERITY_NAMES = {key: _l(label) for key, label in DOMAIN_SEVERITIES.items()}


SEVERITIES = tuple(SEVERITY_RANK)  # critical, high, medium, low


class PolicyForm(FlaskForm):
    name = StringField(
        _l("Name"),
        validators=[DataRequired(_l("Enter a name for the agreement.")), Length(max=120)],
    )
    tier = SelectField(
        _l("Default for partner tier"),
        choices=[("", _l("— none —"))] + [(t, _l(TIER_LABELS[t])) for t in TIERS],
    )
    calendar_id = SelectField(_l("Calendar"), coerce=_optional_int)
    critical_triage = _target("critical", "triage")
    critical_resolution = _target("critical", "resolution")
    high_triage = _target("high", "triage")
    high_resolution = _target("high", "resolution")
    medium_triage = _target("medium", "triage")
    medium_resolution = _target("medium", "resolution")
    low_triage = _target("low", "triage")
    low_resolution = _target("low", "resolution")
    warning_percent = IntegerField(
        _l("Warn at (percent of the target used)"),
        validators=[InputRequired(_l("Enter the percentage at which to warn, for example 75."))],
        default=DEFAULT_WARNING_PERCENT,
    )
    critical_percent = IntegerField(
        _l("Critical at (percent of the target used)"),
        validators=[InputRequired(_l("Enter the critical percentage, for example 150."))],
        default=DEFAULT_CRITICAL_PERCENT,
    )
    reminder_interval = IntegerField(
        _l("Remind every (minutes)"),
        validators=[
            InputRequired(_l("Enter how many minutes between reminders, for example 240."))
        ],
        default=240,
    )
    response_expectation = HoursField(_l("Partner answers within (business hours)"), Decimal(16))
    preview = SubmitField(_l("Preview"))
    submit = SubmitField(_l("Save policy"))

    def targets(self) -> list[tuple[str, HoursField, HoursField]]:
        """(severity, triage field, resolution field), most urgent first."""
        return [
            (s, getattr(self, f"{s}_triage"), getattr(self, f"{s}_resolution")) for s in SEVERITIES
        ]

    def load(self, policy: Any) -> None:
        """Fill the fields from a saved policy."""
        self.name.data = policy.name
        self.tier.data = policy.tier or ""
        self.calendar_id.data = policy.calendar_id
        for severity, triage, resolution in self.targets():
            stored = policy.targets.get(severity)
            if stored:
                triage.set_minutes(stored["triage_minutes"])
                resolution.set_minutes(stored["resolution_minutes"])
        self.warning_percent.data = policy.warning_percent
        self.critical_percent.data = policy.critical_percent
        self.reminder_interval.data = policy.reminder_minutes
        self.response_expectation.set_minutes(policy.response_expectation_minutes)

    def values(self) -> dict[str, Any]:
        """Plain values for services.agreements.create_policy / update_policy."""
        return {
            "name": self.name.data,
            "tier": self.tier.data or None,
            "calendar_id": self.calendar_id.data,
            "targets": {
                severity: {
                    "triage_minutes": triage.minutes,
                    "resolution_minutes": resolution.minutes,
                }
                for severity, triage, resolution in self.targets()
            },
            "warning_percent": self.warning_percent.data,
            "critical_percent": self.critical_percent.data,
            "reminder_minutes": self.reminder_interval.data,
            "response_expectation_minutes": self.response_expectation.minutes,
        }
