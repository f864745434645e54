"""The clinic API's request and response models: the OpenAPI contract at /docs."""

from __future__ import annotations

import json
from datetime import datetime
from urllib.parse import quote

from pydantic import BaseModel, Field, validator

from clinic.booking.model import Booking, Slot
from clinic.facts import when_text
from clinic.profile import ClinicProfile
from clinic.store import Handoff, ScreeningRecord


class ErrorOut(BaseModel):
    """What went wrong, in words a person can act on."""

    detail: str


class PractitionerOut(BaseModel):
    """Who the appointment is with."""

    id: str
    name: str


class SlotOut(BaseModel):
    """A free appointment time."""

    id: str = Field(..., description="Pass this as `slot_id` to book or move")
    consultation_type: str
    practitioner: PractitionerOut
    start: datetime = Field(..., description="In the clinic's time zone")
    end: datetime
    label: str = Field(..., example="Tuesday 24 November at 2pm")

    @classmethod
    def of(cls, slot: Slot, clinic: ClinicProfile, now: datetime) -> SlotOut:
        """A slot as the API shows it, in the clinic's time zone."""
        practitioner = clinic.practitioner(slot.practitioner_id)
        return cls(
            id=slot.id,
            consultation_type=slot.consultation_type,
            practitioner=PractitionerOut(id=practitioner.id, name=practitioner.name),
            start=slot.start.astimezone(clinic.tz),
            end=slot.end.astimezone(clinic.tz),
            label=slot_label(slot, clinic, now),
        )


def slot_label(slot: Slot, clinic: ClinicProfile, now: datetime) -> str:
    """'Tuesday 24 November at 2pm' (or 'tomorrow at 2pm')."""
    return when_text(clinic, slot.start, now, always_date=True)


class SlotsOut(BaseModel):
    """Free times, earliest (or nearest) first."""

    time_zone: str
    slots: list[SlotOut]


class ConsultationIn(BaseModel):
    """A booking request: one of the slot ids from GET /api/slots, and who for."""

    slot_id: str = Field(..., max_length=80)
    name: str = Field(..., min_length=2, max_length=120)
    phone: str = Field(..., max_length=40, description="Any format; normalised to E.164")
    concern: str | None = Field(None, max_length=500)
    screening_reference: str | None = Field(None, max_length=16)

    @validator("name")
    def _plausible_name(cls, value: str) -> str:  # noqa: N805
        value = " ".join(value.split())
        if not any(ch.isalpha() for ch in value) or any(ch.isdigit() for ch in value):
            raise ValueError("a name has letters and no digits")
        return value


class PhoneIn(BaseModel):
    """The phone number on the booking, as proof that it is the patient's."""

    phone: str = Field(..., max_length=40)


class MoveIn(PhoneIn):
    """Move a booking to another free slot."""

    slot_id: str = Field(..., max_length=80)


class ConsultationOut(BaseModel):
    """A booking."""

    reference: str
    status: str
    consultation_type: str
    practitioner: PractitionerOut
    start: datetime
    end: datetime
    label: str
    patient_name: str
    phone: str
    concern: str | None
    screening_reference: str | None
    channel: str
    created_at: datetime

    @classmethod
    def of(cls, booking: Booking, clinic: ClinicProfile, now: datetime) -> ConsultationOut:
        """A booking as the API shows it, in the clinic's time zone."""
        practitioner = clinic.practitioner(booking.slot.practitioner_id)
        return cls(
            reference=booking.reference,
            status=booking.status,
            consultation_type=booking.slot.consultation_type,
            practitioner=PractitionerOut(id=practitioner.id, name=practitioner.name),
            start=booking.slot.start.astimezone(clinic.tz),
            end=booking.slot.end.astimezone(clinic.tz),
            label=slot_label(booking.slot, clinic, now),
            patient_name=booking.patient_name,
            phone=booking.phone,
            concern=booking.concern,
            screening_reference=booking.screening_reference,
            channel=booking.channel,
            created_at=booking.created_at,
        )


class HandoffOut(BaseModel):
    """A conversation waiting for a member of staff."""

    reference: str
    conversation_id: str
    channel: str
    reason: str
    detail: str | None
    status: str
    created_at: datetime
    reply_by: datetime | None
    conversation_url: str = Field(..., description="The conversation, for staff")

    @classmethod
    def of(cls, handoff: Handoff) -> HandoffOut:
        """A stored handoff with the link to its conversation."""
        return cls(
            reference=handoff.reference,
            conversation_id=handoff.conversation_id,
            channel=handoff.channel,
            reason=handoff.reason,
            detail=handoff.detail,
            status=handoff.status,
            created_at=handoff.created_at,
            reply_by=handoff.reply_by,
            conversation_url=f"/api/staff/conversations/{quote(handoff.conversation_id, safe='')}",
        )


class ScreeningOut(BaseModel):
    """A stored contraindication screening."""

    reference: str
    conversation_id: str
    channel: str
    outcome: str
    reasons: list[str]
    answers: dict[str, bool]
    rules_version: int
    booking_reference: str | None
    created_at: datetime

    @classmethod
    def of(cls, screening: ScreeningRecord) -> ScreeningOut:
        """A stored screening with its answers."""
        return cls(
            reference=screening.reference,
            conversation_id=screening.conversation_id,
            channel=screening.channel,
            outcome=screening.outcome,
            reasons=json.loads(screening.reasons),
            answers=json.loads(screening.answers),
            rules_version=screening.rules_version,
            booking_reference=screening.booking_reference,
            created_at=screening.created_at,
        )


class ConsentOut(BaseModel):
    """A patient's answer to keeping their health details."""

    conversation_id: str
    channel: str
    purpose: str
    given: bool
    wording_version: int
    created_at: datetime


class ConversationKeptOut(BaseModel):
    """How much of a conversation the tracker store holds."""

    conversation_id: str
    events: int
    first_at: datetime
    last_at: datetime
    messages_url: str


class PatientOut(BaseModel):
    """Everything kept about one patient (their conversations and the phone on their bookings)."""

    conversation_ids: list[str]
    conversations: list[ConversationKeptOut]
    consultations: list[ConsultationOut]
    screenings: list[ScreeningOut]
    consents: list[ConsentOut]
    handoffs: list[HandoffOut]


class PatientIn(BaseModel):
    """Who to erase: a phone number on their bookings, a conversation id, or both."""

    phone: str | None = Field(None, max_length=40, description="Any format; normalised to E.164")
    conversation_id: str | None = Field(None, max_length=255)

    @validator("conversation_id", always=True)
    def _someone(cls, value, values):  # noqa: N805
        if not value and not values.get("phone"):
            raise ValueError("give a phone number or a conversation id")
        return value


class ErasureOut(BaseModel):
    """A finished deletion."""

    reference: str = Field(..., description="The audit log's reference for this deletion")
    counts: dict[str, int]


class AuditOut(BaseModel):
    """One entry of the audit log."""

    at: datetime
    actor: str
    action: str
    subject: str
    detail: dict | None


class LineOut(BaseModel):
    """One message of a conversation."""

    at: datetime
    speaker: str
    text: str


class ConversationOut(BaseModel):
    """A conversation's messages, oldest first."""

    conversation_id: str
    lines: list[LineOut]


class HealthOut(BaseModel):
    """Whether the gateway and what it depends on are working."""

    status: str
    database: str
    rasa: str
