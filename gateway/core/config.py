"""The gateway's settings, read from the environment (see .env.example)."""

from __future__ import annotations

import functools
from pathlib import Path

from pydantic import BaseSettings, Field

from clinic.settings import load_settings


class GatewaySettings(BaseSettings):
    """Where the gateway listens, what it talks to, and the secrets it checks."""

    host: str = Field("127.0.0.1", env="GATEWAY_HOST")
    port: int = Field(8000, env="GATEWAY_PORT")
    rasa_url: str = Field("http://127.0.0.1:5005", env="RASA_URL")
    staff_api_token: str | None = Field(None, env="STAFF_API_TOKEN")
    database_url: str = Field(
        default_factory=lambda: load_settings().database_url, env="DATABASE_URL"
    )
    tracker_database_url: str = Field(
        default_factory=lambda: load_settings().tracker_database_url, env="TRACKER_DATABASE_URL"
    )
    clinic_file: Path = Field(
        default_factory=lambda: load_settings().clinic_file, env="CLINIC_FILE"
    )

    class Config:
        case_sensitive = False


@functools.lru_cache(maxsize=1)
def gateway_settings() -> GatewaySettings:
    """The settings, read once per process."""
    return GatewaySettings()
