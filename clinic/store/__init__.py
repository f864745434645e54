"""The clinic's records (handoffs, and later bookings, screenings, consent, audit) on SQLAlchemy.

SQLite by default, PostgreSQL through `DATABASE_URL`; the schema is made by Alembic migrations.
"""

from clinic.store.db import database_session, engine_for, upgrade_database
from clinic.store.models import Base, Handoff

__all__ = ["Base", "Handoff", "database_session", "engine_for", "upgrade_database"]
