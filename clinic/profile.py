"""The clinic file (`clinic.yml`): who the clinic is, when it is open, what it offers.

Loading validates the whole file and reports every problem with its place in the file, so a
clinic that edits it gets a clear message instead of an assistant that misbehaves later.
"""

from __future__ import annotations

import functools
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, Field, ValidationError, root_validator, validator

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class ClinicFileError(ValueError):
    """The clinic file is missing or does not describe a clinic correctly."""


class _Model(BaseModel):
    class Config:
        extra = "forbid"
        allow_mutation = False


class Address(_Model):
    lines: list[str] = Field(..., min_items=1)
    country: str = Field(..., min_length=2, max_length=2)
    directions: str = ""


class Colours(_Model):
    primary: str = Field("#2f5d62", regex=r"^#[0-9a-fA-F]{6}$")
    accent: str = Field("#e8b4a0", regex=r"^#[0-9a-fA-F]{6}$")


class Phones(_Model):
    front_desk: str
    after_hours: str
    emergency: str
    urgent_advice: str | None = None
    crisis_line: str | None = None


class OpeningInterval(_Model):
    start: time
    end: time


class Closure(_Model):
    date: date
    reason: str = "closed"


class ConsultationType(_Model):
    id: str = Field(..., regex=r"^[a-z0-9_]+$")
    name: str
    minutes: int = Field(..., gt=0, le=480)
    description: str = ""

    @validator("minutes")
    def _on_the_block_grid(cls, value: int) -> int:  # noqa: N805
        if value % 15:
            raise ValueError("must be a multiple of 15 minutes")
        return value


class Practitioner(_Model):
    id: str = Field(..., regex=r"^[a-z0-9_]+$")
    name: str
    role: str
    sees: list[str] | None = None

    def sees_type(self, consultation_type: str) -> bool:
        """Whether this practitioner takes this kind of appointment."""
        return self.sees is None or consultation_type in self.sees


class BookingPolicy(_Model):
    slot_step_minutes: int = Field(30, gt=0, le=240)
    minimum_notice_minutes: int = Field(120, ge=0)
    horizon_days: int = Field(60, gt=0, le=365)
    before_your_visit: list[str] = []

    @validator("slot_step_minutes")
    def _on_the_block_grid(cls, value: int) -> int:  # noqa: N805
        if value % 15:
            raise ValueError("must be a multiple of 15 minutes")
        return value


class PriceItem(_Model):
    name: str
    price: Decimal | None = Field(None, ge=0)
    from_price: Decimal | None = Field(None, ge=0, alias="from")
    note: str = ""

    @root_validator(skip_on_failure=True)
    def _one_price(cls, values):  # noqa: N805 - pydantic validators take the class
        if (values.get("price") is None) == (values.get("from_price") is None):
            raise ValueError("give exactly one of `price` or `from`")
        return values


class PriceList(_Model):
    currency: str = Field(..., min_length=3, max_length=3)
    items: list[PriceItem] = []
    note: str = ""


class HandoffPolicy(_Model):
    reply_within_minutes: int = Field(60, gt=0)


class DataProtection(_Model):
    """How long patients' data is kept, and who answers questions about it."""

    # Conversations, consent answers, screening answers and handoffs older than this are
    # deleted by `make purge`; bookings this long past are cut down to what the clinic needs.
    retention_days: int = Field(365, gt=0, le=3650)
    # Who patients and staff write to about their data (the clinic's privacy officer).
    contact: str = ""

    def retention_text(self) -> str:
        """'12 months', '90 days', '2 years': the retention period in words."""
        days = self.retention_days
        if days % 365 == 0:
            years = days // 365
            return "1 year" if years == 1 else f"{years} years"
        if days % 30 == 0:
            months = round(days / 30.4)
            return "1 month" if months == 1 else f"{months} months"
        return "1 day" if days == 1 else f"{days} days"


