"""FastAPI dependencies: settings, the clinic, the calendar, the clock, staff authentication."""

from __future__ import annotations

from datetime import datetime, timezone

from fastapi import Depends, Header, HTTPException, status

from clinic.booking.service import BookingService, booking_service
from clinic.profile import ClinicProfile, current_clinic
from clinic.staff import authenticate
from clinic.store import StaffMember
from gateway.core.config import GatewaySettings, gateway_settings


def get_settings() -> GatewaySettings:
    """The gateway's settings."""
    return gateway_settings()


def get_clinic(settings: GatewaySettings = Depends(get_settings)) -> ClinicProfile:
    """The clinic file, re-read when it changes."""
    return current_clinic(settings.clinic_file)


def get_bookings(
    settings: GatewaySettings = Depends(get_settings), clinic: ClinicProfile = Depends(get_clinic)
) -> BookingService:
    """The clinic's calendar."""
    return booking_service(settings.database_url, clinic)


def get_now() -> datetime:
    """The current time (replaced in tests)."""
    return datetime.now(timezone.utc)


def require_staff(
    authorization: str | None = Header(None, description="`Bearer <staff token>`"),
    settings: GatewaySettings = Depends(get_settings),
    now: datetime = Depends(get_now),
) -> StaffMember:
    """Only a member of staff with their own, unrevoked token may read patients' records
    (tokens come from `python -m clinic staff add NAME`)."""
    scheme, _, token = (authorization or "").partition(" ")
    member = (
        authenticate(settings.database_url, token.strip(), now)
        if scheme.lower() == "bearer" and token.strip()
        else None
    )
    if member is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "a valid staff token is required (issued by `python -m clinic staff add NAME`)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return member
