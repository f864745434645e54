"""FastAPI dependencies: settings, the clinic, the calendar, the clock, staff authentication."""

from __future__ import annotations

import hmac
from datetime import datetime, timezone

from fastapi import Depends, Header, HTTPException, status

from clinic.booking.service import BookingService, booking_service
from clinic.profile import ClinicProfile, current_clinic
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
    authorization: str | None = Header(None, description="`Bearer <STAFF_API_TOKEN>`"),
    settings: GatewaySettings = Depends(get_settings),
) -> None:
    """Only staff with the token may read patients' records."""
    if not settings.staff_api_token:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, "the staff API is off: set STAFF_API_TOKEN"
        )
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        token.encode(), settings.staff_api_token.encode()
    ):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "a valid staff token is required",
            headers={"WWW-Authenticate": "Bearer"},
        )