class ClinicProfile(_Model):
    """Everything the assistant knows about one clinic."""

    version: int
    name: str
    assistant_name: str
    website: str = ""
    email: str = ""
    colours: Colours = Colours()
    address: Address
    time_zone: str
    default_phone_region: str = Field(..., min_length=2, max_length=2)
    languages: list[str] = ["en"]
    phones: Phones
    opening_hours: dict[str, list[OpeningInterval]]
    closures: list[Closure] = []
    consultation_types: list[ConsultationType] = Field(..., min_items=1)
    practitioners: list[Practitioner] = []
    prices: PriceList
    handoff: HandoffPolicy = HandoffPolicy()
    booking: BookingPolicy = BookingPolicy()
    data_protection: DataProtection = DataProtection()

    @root_validator(skip_on_failure=True)
    def _practitioners_see_known_types(cls, values):  # noqa: N805
        known = {c.id for c in values["consultation_types"]}
        for practitioner in values.get("practitioners") or []:
            unknown = set(practitioner.sees or ()) - known
            if unknown:
                raise ValueError(f"practitioner {practitioner.id} sees unknown {sorted(unknown)}")
        return values

    def consultation_type(self, type_id: str) -> ConsultationType:
        """The consultation type with this id (KeyError if the clinic has none)."""
        for consultation in self.consultation_types:
            if consultation.id == type_id:
                return consultation
        raise KeyError(type_id)

    def practitioner(self, practitioner_id: str) -> Practitioner:
        """The practitioner with this id (KeyError if unknown)."""
        for practitioner in self.practitioners:
            if practitioner.id == practitioner_id:
                return practitioner
        raise KeyError(practitioner_id)

    @validator("time_zone")
    def _known_time_zone(cls, value: str) -> str:  # noqa: N805
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {value!r} (use an IANA name)") from error
        return value

    @validator("opening_hours", pre=True)
    def _parse_opening_hours(cls, value):  # noqa: N805
        if not isinstance(value, dict):
            raise ValueError("expected a mapping of weekday to a list of 'HH:MM-HH:MM'")
        unknown = set(value) - set(WEEKDAYS)
        if unknown:
            raise ValueError(f"unknown weekday(s): {', '.join(sorted(unknown))}")
        return {day: [_parse_interval(text) for text in value.get(day) or []] for day in WEEKDAYS}

    @validator("opening_hours")
    def _intervals_in_order(cls, value):  # noqa: N805
        for day, intervals in value.items():
            for earlier, later in zip(intervals, intervals[1:], strict=False):
                if later.start < earlier.end:
                    raise ValueError(f"{day}: opening times overlap or are out of order")
        return value

    @property
    def tz(self) -> ZoneInfo:
        """The clinic's time zone."""
        return ZoneInfo(self.time_zone)

    def closure_on(self, day: date) -> Closure | None:
        """The closure that covers `day`, if the clinic is closed that day for a holiday."""
        return next((closure for closure in self.closures if closure.date == day), None)

    def opening_intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        """The clinic's open periods on a local calendar day, as aware datetimes."""
        if self.closure_on(day):
            return []
        intervals = self.opening_hours[WEEKDAYS[day.weekday()]]
        return [
            (
                datetime.combine(day, interval.start, tzinfo=self.tz),
                datetime.combine(day, interval.end, tzinfo=self.tz),
            )
            for interval in intervals
        ]

    def is_open(self, at: datetime) -> bool:
        """Whether the front desk is open at the aware datetime `at`."""
        local = at.astimezone(self.tz)
        return any(start <= local < end for start, end in self.opening_intervals(local.date()))

    def next_opening(self, after: datetime, horizon_days: int = 60) -> datetime | None:
        """The next opening strictly after `after`, or None if none within the horizon."""
        local = after.astimezone(self.tz)
        for offset in range(horizon_days + 1):
            for start, _ in self.opening_intervals(local.date() + timedelta(days=offset)):
                if start > local:
                    return start
        return None

    def closes_at(self, at: datetime) -> datetime | None:
        """When the current open period ends, if the clinic is open at `at`."""
        local = at.astimezone(self.tz)
        for start, end in self.opening_intervals(local.date()):
            if start <= local < end:
                return end
        return None


def _parse_interval(text: str) -> OpeningInterval:
    try:
        start_text, end_text = (part.strip() for part in str(text).split("-"))
        start, end = time.fromisoformat(start_text), time.fromisoformat(end_text)
    except ValueError as error:
        raise ValueError(f"{text!r} is not an interval like '09:00-18:00'") from error
    if end <= start:
        raise ValueError(f"{text!r} ends before it starts")
    return OpeningInterval(start=start, end=end)


def load_clinic(path: Path | str) -> ClinicProfile:
    """Read and validate a clinic file; raise ClinicFileError naming every problem."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise ClinicFileError(f"clinic file not found: {path}") from error
    except yaml.YAMLError as error:
        raise ClinicFileError(f"{path} is not valid YAML: {error}") from error
    if not isinstance(raw, dict):
        raise ClinicFileError(f"{path} must hold a mapping of settings")
    try:
        return ClinicProfile.parse_obj(raw)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in item['loc'])}: {item['msg']}"
            for item in error.errors()
        )
        raise ClinicFileError(f"{path}: {problems}") from error


@functools.lru_cache(maxsize=8)
def _cached(path: str, mtime_ns: int) -> ClinicProfile:
    return load_clinic(path)


def current_clinic(path: Path | str) -> ClinicProfile:
    """The clinic file at `path`, re-read only when the file changes on disk."""
    path = Path(path)
    try:
        mtime_ns = path.stat().st_mtime_ns
    except FileNotFoundError as error:
        raise ClinicFileError(f"clinic file not found: {path}") from error
    return _cached(str(path), mtime_ns)
