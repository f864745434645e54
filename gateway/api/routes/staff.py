"""/api/staff: the clinic's staff see bookings, handoffs, screenings and conversations.

Every route needs `Authorization: Bearer <STAFF_API_TOKEN>`.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query

from clinic.booking.service import BookingService
from clinic.handoff import list_handoffs
from clinic.profile import ClinicProfile
from clinic.screening.records import screenings_for
from clinic.transcripts import conversation_lines
from gateway.api.models import (
    ConsultationOut,
    ConversationOut,
    ErrorOut,
    HandoffOut,
    LineOut,
    ScreeningOut,
)
from gateway.core.config import GatewaySettings
from gateway.core.deps import get_bookings, get_clinic, get_now, get_settings, require_staff

router = APIRouter(
    prefix="/api/staff",
    tags=["staff"],
    dependencies=[Depends(require_staff)],
    responses={401: {"model": ErrorOut}, 503: {"model": ErrorOut}},
)


@router.get("/consultations", response_model=list[ConsultationOut])
def staff_consultations(
    start: date | None = Query(None, alias="from", description="From this day on (default: all)"),
    booking_status: str | None = Query(None, alias="status", regex="^(confirmed|cancelled)$"),
    clinic: ClinicProfile = Depends(get_clinic),
    bookings: BookingService = Depends(get_bookings),
    now: datetime = Depends(get_now),
) -> list[ConsultationOut]:
    """Bookings in time order."""
    since = datetime.combine(start, time(0, 0), tzinfo=clinic.tz) if start else None
    return [ConsultationOut.of(b, clinic, now) for b in bookings.list(since, booking_status)]


@router.get("/handoffs", response_model=list[HandoffOut])
def staff_handoffs(
    handoff_status: str = Query("open", alias="status", regex="^(open|resolved|all)$"),
    settings: GatewaySettings = Depends(get_settings),
) -> list[HandoffOut]:
    """Conversations waiting for a person (urgent and emergency ones included), newest first."""
    found = list_handoffs(
        settings.database_url, None if handoff_status == "all" else handoff_status
    )
    return [
        HandoffOut(
            reference=h.reference,
            conversation_id=h.conversation_id,
            channel=h.channel,
            reason=h.reason,
            detail=h.detail,
            status=h.status,
            created_at=h.created_at,
            reply_by=h.reply_by,
            conversation_url=f"/api/staff/conversations/{quote(h.conversation_id, safe='')}",
        )
        for h in found
    ]


@router.get("/screenings", response_model=list[ScreeningOut])
def staff_screenings(
    conversation_id: str | None = Query(None),
    settings: GatewaySettings = Depends(get_settings),
) -> list[ScreeningOut]:
    """Stored screenings (kept with the patient's consent), newest first."""
    return [
        ScreeningOut(
            reference=s.reference,
            conversation_id=s.conversation_id,
            channel=s.channel,
            outcome=s.outcome,
            reasons=json.loads(s.reasons),
            answers=json.loads(s.answers),
            rules_version=s.rules_version,
            booking_reference=s.booking_reference,
            created_at=s.created_at,
        )
        for s in screenings_for(settings.database_url, conversation_id)
    ]


@router.get("/conversations/{conversation_id}", response_model=ConversationOut)
def staff_conversation(
    conversation_id: str, settings: GatewaySettings = Depends(get_settings)
) -> ConversationOut:
    """A conversation's messages from Rasa's tracker store, oldest first."""
    lines = conversation_lines(settings.tracker_database_url, conversation_id)
    return ConversationOut(
        conversation_id=conversation_id,
        lines=[LineOut(at=line.at, speaker=line.speaker, text=line.text) for line in lines],
    )
