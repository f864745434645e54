"""Patients' data: what is kept about a patient, erasing it on request, retention, the audit log.

A patient is known by the conversations they had (Rasa's sender ids, one per channel) and by the
phone number on their bookings. Their records are:
- the conversation events in Rasa's tracker store (the `events` table of TRACKER_DATABASE_URL);
- consent answers, screenings, handoffs, bookings (with their slot claims) and the options last
  offered on a button-less channel, in the clinic database (DATABASE_URL).

Erasing removes all of them and leaves one audit entry that a deletion happened (who asked, when,
how many records of each kind) under a deletion reference; earlier audit entries that named the
patient's conversations or references are re-labelled with that reference. Retention (`purge`)
removes what is older than the clinic's `data_protection.retention_days` and cuts old bookings
down to what the clinic needs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, func, or_, select, text, update

from clinic.references import new_reference
from clinic.store import (
    AuditEntry,
    BookingRecord,
    ButtonPayload,
    Consent,
    Handoff,
    InboundMessage,
    PendingOptions,
    ScreeningRecord,
    database_session,
    engine_for,
)
from clinic.transcripts import TRACKER_EVENTS, has_tracker_events

# ---------------------------------------------------------------- audit log


def write_audit(
    database_url: str,
    actor: str,
    action: str,
    subject: str,
    now: datetime,
    detail: dict | None = None,
) -> None:
    """Add one entry to the audit log."""
    with database_session(database_url) as session:
        session.add(
            AuditEntry(
                at=now,
                actor=actor[:160],
                action=action,
                subject=subject[:255],
                detail=json.dumps(detail, sort_keys=True) if detail else None,
            )
        )


def audit_entries(
    database_url: str, since: datetime | None = None, limit: int = 500
) -> list[AuditEntry]:
    """The audit log, newest first."""
    with database_session(database_url) as session:
        query = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        if since is not None:
            query = query.where(AuditEntry.at >= since)
        return list(session.execute(query.limit(limit)).scalars())


# ---------------------------------------------------------------- the tracker store


def _in_chunks(values: Iterable[str], size: int = 500) -> Iterable[list[str]]:
    values = sorted(set(values))
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _sender_in(values: list[str]) -> tuple[str, dict[str, str]]:
    """`sender_id IN (:id0, :id1, ...)` and its parameters, for raw SQL on the events table."""
    params = {f"id{i}": value for i, value in enumerate(values)}
    return f"sender_id IN ({', '.join(f':{name}' for name in params)})", params


def erase_conversation_events(tracker_database_url: str, conversation_ids: Iterable[str]) -> int:
    """Delete every event of these conversations from Rasa's tracker store; the number deleted."""
    engine = engine_for(tracker_database_url)
    if not has_tracker_events(engine):
        return 0
    deleted = 0
    with engine.begin() as connection:
        for chunk in _in_chunks(conversation_ids):
            condition, params = _sender_in(chunk)
            deleted += connection.execute(
                text(f"DELETE FROM {TRACKER_EVENTS} WHERE {condition}"), params
            ).rowcount
    return deleted


@dataclass(frozen=True)
class ConversationKept:
    """How much of one conversation the tracker store holds."""

    conversation_id: str
    events: int
    first_at: datetime
    last_at: datetime


def conversations_kept(
    tracker_database_url: str, conversation_ids: Iterable[str]
) -> list[ConversationKept]:
    """Event counts and dates of these conversations in the tracker store."""
    from datetime import timezone

    engine = engine_for(tracker_database_url)
    if not has_tracker_events(engine):
        return []
    found = []
    with engine.connect() as connection:
        for chunk in _in_chunks(conversation_ids):
            condition, params = _sender_in(chunk)
            rows = connection.execute(
                text(
                    f"SELECT sender_id, COUNT(*), MIN(timestamp), MAX(timestamp) "
                    f"FROM {TRACKER_EVENTS} WHERE {condition} GROUP BY sender_id"
                ),
                params,
            ).all()
            found += [
                ConversationKept(
                    sender,
                    int(count),
                    datetime.fromtimestamp(float(first), tz=timezone.utc),
                    datetime.fromtimestamp(float(last), tz=timezone.utc),
                )
                for sender, count, first, last in rows
            ]
    return sorted(found, key=lambda kept: kept.first_at)


def stale_conversations(tracker_database_url: str, cutoff: datetime) -> list[str]:
    """Conversations whose latest event is older than the cutoff."""
    engine = engine_for(tracker_database_url)
    if not has_tracker_events(engine):
        return []
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                f"SELECT sender_id FROM {TRACKER_EVENTS} GROUP BY sender_id "
                "HAVING MAX(timestamp) < :cutoff"
            ),
            {"cutoff": cutoff.timestamp()},
        ).all()
    return [row[0] for row in rows]


