"""Shared fixtures: the clinic file, a migrated database per test, fixed clocks."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pytest

from clinic.profile import ClinicProfile, load_clinic
from clinic.store import upgrade_database

ROOT = Path(__file__).resolve().parent.parent

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")


@pytest.fixture(scope="session")
def clinic() -> ClinicProfile:
    """The clinic file shipped with the project."""
    return load_clinic(ROOT / "clinic.yml")


@pytest.fixture
def database_url(tmp_path, monkeypatch) -> str:
    """A fresh SQLite database made by the real migrations, also set as DATABASE_URL."""
    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    upgrade_database(url)
    monkeypatch.setenv("DATABASE_URL", url)
    return url


def local(clinic: ClinicProfile, text: str) -> datetime:
    """An aware datetime from 'YYYY-MM-DD HH:MM' in the clinic's time zone."""
    return datetime.fromisoformat(text).replace(tzinfo=clinic.tz)


@pytest.fixture(scope="session")
def postgres_server():
    """A PostgreSQL server from Debian's packages, started for this test run."""
    from stack.postgres import PostgresServer

    server = PostgresServer.start()
    yield server
    server.stop()


@pytest.fixture
def postgres_url(postgres_server, monkeypatch) -> str:
    """A fresh PostgreSQL database made by the real migrations, also set as DATABASE_URL."""
    import uuid

    url = postgres_server.create_database(f"clinic_{uuid.uuid4().hex[:12]}")
    upgrade_database(url)
    monkeypatch.setenv("DATABASE_URL", url)
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def any_database_url(request, tmp_path, monkeypatch) -> str:
    """The same test on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return request.getfixturevalue("database_url")
    return request.getfixturevalue("postgres_url")
