"""The one small interface booking goes through, and its built-in SQL implementation.

The actions and the clinic API use only `BookingService`. An adapter for an outside calendar or
practice system implements the same methods and is chosen in `booking_service()`; nothing else
changes.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from typing import Protocol

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from clinic.booking.model import (
    Booking,
    BookingNotFound,
    BookingRequest,
    IdempotencyConflict,
    Slot,
    SlotTaken,
)
from clinic.booking.slots import free_slots, slot_for
from clinic.profile import ClinicProfile
from clinic.references import new_reference
from clinic.store import BookingRecord, ScreeningRecord, SlotClaim, database_session


class BookingService(Protocol):
    """What the assistant and the API need from a calendar."""

    def free_slots(
        self,
        consultation_type: str,
        window_start: datetime,
        window_end: datetime,
        now: datetime,
        limit: int = 3,
        within: tuple[time, time] | None = None,
        near: datetime | None = None,
    ) -> list[Slot]:
        """Up to `limit` free slots in the window (see clinic.booking.slots.free_slots)."""

    def book(self, request: BookingRequest, now: datetime) -> Booking:
        """Book a slot once: the same idempotency key returns the same booking."""

    def find(self, reference: str, phone: str) -> Booking:
        """The booking with this reference, if the phone number matches it."""

    def upcoming(self, phone: str, now: datetime) -> list[Booking]:
        """A phone number's confirmed bookings from now on, soonest first."""

    def move(self, reference: str, phone: str, slot_id: str, now: datetime) -> Booking:
        """Move a booking to another slot; it keeps its old time if the new one is taken."""

    def cancel(self, reference: str, phone: str, now: datetime) -> Booking:
        """Cancel a booking and free its time."""

    def list(self, start: datetime | None = None, status: str | None = None) -> list[Booking]:
        """Bookings for staff, in time order."""


def booking_of(record: BookingRecord) -> Booking:
    """The calendar's view of a stored booking."""
    return Booking(
        reference=record.reference,
        slot=Slot(record.consultation_type, record.practitioner_id, record.start_at, record.end_at),
        patient_name=record.patient_name,
        phone=record.phone,
        status=record.status,
        concern=record.concern,
        channel=record.channel,
        conversation_id=record.conversation_id,
        screening_reference=record.screening_reference,
        created_at=record.created_at,
    )


def _claims(booking_id: int, slot: Slot) -> list[SlotClaim]:
    return [
        SlotClaim(booking_id=booking_id, practitioner_id=slot.practitioner_id, block_start=block)
        for block in slot.blocks()
    ]


