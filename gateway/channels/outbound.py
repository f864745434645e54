"""Calls to the platforms (Telegram Bot API, Meta Graph API, Twilio REST), to configured base
URLs: retried with back-off on server errors and timeouts, logged without message content or
secrets (Telegram's URLs carry the bot token, so URLs are never logged)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx

logger = logging.getLogger(__name__)


class PlatformUnavailable(RuntimeError):
    """The platform did not accept the call after every retry."""


class Platform:
    """One platform's API, as a client that retries."""

    def __init__(
        self,
        name: str,
        client: httpx.AsyncClient,
        retries: int = 3,
        backoff_seconds: float = 0.5,
        timeout_seconds: float = 10,
    ) -> None:
        self.name = name
        self.client = client
        self.retries = retries
        self.backoff_seconds = backoff_seconds
        self.timeout_seconds = timeout_seconds

    async def post(self, url: str, what: str, **kwargs: Any) -> httpx.Response:
        """POST, retrying on 5xx and transport errors; `what` names the call in the logs."""
        for attempt in range(1, self.retries + 2):
            try:
                response = await self.client.post(url, timeout=self.timeout_seconds, **kwargs)
            except httpx.TransportError as error:
                logger.warning(
                    "%s %s failed (attempt %d): %s", self.name, what, attempt, type(error).__name__
                )
            else:
                if response.status_code < 500:
                    if response.status_code >= 400:
                        logger.error(
                            "%s refused %s: HTTP %d", self.name, what, response.status_code
                        )
                    else:
                        logger.info("%s %s: HTTP %d", self.name, what, response.status_code)
                    return response
                logger.warning(
                    "%s %s: HTTP %d (attempt %d)", self.name, what, response.status_code, attempt
                )
            if attempt <= self.retries:
                await asyncio.sleep(self.backoff_seconds * 2 ** (attempt - 1))
        logger.error("%s %s: gave up after %d attempts", self.name, what, self.retries + 1)
        raise PlatformUnavailable(f"{self.name} {what}")
