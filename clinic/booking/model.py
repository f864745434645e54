"""What a booking is, and the ways a booking request can fail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

BLOCK = timedelta(minutes=15)  # appointments claim the calendar in 15-minute blocks


class BookingError(Exception):
    """A booking request that cannot be carried out; the message is safe to show."""


class SlotUnavailable(BookingError):
    """The time is not bookable: past, too soon, closed, unknown, or not offered."""


class SlotTaken(BookingError):
    """Somebody else has just booked that time."""


class BookingNotFound(BookingError):
    """No booking with that reference and phone number."""


class IdempotencyConflict(BookingError):
    """The idempotency key was already used for a different booking request."""


@dataclass(frozen=True)
class Slot:
    """A bookable appointment: a consultation type with one practitioner at one time (UTC)."""

    consultation_type: str
    practitioner_id: str
    start: datetime
    end: datetime

    @property
    def id(self) -> str:
        """A stable id for the slot, e.g. `consultation.ahassan.20261124T1400Z`."""
        stamp = self.start.astimezone(timezone.utc).strftime("%Y%m%dT%H%MZ")
        return f"{self.consultation_type}.{self.practitioner_id}.{stamp}"

    def blocks(self) -> list[datetime]:
        """The 15-minute blocks of the practitioner's calendar this appointment occupies."""
        count = int((self.end - self.start) / BLOCK)
        start = self.start.astimezone(timezone.utc)
        return [start + index * BLOCK for index in range(count)]


@dataclass(frozen=True)
class SlotId:
    """A slot id taken apart (its end depends on the clinic's consultation lengths)."""

    consultation_type: str
    practitioner_id: str
    start: datetime

    @classmethod
    def parse(cls, text: str) -> SlotId:
        """Read a slot id; SlotUnavailable if it is not one."""
        try:
            consultation_type, practitioner_id, stamp = text.strip().split(".")
            start = datetime.strptime(stamp, "%Y%m%dT%H%MZ").replace(tzinfo=timezone.utc)
        except ValueError as error:
            raise SlotUnavailable(f"{text!r} is not a slot id") from error
        return cls(consultation_type, practitioner_id, start)


@dataclass(frozen=True)
class BookingRequest:
    """Everything needed to book: the slot, who for, and where the request came from."""

    slot_id: str
    patient_name: str
    phone: str  # E.164
    concern: str | None = None
    channel: str = "api"
    conversation_id: str | None = None
    screening_reference: str | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True)
class Booking:
    """A consultation on the clinic's calendar."""

    reference: str
    slot: Slot
    patient_name: str
    phone: str
    status: str
    concern: str | None
    channel: str
    conversation_id: str | None
    screening_reference: str | None
    created_at: datetime

    @property
    def is_active(self) -> bool:
        """Whether it still stands (not cancelled)."""
        return self.status == "confirmed"
