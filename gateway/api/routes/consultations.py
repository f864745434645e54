"""/api/consultations: book, read, move and cancel, with the patient's phone number as proof."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Header, HTTPException, status

from clinic.booking.model import (
    BookingNotFound,
    BookingRequest,
    IdempotencyConflict,
    SlotTaken,
    SlotUnavailable,
)
from clinic.booking.phones import InvalidPhone, normalise_phone
from clinic.booking.service import BookingService
from clinic.profile import ClinicProfile
from gateway.api.models import ConsultationIn, ConsultationOut, ErrorOut, MoveIn, PhoneIn
from gateway.core.deps import get_bookings, get_clinic, get_now

router = APIRouter(prefix="/api/consultations", tags=["booking"])

ERRORS = {
    400: {"model": ErrorOut, "description": "Invalid phone number or a time that cannot be booked"},
    404: {"model": ErrorOut, "description": "No booking with that reference and phone number"},
    409: {"model": ErrorOut, "description": "The slot was just taken, or the key was reused"},
}


def _phone(raw: str, clinic: ClinicProfile) -> str:
    try:
        return normalise_phone(raw, clinic.default_phone_region)
    except InvalidPhone as error:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"phone: {error}") from None


def _fail(error: Exception) -> HTTPException:
    code = {
        SlotUnavailable: status.HTTP_400_BAD_REQUEST,
        BookingNotFound: status.HTTP_404_NOT_FOUND,
        SlotTaken: status.HTTP_409_CONFLICT,
        IdempotencyConflict: status.HTTP_409_CONFLICT,
    }[type(error)]
    return HTTPException(code, str(error))


@router.post(
    "", status_code=status.HTTP_201_CREATED, response_model=ConsultationOut, responses=ERRORS
)
def book_consultation(
    body: ConsultationIn,
    idempotency_key: str | None = Header(
        None, max_length=128, description="Send the same key when retrying: it books once"
    ),
    clinic: ClinicProfile = Depends(get_clinic),
    bookings: BookingService = Depends(get_bookings),
    now: datetime = Depends(get_now),
) -> ConsultationOut:
    """Book a free slot. Exactly one of any number of requests for the same slot succeeds."""
    request = BookingRequest(
        slot_id=body.slot_id,
        patient_name=body.name,
        phone=_phone(body.phone, clinic),
        concern=body.concern,
        channel="api",
        screening_reference=body.screening_reference,
        idempotency_key=f"api:{idempotency_key}" if idempotency_key else None,
    )
    try:
        return ConsultationOut.of(bookings.book(request, now), clinic, now)
    except (SlotUnavailable, SlotTaken, IdempotencyConflict) as error:
        raise _fail(error) from None


@router.get("/{reference}", response_model=ConsultationOut, responses=ERRORS)
def read_consultation(
    reference: str,
    x_patient_phone: str = Header(..., description="The phone number on the booking"),
    clinic: ClinicProfile = Depends(get_clinic),
    bookings: BookingService = Depends(get_bookings),
    now: datetime = Depends(get_now),
) -> ConsultationOut:
    """A booking, for the patient who made it."""
    try:
        return ConsultationOut.of(
            bookings.find(reference, _phone(x_patient_phone, clinic)), clinic, now
        )
    except BookingNotFound as error:
        raise _fail(error) from None


@router.post("/{reference}/move", response_model=ConsultationOut, responses=ERRORS)
def move_consultation(
    reference: str,
    body: MoveIn,
    clinic: ClinicProfile = Depends(get_clinic),
    bookings: BookingService = Depends(get_bookings),
    now: datetime = Depends(get_now),
) -> ConsultationOut:
    """Move a booking to another free slot; if that slot is taken, the booking is unchanged."""
    try:
        moved = bookings.move(reference, _phone(body.phone, clinic), body.slot_id, now)
    except (SlotUnavailable, SlotTaken, BookingNotFound) as error:
        raise _fail(error) from None
    return ConsultationOut.of(moved, clinic, now)


@router.post("/{reference}/cancel", response_model=ConsultationOut, responses=ERRORS)
def cancel_consultation(
    reference: str,
    body: PhoneIn,
    clinic: ClinicProfile = Depends(get_clinic),
    bookings: BookingService = Depends(get_bookings),
    now: datetime = Depends(get_now),
) -> ConsultationOut:
    """Cancel a booking and free its time."""
    try:
        return ConsultationOut.of(
            bookings.cancel(reference, _phone(body.phone, clinic), now), clinic, now
        )
    except BookingNotFound as error:
        raise _fail(error) from None