# ---------------------------------------------------------------- one patient's records


@dataclass
class PatientRecords:
    """Everything the clinic keeps about one patient."""

    conversation_ids: list[str]
    conversations: list[ConversationKept] = field(default_factory=list)
    consents: list[Consent] = field(default_factory=list)
    screenings: list[ScreeningRecord] = field(default_factory=list)
    bookings: list[BookingRecord] = field(default_factory=list)
    handoffs: list[Handoff] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """How many records of each kind."""
        return {
            "conversations": len(self.conversations),
            "consents": len(self.consents),
            "screenings": len(self.screenings),
            "bookings": len(self.bookings),
            "handoffs": len(self.handoffs),
        }

    def is_empty(self) -> bool:
        """Whether nothing at all is kept."""
        return not any(self.counts().values())


def _patient_ids(session, conversation_ids: Iterable[str], phone: str | None) -> list[str]:
    """The given conversations plus every conversation that made a booking with the phone."""
    ids = {c for c in conversation_ids if c}
    if phone:
        ids |= {
            c
            for c in session.execute(
                select(BookingRecord.conversation_id).where(BookingRecord.phone == phone)
            ).scalars()
            if c
        }
    return sorted(ids)


def _bookings_query(ids: list[str], phone: str | None):
    conditions = [BookingRecord.conversation_id.in_(ids)] if ids else []
    if phone:
        conditions.append(BookingRecord.phone == phone)
    return select(BookingRecord).where(or_(*conditions)) if conditions else None


def patient_records(
    database_url: str,
    tracker_database_url: str | None,
    conversation_ids: Iterable[str] = (),
    phone: str | None = None,
) -> PatientRecords:
    """What is kept about the patient of these conversations and (if given) this phone."""
    with database_session(database_url) as session:
        ids = _patient_ids(session, conversation_ids, phone)
        records = PatientRecords(conversation_ids=ids)
        query = _bookings_query(ids, phone)
        if query is None:
            return records
        records.bookings = list(session.execute(query.order_by(BookingRecord.start_at)).scalars())
        screening_refs = [b.screening_reference for b in records.bookings if b.screening_reference]
        records.screenings = list(
            session.execute(
                select(ScreeningRecord)
                .where(
                    or_(
                        ScreeningRecord.conversation_id.in_(ids),
                        ScreeningRecord.reference.in_(screening_refs),
                    )
                )
                .order_by(ScreeningRecord.created_at)
            ).scalars()
        )
        records.consents = list(
            session.execute(
                select(Consent)
                .where(
                    or_(
                        Consent.conversation_id.in_(ids),
                        Consent.id.in_([s.consent_id for s in records.screenings]),
                    )
                )
                .order_by(Consent.created_at)
            ).scalars()
        )
        records.handoffs = list(
            session.execute(
                select(Handoff).where(Handoff.conversation_id.in_(ids)).order_by(Handoff.created_at)
            ).scalars()
        )
    if tracker_database_url:
        records.conversations = conversations_kept(tracker_database_url, ids)
    return records


@dataclass(frozen=True)
class Erasure:
    """A finished deletion: its reference, what was removed, the conversations it covered."""

    reference: str
    counts: dict[str, int]
    conversation_ids: tuple[str, ...]


def erase_patient(
    database_url: str,
    tracker_database_url: str | None,
    actor: str,
    now: datetime,
    conversation_ids: Iterable[str] = (),
    phone: str | None = None,
) -> Erasure:
    """Delete everything kept about the patient of these conversations and this phone, leaving
    one audit entry. With `tracker_database_url` None the conversation events are left to the
    caller (Rasa's tracker store erases them itself when it saves the turn that asked)."""
    records = patient_records(database_url, None, conversation_ids, phone)
    ids = records.conversation_ids
    reference = new_reference("D")
    identifiers = [
        *ids,
        *(b.reference for b in records.bookings),
        *(s.reference for s in records.screenings),
        *(h.reference for h in records.handoffs),
    ]
    with database_session(database_url) as session:
        booking_ids = [b.id for b in records.bookings]
        screening_ids = [s.id for s in records.screenings]
        consent_ids = [c.id for c in records.consents]
        if booking_ids:  # slot claims go with their booking (ON DELETE CASCADE)
            session.execute(delete(BookingRecord).where(BookingRecord.id.in_(booking_ids)))
        if screening_ids:
            session.execute(delete(ScreeningRecord).where(ScreeningRecord.id.in_(screening_ids)))
        if consent_ids:
            session.execute(delete(Consent).where(Consent.id.in_(consent_ids)))
        if ids:
            session.execute(delete(Handoff).where(Handoff.conversation_id.in_(ids)))
            session.execute(delete(PendingOptions).where(PendingOptions.conversation_id.in_(ids)))
        for chunk in _in_chunks(identifiers):
            session.execute(
                update(AuditEntry)
                .where(AuditEntry.subject.in_(chunk))
                .values(subject=f"erased:{reference}")
            )
        counts = records.counts()
        if tracker_database_url:
            counts["conversation_events"] = erase_conversation_events(tracker_database_url, ids)
        del counts["conversations"]
        session.add(
            AuditEntry(
                at=now,
                actor=actor[:160],
                action="erase",
                subject=reference,
                detail=json.dumps(counts, sort_keys=True),
            )
        )
    return Erasure(reference=reference, counts=counts, conversation_ids=tuple(ids))


