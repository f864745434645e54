"""Engines, sessions and schema upgrades for the clinic database."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from clinic.references import new_reference

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


@functools.lru_cache(maxsize=16)
def engine_for(database_url: str) -> Engine:
    """One pooled engine per database URL; SQLite files get their folder and WAL mode."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, future=True, connect_args={"check_same_thread": False, "timeout": 30}
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(
        url,
        future=True,
        pool_pre_ping=True,
        pool_size=5,
        max_overflow=10,
        # A database that does not answer fails the request in seconds, not minutes.
        connect_args={"connect_timeout": 5} if url.get_backend_name() == "postgresql" else {},
    )


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


@functools.lru_cache(maxsize=16)
def _session_factory(database_url: str) -> sessionmaker:
    return sessionmaker(bind=engine_for(database_url), future=True, expire_on_commit=False)


@contextmanager
def database_session(database_url: str) -> Iterator[Session]:
    """A session that commits when the block ends and rolls back if it raises."""
    session = _session_factory(database_url)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def alembic_config(database_url: str) -> Config:
    """Alembic's configuration for this package's migrations and the given database."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade_database(database_url: str) -> None:
    """Create or upgrade the schema to the newest migration (safe to run every start)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(database_url), "head")


def add_with_reference(session: Session, prefix: str, build: Callable[[str], object]):
    """Add the record `build(reference)` under a fresh short reference; on the rare collision
    with an existing one (a unique constraint), draw another."""
    for _attempt in range(5):
        record = build(new_reference(prefix))
        try:
            with session.begin_nested():
                session.add(record)
            return record
        except IntegrityError:
            continue
    raise RuntimeError(f"could not allocate a unique {prefix}- reference")
