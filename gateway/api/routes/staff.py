"""/api/staff: the clinic's staff see bookings, handoffs, screenings and conversations, see and
erase what is kept about a patient, and read the audit log.

Every route needs `Authorization: Bearer <token>` with a member of staff's own token (issued by
`python -m clinic staff add NAME`, kept only as a hash, revocable). Every read of patients'
records is written to the audit log with the member of staff's name.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Query, status

from clinic.booking.phones import InvalidPhone, normalise_phone
from clinic.booking.service import BookingService, booking_of
from clinic.handoff import list_handoffs
from clinic.privacy import (
    PatientRecords,
    audit_entries,
    erase_patient,
    patient_records,
    write_audit,
)
from clinic.profile import ClinicProfile
from clinic.screening.records import screenings_for
from clinic.store import StaffMember
from clinic.transcripts import conversation_lines
from gateway.api.models import (
    AuditOut,
    ConsentOut,
    ConsultationOut,
    ConversationKeptOut,
    ConversationOut,
    ErasureOut,
    ErrorOut,
    HandoffOut,
    LineOut,
    PatientIn,
    PatientOut,
    ScreeningOut,
)
from gateway.core.config import GatewaySettings
from gateway.core.deps import get_bookings, get_clinic, get_now, get_settings, require_staff

router = APIRouter(
    prefix="/api/staff",
    tags=["staff"],
    responses={401: {"model": ErrorOut}, 503: {"model": ErrorOut}},
)


class Audited:
    """The member of staff making this request, and a way to log what they read."""

    def __init__(
        self,
        member: StaffMember = Depends(require_staff),
        settings: GatewaySettings = Depends(get_settings),
        now: datetime = Depends(get_now),
    ) -> None:
        self.member, self.settings, self.now = member, settings, now

    @property
    def actor(self) -> str:
        """`staff:<name>`, as the audit log writes it."""
        return f"staff:{self.member.name}"

    def read(self, subject: str, **detail) -> None:
        """Write a read of patients' records to the audit log."""
        write_audit(self.settings.database_url, self.actor, "read", subject, self.now, detail)


@router.get("/consultations", response_model=list[ConsultationOut])
def staff_consultations(
    start: date | None = Query(None, alias="from", description="From this day on (default: all)"),
    booking_status: str | None = Query(None, alias="status", regex="^(confirmed|cancelled)$"),
    clinic: ClinicProfile = Depends(get_clinic),
    bookings: BookingService = Depends(get_bookings),
    audited: Audited = Depends(),
) -> list[ConsultationOut]:
    """Bookings in time order."""
    since = datetime.combine(start, time(0, 0), tzinfo=clinic.tz) if start else None
    found = bookings.list(since, booking_status)
    audited.read("consultations", references=[b.reference for b in found], since=str(start or ""))
    return [ConsultationOut.of(b, clinic, audited.now) for b in found]


@router.get("/handoffs", response_model=list[HandoffOut])
def staff_handoffs(
    handoff_status: str = Query("open", alias="status", regex="^(open|resolved|all)$"),
    audited: Audited = Depends(),
) -> list[HandoffOut]:
    """Conversations waiting for a person (urgent and emergency ones included), newest first."""
    found = list_handoffs(
        audited.settings.database_url, None if handoff_status == "all" else handoff_status
    )
    audited.read("handoffs", references=[h.reference for h in found])
    return [HandoffOut.of(h) for h in found]


@router.get("/screenings", response_model=list[ScreeningOut])
def staff_screenings(
    conversation_id: str | None = Query(None, max_length=255),
    audited: Audited = Depends(),
) -> list[ScreeningOut]:
    """Stored screenings (kept with the patient's consent), newest first."""
    found = screenings_for(audited.settings.database_url, conversation_id)
    audited.read(conversation_id or "screenings", references=[s.reference for s in found])
    return [ScreeningOut.of(s) for s in found]


@router.get("/conversations/{conversation_id}", response_model=ConversationOut)
def staff_conversation(conversation_id: str, audited: Audited = Depends()) -> ConversationOut:
    """A conversation's messages from Rasa's tracker store, oldest first."""
    lines = conversation_lines(audited.settings.tracker_database_url, conversation_id)
    audited.read(conversation_id, messages=len(lines))
    return ConversationOut(
        conversation_id=conversation_id,
        lines=[LineOut(at=line.at, speaker=line.speaker, text=line.text) for line in lines],
    )


