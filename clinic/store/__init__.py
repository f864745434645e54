"""The clinic's records (handoffs, and later bookings, screenings, consent, audit) on SQLAlchemy.

SQLite by default, PostgreSQL through `DATABASE_URL`; the schema is made by Alembic migrations.
"""

from clinic.store.db import add_with_reference, database_session, engine_for, upgrade_database
from clinic.store.models import (
    Base,
    BookingRecord,
    ButtonPayload,
    Consent,
    Handoff,
    InboundMessage,
    PendingOptions,
    ScreeningRecord,
    SlotClaim,
)

__all__ = [
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
