"""GET /api/slots: free appointment times."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from fastapi import APIRouter, Depends, HTTPException, Query, status

from clinic.booking.service import BookingService
from clinic.profile import ClinicProfile
from gateway.api.models import ErrorOut, SlotOut, SlotsOut
from gateway.core.deps import get_bookings, get_clinic, get_now

router = APIRouter(prefix="/api", tags=["booking"])


@router.get("/slots", response_model=SlotsOut, responses={400: {"model": ErrorOut}})
def list_slots(
    consultation_type: str = Query(
        "consultation", alias="type", description="A consultation type id"
    ),
    start: date | None = Query(None, alias="from", description="First day (default: today)"),
    end: date | None = Query(None, alias="to", description="Last day (default: 14 days on)"),
    limit: int = Query(10, ge=1, le=100),
    clinic: ClinicProfile = Depends(get_clinic),
    bookings: BookingService = Depends(get_bookings),
    now: datetime = Depends(get_now),
) -> SlotsOut:
    """Free slots of one consultation type between two days, earliest first."""
    try:
        clinic.consultation_type(consultation_type)
    except KeyError:
        known = ", ".join(c.id for c in clinic.consultation_types)
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST, f"unknown type; use one of: {known}"
        ) from None
    first = start or now.astimezone(clinic.tz).date()
    last = end or first + timedelta(days=14)
    if last < first:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "`to` is before `from`")
    found = bookings.free_slots(
        consultation_type,
        datetime.combine(first, time(0, 0), tzinfo=clinic.tz),
        datetime.combine(last, time(23, 59), tzinfo=clinic.tz),
        now,
        limit=limit,
    )
    return SlotsOut(time_zone=clinic.time_zone, slots=[SlotOut.of(s, clinic, now) for s in found])
