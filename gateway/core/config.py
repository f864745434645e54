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
    database_url: str = Field(
        default_factory=lambda: load_settings().database_url, env="DATABASE_URL"
    )
    tracker_database_url: str = Field(
        default_factory=lambda: load_settings().tracker_database_url, env="TRACKER_DATABASE_URL"
    )
    clinic_file: Path = Field(
        default_factory=lambda: load_settings().clinic_file, env="CLINIC_FILE"
    )
    rasa_timeout_seconds: float = Field(20, env="RASA_TIMEOUT_SECONDS")
    # Messages per minute one sender may send before being asked to slow down.
    rate_limit_per_minute: int = Field(30, env="RATE_LIMIT_PER_MINUTE")
    # Requests per minute one client address may make to everything but /webhooks/ and /health
    # (429 past it). Behind a proxy, the address is X-Forwarded-For from FORWARDED_ALLOW_IPS.
    rate_limit_per_ip_per_minute: int = Field(120, env="RATE_LIMIT_PER_IP_PER_MINUTE")
    # Any request body over this gets 413 before a route reads it.
    max_request_bytes: int = Field(64 * 1024, env="MAX_REQUEST_BYTES")
    # The public address platforms call (Twilio signs requests over the exact public URL).
    public_base_url: str = Field("http://127.0.0.1:8000", env="PUBLIC_BASE_URL")

    telegram_bot_token: str | None = Field(None, env="TELEGRAM_BOT_TOKEN")
    telegram_secret_token: str | None = Field(None, env="TELEGRAM_SECRET_TOKEN")
    telegram_api_base: str = Field("https://api.telegram.org", env="TELEGRAM_API_BASE")

    whatsapp_verify_token: str | None = Field(None, env="WHATSAPP_VERIFY_TOKEN")
    whatsapp_app_secret: str | None = Field(None, env="WHATSAPP_APP_SECRET")
    whatsapp_access_token: str | None = Field(None, env="WHATSAPP_ACCESS_TOKEN")
    whatsapp_phone_number_id: str | None = Field(None, env="WHATSAPP_PHONE_NUMBER_ID")
    whatsapp_api_base: str = Field("https://graph.facebook.com/v19.0", env="WHATSAPP_API_BASE")

    twilio_account_sid: str | None = Field(None, env="TWILIO_ACCOUNT_SID")
    twilio_auth_token: str | None = Field(None, env="TWILIO_AUTH_TOKEN")
    twilio_api_base: str = Field("https://api.twilio.com", env="TWILIO_API_BASE")
    # The number patients text (SMS) or WhatsApp through Twilio, as Twilio writes it in `From`.
    twilio_messaging_from: str | None = Field(None, env="TWILIO_MESSAGING_FROM")

    # Comma-separated origins that may embed the widget (its own origin always may).
    widget_allowed_origins: str = Field("", env="WIDGET_ALLOWED_ORIGINS")

    def allowed_origins(self) -> list[str]:
        """The gateway's own public origin, then WIDGET_ALLOWED_ORIGINS."""
        origins = [
            o.strip().rstrip("/") for o in self.widget_allowed_origins.split(",") if o.strip()
        ]
        return [self.public_base_url.rstrip("/"), *origins]

    class Config:
        case_sensitive = False


@functools.lru_cache(maxsize=1)
def gateway_settings() -> GatewaySettings:
    """The settings, read once per process."""
    return GatewaySettings()
