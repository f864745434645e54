"""The tables of the clinic's records."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import declarative_base
from sqlalchemy.types import TypeDecorator

Base = declarative_base()


class UTCDateTime(TypeDecorator):
    """An aware datetime stored as naive UTC, so SQLite and PostgreSQL agree."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("refusing to store a naive datetime")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=timezone.utc)


class Handoff(Base):
    """A patient's conversation handed to the clinic's staff, waiting for a person to reply."""

    __tablename__ = "handoffs"

    id = Column(Integer, primary_key=True)
    reference = Column(String(16), nullable=False, unique=True)
    conversation_id = Column(String(255), nullable=False, index=True)
    channel = Column(String(40), nullable=False)
    reason = Column(String(40), nullable=False)
    detail = Column(Text, nullable=True)
    created_at = Column(UTCDateTime, nullable=False)
    clinic_open = Column(Boolean, nullable=False)
    reply_by = Column(UTCDateTime, nullable=True)
    status = Column(String(16), nullable=False, default="open")
    resolved_at = Column(UTCDateTime, nullable=True)

    def is_open(self) -> bool:
        """Whether staff still have to pick this handoff up."""
        return self.status == "open"

    def __repr__(self) -> str:  # no patient identifiers in reprs: they end up in logs
        return f"<Handoff {self.reference} {self.reason} {self.status}>"


def utc_now() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(timezone.utc)


class Consent(Base):
    """A patient's answer to a request to keep health information, with when and where."""

    __tablename__ = "consents"

    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(255), nullable=False, index=True)
    channel = Column(String(40), nullable=False)
    purpose = Column(String(40), nullable=False)
    given = Column(Boolean, nullable=False)
    wording_version = Column(Integer, nullable=False)
    created_at = Column(UTCDateTime, nullable=False)

    def __repr__(self) -> str:
        return f"<Consent {self.id} {self.purpose} given={self.given}>"


class ScreeningRecord(Base):
    """A finished contraindication screening, kept only with consent, attachable to a booking."""

    __tablename__ = "screenings"

    id = Column(Integer, primary_key=True)
    reference = Column(String(16), nullable=False, unique=True)
    conversation_id = Column(String(255), nullable=False, index=True)
    channel = Column(String(40), nullable=False)
    rules_version = Column(Integer, nullable=False)
    answers = Column(Text, nullable=False)  # JSON: rule id -> true/false
    outcome = Column(String(32), nullable=False)
    reasons = Column(Text, nullable=False)  # JSON: the rule ids that apply
    consent_id = Column(Integer, ForeignKey("consents.id"), nullable=False)
    created_at = Column(UTCDateTime, nullable=False)
    booking_reference = Column(String(16), nullable=True)

    def __repr__(self) -> str:
        return f"<Screening {self.reference} {self.outcome}>"


class BookingRecord(Base):
    """A consultation on the calendar. Its time is held by SlotClaim rows, one per block."""

    __tablename__ = "bookings"

    id = Column(Integer, primary_key=True)
    reference = Column(String(16), nullable=False, unique=True)
    idempotency_key = Column(String(128), nullable=True, unique=True)
    consultation_type = Column(String(40), nullable=False)
    practitioner_id = Column(String(40), nullable=False)
    start_at = Column(UTCDateTime, nullable=False, index=True)
    end_at = Column(UTCDateTime, nullable=False)
    patient_name = Column(String(200), nullable=False)
    phone = Column(String(20), nullable=False, index=True)
    concern = Column(Text, nullable=True)
    channel = Column(String(40), nullable=False)
    conversation_id = Column(String(255), nullable=True, index=True)
    screening_reference = Column(String(16), nullable=True)
    status = Column(String(16), nullable=False, default="confirmed")
    created_at = Column(UTCDateTime, nullable=False)
    updated_at = Column(UTCDateTime, nullable=False)

    def __repr__(self) -> str:
        return f"<Booking {self.reference} {self.status}>"


class SlotClaim(Base):
    """One 15-minute block of one practitioner's calendar, held by one booking.

    The unique constraint is what makes double booking impossible, even when many requests
    race for the same time: the database lets exactly one of them insert the block.
    """

    __tablename__ = "slot_claims"
    __table_args__ = (
        UniqueConstraint("practitioner_id", "block_start", name="uq_slot_claims_block"),
    )

    id = Column(Integer, primary_key=True)
    booking_id = Column(
        Integer, ForeignKey("bookings.id", ondelete="CASCADE"), nullable=False, index=True
    )
    practitioner_id = Column(String(40), nullable=False)
    block_start = Column(UTCDateTime, nullable=False)


class InboundMessage(Base):
    """A platform message already handled: a second delivery of the same id is a replay."""

    __tablename__ = "inbound_messages"
    __table_args__ = (UniqueConstraint("channel", "message_id", name="uq_inbound_message"),)

    id = Column(Integer, primary_key=True)
    channel = Column(String(20), nullable=False)
    message_id = Column(String(128), nullable=False)
    received_at = Column(UTCDateTime, nullable=False, index=True)


class ButtonPayload(Base):
    """A button's payload too long for a platform's limit (Telegram: 64 bytes), kept by token."""

    __tablename__ = "button_payloads"

    token = Column(String(24), primary_key=True)
    payload = Column(Text, nullable=False)
    created_at = Column(UTCDateTime, nullable=False)


class PendingOptions(Base):
    """The buttons last offered in a conversation on a channel without buttons (SMS, the phone
    line), so that "2" or pressing 2 can mean the second option."""

    __tablename__ = "pending_options"

    conversation_id = Column(String(255), primary_key=True)
    payloads = Column(Text, nullable=False)  # JSON list, in the order offered
    updated_at = Column(UTCDateTime, nullable=False)


class StaffMember(Base):
    """A member of staff who may use the staff API, by a token of their own.

    Only the token's SHA-256 is kept: the token itself is shown once, when it is issued. Tokens
    are long random strings, so a fast hash is enough (nothing to guess from a dictionary).
    """

    __tablename__ = "staff_members"

    id = Column(Integer, primary_key=True)
    name = Column(String(120), nullable=False, unique=True)
    token_hash = Column(String(64), nullable=False, unique=True)
    created_at = Column(UTCDateTime, nullable=False)
    revoked_at = Column(UTCDateTime, nullable=True)
    last_used_at = Column(UTCDateTime, nullable=True)

    def __repr__(self) -> str:
        return f"<StaffMember {self.name} {'revoked' if self.revoked_at else 'active'}>"


class AuditEntry(Base):
    """Who read or deleted which patient's records, and when (never the records themselves).

    `actor` is `staff:<name>`, `patient:<channel>` or `retention`; `action` is `read`, `erase`,
    `purge`, `token-issued` or `token-revoked`; `subject` names what was read or removed (a
    conversation id, a booking reference, a deletion reference), and is replaced by the deletion
    reference when the patient's data is erased, so the log keeps no identifier of them.
    """

    __tablename__ = "audit_log"

    id = Column(Integer, primary_key=True)
    at = Column(UTCDateTime, nullable=False, index=True)
    actor = Column(String(160), nullable=False)
    action = Column(String(20), nullable=False)
    subject = Column(String(255), nullable=False, index=True)
    detail = Column(Text, nullable=True)  # JSON: counts, the route, the filter

    def __repr__(self) -> str:
        return f"<AuditEntry {self.id} {self.actor} {self.action}>"
