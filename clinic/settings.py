"""Settings read from the environment, with embedded defaults that need no outside account."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    """Where the clinic file, the databases and the language pipeline live."""

    clinic_file: Path
    database_url: str
    tracker_database_url: str
    spacy_pipeline: Path


def load_settings() -> Settings:
    """Read the settings from the environment now (tests change it between cases)."""
    default_db = f"sqlite:///{PROJECT_ROOT / 'var' / 'clinic.db'}"
    return Settings(
        clinic_file=Path(os.environ.get("CLINIC_FILE", PROJECT_ROOT / "clinic.yml")),
        database_url=os.environ.get("DATABASE_URL", default_db),
        tracker_database_url=os.environ.get(
            "TRACKER_DATABASE_URL", f"sqlite:///{PROJECT_ROOT / 'var' / 'tracker.db'}"
        ),
        spacy_pipeline=Path(
            os.environ.get("SPACY_PIPELINE", PROJECT_ROOT / "build" / "spacy" / "clinic_en")
        ),
    )