class SqlBookingService:
    """Bookings in the clinic database. Each booking holds its calendar blocks in `slot_claims`,
    whose unique constraint lets exactly one of any number of racing requests have a block."""

    def __init__(self, database_url: str, profile: ClinicProfile) -> None:
        self.database_url = database_url
        self.profile = profile

    def _taken(self, window_start: datetime, window_end: datetime) -> set[tuple[str, datetime]]:
        with database_session(self.database_url) as session:
            rows = session.execute(
                select(SlotClaim.practitioner_id, SlotClaim.block_start).where(
                    SlotClaim.block_start >= window_start.astimezone(timezone.utc),
                    SlotClaim.block_start < window_end.astimezone(timezone.utc),
                )
            ).all()
        return {(practitioner, block) for practitioner, block in rows}

    def free_slots(
        self, consultation_type, window_start, window_end, now, limit=3, within=None, near=None
    ):
        """Up to `limit` free slots in the window, nearest to `near` or earliest first."""
        # Blocks a little past the window too: a slot starting at its end runs on after it.
        taken = self._taken(window_start, window_end + timedelta(hours=12))
        return free_slots(
            self.profile,
            taken,
            consultation_type,
            window_start,
            window_end,
            now,
            limit,
            within,
            near,
        )

    def _by_key(self, key: str) -> BookingRecord | None:
        with database_session(self.database_url) as session:
            return session.execute(
                select(BookingRecord).where(BookingRecord.idempotency_key == key)
            ).scalar_one_or_none()

    @staticmethod
    def _same_request(record: BookingRecord, request: BookingRequest, slot: Slot) -> Booking:
        if (record.phone, record.start_at, record.practitioner_id) != (
            request.phone,
            slot.start,
            slot.practitioner_id,
        ):
            raise IdempotencyConflict("that idempotency key was used for a different booking")
        return booking_of(record)

    def _blocks_taken(self, slot: Slot) -> bool:
        with database_session(self.database_url) as session:
            return (
                session.execute(
                    select(SlotClaim.id).where(
                        SlotClaim.practitioner_id == slot.practitioner_id,
                        SlotClaim.block_start.in_(slot.blocks()),
                    )
                ).first()
                is not None
            )

    def book(self, request: BookingRequest, now: datetime) -> Booking:
        """Book the slot if it is still free; retried requests with the same key book once."""
        slot = slot_for(self.profile, request.slot_id, now)
        if request.idempotency_key:
            existing = self._by_key(request.idempotency_key)
            if existing is not None:
                return self._same_request(existing, request, slot)
        for _attempt in range(5):
            try:
                with database_session(self.database_url) as session:
                    record = BookingRecord(
                        reference=new_reference("B"),
                        idempotency_key=request.idempotency_key,
                        consultation_type=slot.consultation_type,
                        practitioner_id=slot.practitioner_id,
                        start_at=slot.start,
                        end_at=slot.end,
                        patient_name=request.patient_name,
                        phone=request.phone,
                        concern=request.concern,
                        channel=request.channel,
                        conversation_id=request.conversation_id,
                        screening_reference=request.screening_reference,
                        status="confirmed",
                        created_at=now,
                        updated_at=now,
                    )
                    session.add(record)
                    session.flush()
                    session.add_all(_claims(record.id, slot))
                    if request.screening_reference:
                        screening = session.execute(
                            select(ScreeningRecord).where(
                                ScreeningRecord.reference == request.screening_reference
                            )
                        ).scalar_one_or_none()
                        if screening is not None:
                            screening.booking_reference = record.reference
                    session.flush()
                    return booking_of(record)
            except IntegrityError:
                if request.idempotency_key:
                    existing = self._by_key(request.idempotency_key)
                    if existing is not None:  # the same request, retried concurrently
                        return self._same_request(existing, request, slot)
                if self._blocks_taken(slot):
                    raise SlotTaken("someone has just booked that time") from None
                continue  # a reference collision: draw another
        raise RuntimeError("could not allocate a unique booking reference")

    def _record(self, session, reference: str, phone: str) -> BookingRecord:
        record = session.execute(
            select(BookingRecord).where(BookingRecord.reference == reference.strip().upper())
        ).scalar_one_or_none()
        if record is None or record.phone != phone:
            # The same answer whether the reference or the phone is wrong: no probing.
            raise BookingNotFound("no booking with that reference and phone number")
        return record

    def find(self, reference: str, phone: str) -> Booking:
        """The booking, if the reference and phone number belong together."""
        with database_session(self.database_url) as session:
            return booking_of(self._record(session, reference, phone))

    def upcoming(self, phone: str, now: datetime) -> list[Booking]:
        """Confirmed bookings for a phone number from now on."""
        with database_session(self.database_url) as session:
            records = session.execute(
                select(BookingRecord)
                .where(
                    BookingRecord.phone == phone,
                    BookingRecord.status == "confirmed",
                    BookingRecord.start_at > now.astimezone(timezone.utc),
                )
                .order_by(BookingRecord.start_at)
            ).scalars()
            return [booking_of(record) for record in records]

    def move(self, reference: str, phone: str, slot_id: str, now: datetime) -> Booking:
        """Move in one transaction: free the old blocks, claim the new ones, or change nothing."""
        slot = slot_for(self.profile, slot_id, now)
        try:
            with database_session(self.database_url) as session:
                record = self._record(session, reference, phone)
                if record.status != "confirmed":
                    raise BookingNotFound("that booking has been cancelled")
                session.execute(delete(SlotClaim).where(SlotClaim.booking_id == record.id))
                record.consultation_type = slot.consultation_type
                record.practitioner_id = slot.practitioner_id
                record.start_at, record.end_at, record.updated_at = slot.start, slot.end, now
                session.add_all(_claims(record.id, slot))
                session.flush()
                return booking_of(record)
        except IntegrityError:
            raise SlotTaken("someone has just booked that time") from None

    def cancel(self, reference: str, phone: str, now: datetime) -> Booking:
        """Cancel and free the time; cancelling twice is harmless."""
        with database_session(self.database_url) as session:
            record = self._record(session, reference, phone)
            session.execute(delete(SlotClaim).where(SlotClaim.booking_id == record.id))
            record.status, record.updated_at = "cancelled", now
            return booking_of(record)

    def list(self, start: datetime | None = None, status: str | None = None) -> list[Booking]:
        """Bookings for staff, in time order, optionally from a time and of one status."""
        with database_session(self.database_url) as session:
            query = select(BookingRecord).order_by(BookingRecord.start_at)
            if start is not None:
                query = query.where(BookingRecord.start_at >= start.astimezone(timezone.utc))
            if status is not None:
                query = query.where(BookingRecord.status == status)
            return [booking_of(record) for record in session.execute(query).scalars()]


def booking_service(database_url: str, profile: ClinicProfile) -> BookingService:
    """The clinic's calendar: the built-in SQL store (an outside adapter would be chosen here)."""
    return SqlBookingService(database_url, profile)
