"""The SQL booking store on SQLite and PostgreSQL: book, idempotency, move, cancel, lookups."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from clinic.booking.model import BookingNotFound, BookingRequest, IdempotencyConflict, SlotTaken
from clinic.booking.service import booking_service
from clinic.store import SlotClaim, database_session
from tests.conftest import local

PHONE = "+447400123456"
NOW = "2026-11-23 08:00"


@pytest.fixture
def bookings(clinic, any_database_url):
    return booking_service(any_database_url, clinic)


def first_slots(clinic, bookings, count=3, kind="consultation"):
    now = local(clinic, NOW)
    return bookings.free_slots(kind, now, now + timedelta(days=2), now, limit=count)


def test_book_then_the_slot_is_no_longer_free(clinic, bookings):
    now = local(clinic, NOW)
    slot = first_slots(clinic, bookings)[0]
    booking = bookings.book(BookingRequest(slot.id, "Sam Patel", PHONE, concern="acne scars"), now)
    assert booking.reference.startswith("B-") and booking.slot == slot and booking.is_active
    assert slot.id not in [s.id for s in first_slots(clinic, bookings, 10)]
    with pytest.raises(SlotTaken):
        bookings.book(BookingRequest(slot.id, "Ana Silva", "+447400123457"), now)


def test_the_same_idempotency_key_books_once(clinic, bookings, any_database_url):
    now = local(clinic, NOW)
    slot = first_slots(clinic, bookings)[0]
    request = BookingRequest(slot.id, "Sam Patel", PHONE, idempotency_key="retry-1")
    assert bookings.book(request, now).reference == bookings.book(request, now).reference
    assert len(bookings.list()) == 1
    other = first_slots(clinic, bookings)[0]
    with pytest.raises(IdempotencyConflict):
        bookings.book(BookingRequest(other.id, "Sam Patel", PHONE, idempotency_key="retry-1"), now)


def test_find_needs_the_matching_phone(clinic, bookings):
    now = local(clinic, NOW)
    booking = bookings.book(BookingRequest(first_slots(clinic, bookings)[0].id, "Sam", PHONE), now)
    assert bookings.find(booking.reference.lower(), PHONE).reference == booking.reference
    with pytest.raises(BookingNotFound):
        bookings.find(booking.reference, "+447400123457")
    with pytest.raises(BookingNotFound):
        bookings.find("B-XXXXXX", PHONE)


def test_move_frees_the_old_time_and_keeps_it_if_the_new_one_is_taken(
    clinic, bookings, any_database_url
):
    now = local(clinic, NOW)
    first, second, third = first_slots(clinic, bookings)
    mine = bookings.book(BookingRequest(first.id, "Sam", PHONE), now)
    theirs = bookings.book(BookingRequest(third.id, "Ana", "+447400123457"), now)
    moved = bookings.move(mine.reference, PHONE, second.id, now)
    assert moved.slot == second and moved.reference == mine.reference
    assert first.id in [s.id for s in first_slots(clinic, bookings, 10)]
    with pytest.raises(SlotTaken):
        bookings.move(mine.reference, PHONE, theirs.slot.id, now)
    assert bookings.find(mine.reference, PHONE).slot == second  # unchanged
    with database_session(any_database_url) as session:
        assert session.execute(select(func.count(SlotClaim.id))).scalar() == 4  # 2 + 2 blocks


def test_cancel_frees_the_time(clinic, bookings):
    now = local(clinic, NOW)
    slot = first_slots(clinic, bookings)[0]
    booking = bookings.book(BookingRequest(slot.id, "Sam", PHONE), now)
    assert bookings.cancel(booking.reference, PHONE, now).status == "cancelled"
    assert bookings.upcoming(PHONE, now) == []
    assert slot.id in [s.id for s in first_slots(clinic, bookings, 10)]
    assert bookings.book(BookingRequest(slot.id, "Ana", "+447400123457"), now).is_active


def test_upcoming_and_staff_list(clinic, bookings):
    now = local(clinic, NOW)
    later = bookings.free_slots("treatment", now + timedelta(days=1), now + timedelta(days=2), now)[
        0
    ]
    bookings.book(BookingRequest(later.id, "Sam", PHONE), now)
    earlier = first_slots(clinic, bookings, 1, "treatment")[0]
    bookings.book(BookingRequest(earlier.id, "Sam", PHONE), now)
    a, b = earlier, later
    assert [x.slot for x in bookings.upcoming(PHONE, now)] == [a, b]
    assert [x.slot for x in bookings.list(status="confirmed")] == [a, b]
