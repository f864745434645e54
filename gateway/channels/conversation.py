"""The one path every platform's messages take once verified: drop replays, rate-limit per
sender, ask Rasa (through its `gateway` channel, with the patient's channel name), and hand the
replies back for the platform to render and send."""

from __future__ import annotations

import logging
import math
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import datetime, timezone

import httpx
from starlette.concurrency import run_in_threadpool

from clinic.inbound import first_delivery
from clinic.profile import current_clinic
from gateway.core.config import GatewaySettings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Inbound:
    """A patient's message from a platform, already verified."""

    channel: str  # telegram | whatsapp | sms | phone | web
    sender: str  # the conversation id, e.g. "telegram:123", "whatsapp:+447400123456"
    text: str
    message_id: str | None = None  # the platform's id, to drop replays
    metadata: dict = field(default_factory=dict)  # e.g. {"phone": "+447400123456"}


@dataclass(frozen=True)
class Reply:
    """One message from the assistant, before a platform renders it."""

    text: str = ""
    buttons: tuple[dict, ...] = ()
    custom: dict | None = None


@dataclass(frozen=True)
class Outcome:
    """What became of an inbound message."""

    replies: tuple[Reply, ...] = ()
    replay: bool = False
    limited: bool = False


WINDOW_SECONDS = 60


class RateLimiter:
    """At most `limit` messages per sender (or client address) per minute: a sliding window, in
    this process. Keys that have gone quiet are forgotten once a minute, so it does not grow."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._seen: dict[str, deque[float]] = defaultdict(deque)
        self._next_sweep = 0.0

    def allow(self, key: str, now: float | None = None) -> bool:
        """Whether this sender may send another message now."""
        now = time.monotonic() if now is None else now
        if now >= self._next_sweep:
            self.forget_idle(now)
            self._next_sweep = now + WINDOW_SECONDS
        window = self._seen[key]
        while window and now - window[0] > WINDOW_SECONDS:
            window.popleft()
        if len(window) >= self.limit:
            return False
        window.append(now)
        return True

    def retry_after(self, key: str, now: float) -> int:
        """Whole seconds until `key` may send again (at least 1)."""
        window = self._seen.get(key)
        if not window:
            return 1
        return max(1, math.ceil(WINDOW_SECONDS - (now - window[0])))

    def forget_idle(self, now: float) -> None:
        """Drop keys with nothing left in their window."""
        for key in [k for k, w in self._seen.items() if not w or now - w[-1] > WINDOW_SECONDS]:
            del self._seen[key]


class Conversations:
    """The shared path from a verified message to the assistant's replies."""

    def __init__(self, settings: GatewaySettings, client: httpx.AsyncClient) -> None:
        self.settings = settings
        self.client = client
        self.limiter = RateLimiter(settings.rate_limit_per_minute)

    def front_desk(self) -> str:
        """The clinic's front desk number, for messages when something fails."""
        return current_clinic(self.settings.clinic_file).phones.front_desk

    async def handle(self, inbound: Inbound) -> Outcome:
        """Replays are acknowledged and ignored; floods get one polite answer; others go to Rasa."""
        if inbound.message_id:
            fresh = await run_in_threadpool(
                first_delivery,
                self.settings.database_url,
                inbound.channel,
                inbound.message_id,
                datetime.now(timezone.utc),
            )
            if not fresh:
                logger.info("replayed %s message dropped", inbound.channel)
                return Outcome(replay=True)
        if not self.limiter.allow(f"{inbound.channel}:{inbound.sender}"):
            logger.warning("%s sender over the rate limit", inbound.channel)
            text = "You're sending messages very quickly. Please wait a moment and try again."
            return Outcome(replies=(Reply(text),), limited=True)
        return Outcome(replies=tuple(await self.ask_rasa(inbound)))

    async def ask_rasa(self, inbound: Inbound) -> list[Reply]:
        """The assistant's replies; if Rasa fails, a graceful message with the clinic's number."""
        body = {
            "sender": inbound.sender,
            "message": inbound.text,
            "channel": inbound.channel,
            "metadata": inbound.metadata,
        }
        try:
            response = await self.client.post(
                f"{self.settings.rasa_url}/webhooks/gateway/webhook",
                json=body,
                timeout=self.settings.rasa_timeout_seconds,
            )
            response.raise_for_status()
            messages = response.json()
        except (httpx.HTTPError, ValueError) as error:
            logger.error(
                "the assistant could not answer a %s message: %s",
                inbound.channel,
                type(error).__name__,
            )
            return [
                Reply(
                    f"Sorry, I can't answer just now. Please call us on {self.front_desk()}.",
                    custom={"unavailable": True},
                )
            ]
        return [
            Reply(
                text=m.get("text") or "",
                buttons=tuple(m.get("buttons") or ()),
                custom=m.get("custom"),
            )
            for m in messages
            if m.get("text") or m.get("buttons") or m.get("custom")
        ]