def _phone(clinic: ClinicProfile, phone: str | None) -> str | None:
    if not phone:
        return None
    try:
        return normalise_phone(phone, clinic.default_phone_region)
    except InvalidPhone as error:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"phone: {error}") from error


def _records(
    audited: Audited, clinic: ClinicProfile, phone: str | None, conversation_id: str | None
) -> tuple[PatientRecords, list[str], str | None]:
    """A patient's records, with the conversation ids and normalised phone that found them."""
    conversation_ids = [conversation_id] if conversation_id else []
    e164 = _phone(clinic, phone)
    records = patient_records(
        audited.settings.database_url,
        audited.settings.tracker_database_url,
        conversation_ids,
        e164,
    )
    return records, conversation_ids, e164


@router.get("/patients", response_model=PatientOut, responses={400: {"model": ErrorOut}})
def staff_patient(
    phone: str | None = Query(None, max_length=40, description="The phone on their bookings"),
    conversation_id: str | None = Query(None, max_length=255),
    clinic: ClinicProfile = Depends(get_clinic),
    audited: Audited = Depends(),
) -> PatientOut:
    """Everything kept about one patient: their conversations and the bookings, screenings,
    consent answers and handoffs tied to them or to the phone on their bookings (for a
    patient's request to see their data)."""
    if not phone and not conversation_id:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "give phone or conversation_id")
    records = _records(audited, clinic, phone, conversation_id)[0]
    subjects = [*records.conversation_ids, *(b.reference for b in records.bookings)]
    for subject in subjects or ["no records found"]:
        audited.read(subject, kind="patient-records", counts=records.counts())
    return PatientOut(
        conversation_ids=records.conversation_ids,
        conversations=[
            ConversationKeptOut(
                conversation_id=c.conversation_id,
                events=c.events,
                first_at=c.first_at,
                last_at=c.last_at,
                messages_url=f"/api/staff/conversations/{quote(c.conversation_id, safe='')}",
            )
            for c in records.conversations
        ],
        consultations=[
            ConsultationOut.of(booking_of(b), clinic, audited.now) for b in records.bookings
        ],
        screenings=[ScreeningOut.of(s) for s in records.screenings],
        consents=[
            ConsentOut(
                conversation_id=c.conversation_id,
                channel=c.channel,
                purpose=c.purpose,
                given=c.given,
                wording_version=c.wording_version,
                created_at=c.created_at,
            )
            for c in records.consents
        ],
        handoffs=[HandoffOut.of(h) for h in records.handoffs],
    )


@router.post(
    "/patients/erase",
    response_model=ErasureOut,
    responses={400: {"model": ErrorOut}, 404: {"model": ErrorOut}},
)
def staff_erase_patient(
    who: PatientIn, clinic: ClinicProfile = Depends(get_clinic), audited: Audited = Depends()
) -> ErasureOut:
    """Erase everything kept about a patient (as "delete my data" does in the conversation):
    conversation events, bookings, screenings, consent answers, handoffs. The audit log keeps
    one entry that it happened, under the returned reference."""
    records, conversation_ids, phone = _records(audited, clinic, who.phone, who.conversation_id)
    if records.is_empty():
        raise HTTPException(status.HTTP_404_NOT_FOUND, "nothing is kept about that patient")
    erasure = erase_patient(
        audited.settings.database_url,
        audited.settings.tracker_database_url,
        audited.actor,
        audited.now,
        conversation_ids,
        phone,
    )
    return ErasureOut(reference=erasure.reference, counts=erasure.counts)


@router.get("/audit", response_model=list[AuditOut])
def staff_audit(
    since: datetime | None = Query(None, description="From this time on (default: all)"),
    limit: int = Query(200, ge=1, le=5000),
    audited: Audited = Depends(),
) -> list[AuditOut]:
    """The audit log, newest first: who read or erased which records, and when."""
    return [
        AuditOut(
            at=e.at,
            actor=e.actor,
            action=e.action,
            subject=e.subject,
            detail=json.loads(e.detail) if e.detail else None,
        )
        for e in audit_entries(audited.settings.database_url, since, limit)
    ]
