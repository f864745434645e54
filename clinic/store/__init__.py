"""The clinic's records (handoffs, bookings, screenings, consent, staff, audit) on SQLAlchemy.

SQLite by default, PostgreSQL through `DATABASE_URL`; the schema is made by Alembic migrations.
"""

from clinic.store.db import add_with_reference, database_session, engine_for, upgrade_database
from clinic.store.models import (
    AuditEntry,
    Base,
    BookingRecord,
    ButtonPayload,
    Consent,
    Handoff,
    InboundMessage,
    PendingOptions,
    ScreeningRecord,
    SlotClaim,
    StaffMember,
)

__all__ = [
    "AuditEntry",
    "StaffMember",
    "Base",
    "BookingRecord",
    "ButtonPayload",
    "InboundMessage",
    "PendingOptions",
    "SlotClaim",
    "add_with_reference",
    "Consent",
    "Handoff",
    "ScreeningRecord",
    "database_session",
    "engine_for",
    "upgrade_database",
]
