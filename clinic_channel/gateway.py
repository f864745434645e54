"""`POST /webhooks/gateway/webhook` on the Rasa server: {sender, message, channel, metadata}.

Only the gateway calls it (Rasa listens on loopback or an internal network). The output channel
is named after the patient's channel, so Rasa picks each response's variant for that channel,
and actions see the channel as the latest input channel.
"""

from __future__ import annotations

import logging
from asyncio import CancelledError
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from clinic_nlu.resilience import MessageGivenUp

logger = logging.getLogger(__name__)

CHANNELS = {"telegram", "whatsapp", "sms", "phone", "web", "rest"}


class ChannelCollector(CollectingOutputChannel):
    """Collects the replies, under the patient's channel's name."""

    def __init__(self, channel: str) -> None:
        super().__init__()
        self._channel = channel

    def name(self) -> str:  # type: ignore[override]
        """The patient's channel (telegram, whatsapp, sms, phone, web)."""
        return self._channel


class GatewayInput(InputChannel):
    """The gateway's way into Rasa."""

    @classmethod
    def name(cls) -> str:
        """Mounted at /webhooks/gateway."""
        return "gateway"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """The health route and the message route."""
        blueprint = Blueprint("gateway_webhook", __name__)

        @blueprint.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @blueprint.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            body = request.json if isinstance(request.json, dict) else {}
            sender, text = body.get("sender"), body.get("message")
            channel, metadata = body.get("channel"), body.get("metadata") or {}
            if not (isinstance(sender, str) and sender and isinstance(text, str)):
                return response.json({"error": "sender and message are required"}, status=400)
            if channel not in CHANNELS or not isinstance(metadata, dict):
                return response.json(
                    {"error": f"channel must be one of {sorted(CHANNELS)}"}, status=400
                )
            collector = ChannelCollector(channel)
            try:
                await on_new_message(
                    UserMessage(text, collector, sender, input_channel=channel, metadata=metadata)
                )
            except MessageGivenUp as given_up:
                # Nothing of this message was saved: the patient can simply say it again.
                logger.error("%s (channel %s): the message is given up", given_up, channel)
                return response.json({"error": "a service the assistant needs is down"}, status=503)
            except CancelledError:
                logger.error("gateway message timed out (channel %s)", channel)
                return response.json({"error": "timed out"}, status=504)
            except Exception as error:  # the gateway answers the patient; nothing is lost silently
                logger.error(
                    "gateway message failed (channel %s): %s", channel, type(error).__name__
                )
                return response.json({"error": "the assistant failed"}, status=500)
            return response.json(collector.messages)

        return blueprint
