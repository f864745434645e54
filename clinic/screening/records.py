"""Consent and screening results in the clinic database: health answers only with consent."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import select

from clinic.screening.assess import Screening
from clinic.store import (
    BookingRecord,
    Consent,
    ScreeningRecord,
    add_with_reference,
    database_session,
)

SCREENING = "screening"


class ConsentRequired(PermissionError):
    """Health answers cannot be stored without the patient's consent."""


def record_consent(
    database_url: str,
    conversation_id: str,
    channel: str,
    given: bool,
    wording_version: int,
    now: datetime,
    purpose: str = SCREENING,
) -> int:
    """Store a yes or no to keeping health information; returns the consent's id."""
    with database_session(database_url) as session:
        consent = Consent(
            conversation_id=conversation_id,
            channel=channel,
            purpose=purpose,
            given=given,
            wording_version=wording_version,
            created_at=now,
        )
        session.add(consent)
        session.flush()
        return consent.id


def current_consent(
    database_url: str, conversation_id: str, purpose: str = SCREENING
) -> Consent | None:
    """The conversation's latest answer to the consent question, if any."""
    with database_session(database_url) as session:
        return (
            session.execute(
                select(Consent)
                .where(Consent.conversation_id == conversation_id, Consent.purpose == purpose)
                .order_by(Consent.created_at.desc(), Consent.id.desc())
            )
            .scalars()
            .first()
        )


def save_screening(
    database_url: str,
    conversation_id: str,
    channel: str,
    rules_version: int,
    answers: dict[str, bool],
    screening: Screening,
    now: datetime,
    booking_reference: str | None = None,
) -> str:
    """Store a finished screening under the conversation's consent (attached to the booking, if
    one was made first); returns its reference."""
    consent = current_consent(database_url, conversation_id)
    if consent is None or not consent.given:
        raise ConsentRequired("no consent to keep health information for this conversation")
    with database_session(database_url) as session:
        record = add_with_reference(
            session,
            "S",
            lambda reference: ScreeningRecord(
                reference=reference,
                conversation_id=conversation_id,
                channel=channel,
                rules_version=rules_version,
                answers=json.dumps(answers, sort_keys=True),
                outcome=screening.outcome.value,
                reasons=json.dumps([rule.id for rule in screening.applying]),
                consent_id=consent.id,
                created_at=now,
                booking_reference=booking_reference,
            ),
        )
        if booking_reference:
            booking = session.execute(
                select(BookingRecord).where(BookingRecord.reference == booking_reference)
            ).scalar_one_or_none()
            if booking is not None and booking.screening_reference is None:
                booking.screening_reference = record.reference
        return record.reference


def screenings_for(database_url: str, conversation_id: str | None = None) -> list[ScreeningRecord]:
    """Stored screenings, newest first: one conversation's, or all of them."""
    with database_session(database_url) as session:
        query = select(ScreeningRecord).order_by(
            ScreeningRecord.created_at.desc(), ScreeningRecord.id.desc()
        )
        if conversation_id is not None:
            query = query.where(ScreeningRecord.conversation_id == conversation_id)
        return list(session.execute(query).scalars())