# ---------------------------------------------------------------- retention


@dataclass(frozen=True)
class Purge:
    """What a retention run removed (or would remove, in a dry run)."""

    cutoff: datetime
    counts: dict[str, int]


def purge(
    database_url: str,
    tracker_database_url: str,
    retention_days: int,
    now: datetime,
    dry_run: bool = False,
) -> Purge:
    """Remove conversations, consent answers, screenings and handoffs older than the retention
    period; cut bookings that ended before it down to time, type, practitioner, status, name and
    phone. Safe to run every day; a dry run only counts."""
    cutoff = now - timedelta(days=retention_days)
    stale = stale_conversations(tracker_database_url, cutoff)
    counts: dict[str, int] = {"conversations": len(stale)}
    with database_session(database_url) as session:
        old_screenings = [
            s.id
            for s in session.execute(
                select(ScreeningRecord).where(ScreeningRecord.created_at < cutoff)
            ).scalars()
        ]
        kept_consents = select(ScreeningRecord.consent_id).where(
            ScreeningRecord.created_at >= cutoff
        )
        old_consents = list(
            session.execute(
                select(Consent.id).where(
                    Consent.created_at < cutoff, Consent.id.not_in(kept_consents)
                )
            ).scalars()
        )
        old_handoffs = select(Handoff).where(Handoff.created_at < cutoff)
        bookings_to_trim = and_(
            BookingRecord.end_at < cutoff,
            or_(
                BookingRecord.concern.is_not(None),
                BookingRecord.conversation_id.is_not(None),
                BookingRecord.screening_reference.is_not(None),
                BookingRecord.idempotency_key.is_not(None),
            ),
        )
        counts |= {
            "screenings": len(old_screenings),
            "consents": len(old_consents),
            "handoffs": _count(session, old_handoffs),
            "bookings_trimmed": _count(session, select(BookingRecord).where(bookings_to_trim)),
            "delivery_records": _count(
                session, select(InboundMessage).where(InboundMessage.received_at < cutoff)
            )
            + _count(session, select(PendingOptions).where(PendingOptions.updated_at < cutoff))
            + _count(session, select(ButtonPayload).where(ButtonPayload.created_at < cutoff)),
        }
        if dry_run:
            return Purge(cutoff, counts)
        session.execute(delete(ScreeningRecord).where(ScreeningRecord.id.in_(old_screenings)))
        session.execute(delete(Consent).where(Consent.id.in_(old_consents)))
        session.execute(delete(Handoff).where(Handoff.created_at < cutoff))
        session.execute(
            update(BookingRecord)
            .where(bookings_to_trim)
            .values(
                concern=None, conversation_id=None, screening_reference=None, idempotency_key=None
            )
        )
        session.execute(delete(InboundMessage).where(InboundMessage.received_at < cutoff))
        session.execute(delete(PendingOptions).where(PendingOptions.updated_at < cutoff))
        session.execute(delete(ButtonPayload).where(ButtonPayload.created_at < cutoff))
        for chunk in _in_chunks(stale):
            session.execute(
                update(AuditEntry).where(AuditEntry.subject.in_(chunk)).values(subject="expired")
            )
        session.add(
            AuditEntry(
                at=now,
                actor="retention",
                action="purge",
                subject=f"older than {cutoff.date().isoformat()}",
                detail=json.dumps(counts, sort_keys=True),
            )
        )
    erase_conversation_events(tracker_database_url, stale)
    return Purge(cutoff, counts)


def _count(session, query) -> int:
    return session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
