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
