"""Handing a conversation to a person: the record staff see and what the patient is told."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from clinic.profile import ClinicProfile
from clinic.store import Handoff, add_with_reference, database_session

REASONS = ("patient_request", "not_understood", "urgent", "emergency")


@dataclass(frozen=True)
class HandoffReceipt:
    """What the patient needs to know about their handoff."""

    reference: str
    clinic_open: bool
    reply_by: datetime | None
    already_waiting: bool


def request_handoff(
    database_url: str,
    profile: ClinicProfile,
    conversation_id: str,
    channel: str,
    reason: str,
    now: datetime,
    detail: str | None = None,
) -> HandoffReceipt:
    """Record that a conversation needs a person, once per open request, and say when to expect one.

    While the clinic is open the team replies within the clinic's promised minutes (never later
    than closing); when it is closed, at the next opening. A second request from a conversation
    that is already waiting returns the existing handoff instead of queueing it twice.
    """
    if reason not in REASONS:
        raise ValueError(f"unknown handoff reason {reason!r}; expected one of {REASONS}")
    clinic_open = profile.is_open(now)
    if clinic_open:
        promised = now + timedelta(minutes=profile.handoff.reply_within_minutes)
        closes = profile.closes_at(now)
        reply_by = min(promised, closes) if closes else promised
    else:
        reply_by = profile.next_opening(now)

    with database_session(database_url) as session:
        waiting = (
            session.execute(
                select(Handoff)
                .where(Handoff.conversation_id == conversation_id, Handoff.status == "open")
                .order_by(Handoff.created_at.desc())
            )
            .scalars()
            .first()
        )
        if waiting is not None and waiting.reason == reason:
            return HandoffReceipt(waiting.reference, clinic_open, waiting.reply_by, True)
        handoff = add_with_reference(
            session,
            "H",
            lambda reference: Handoff(
                reference=reference,
                conversation_id=conversation_id,
                channel=channel,
                reason=reason,
                detail=detail,
                created_at=now,
                clinic_open=clinic_open,
                reply_by=reply_by,
                status="open",
            ),
        )
    return HandoffReceipt(handoff.reference, clinic_open, reply_by, False)


def list_handoffs(database_url: str, status: str | None = "open") -> list[Handoff]:
    """Handoffs for staff, newest first; `status=None` lists all of them."""
    with database_session(database_url) as session:
        query = select(Handoff).order_by(Handoff.created_at.desc())
        if status is not None:
            query = query.where(Handoff.status == status)
        return list(session.execute(query).scalars())


def resolve_handoff(database_url: str, reference: str, now: datetime) -> bool:
    """Mark a handoff as dealt with; False if no open handoff has that reference."""
    with database_session(database_url) as session:
        handoff = session.execute(
            select(Handoff).where(Handoff.reference == reference.upper(), Handoff.status == "open")
        ).scalar_one_or_none()
        if handoff is None:
            return False
        handoff.status, handoff.resolved_at = "resolved", now
        return True
