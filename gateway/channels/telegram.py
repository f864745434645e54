"""Telegram: `POST /webhooks/telegram`, checked by the secret token Telegram echoes back.

Buttons become an inline keyboard; a pressed button arrives as a callback query, which is
answered (so the patient's client stops its spinner) and handled like a typed message.
"""

from __future__ import annotations

import contextlib
import json
from datetime import datetime, timezone

from fastapi import APIRouter, Depends, Header, HTTPException, Request, status
from starlette.concurrency import run_in_threadpool

from clinic.inbound import payload_for_token, token_for_payload
from gateway.channels.conversation import Conversations, Inbound, Reply
from gateway.channels.deps import conversations, platform
from gateway.channels.outbound import Platform, PlatformUnavailable
from gateway.channels.render import split_text
from gateway.channels.signatures import same_secret
from gateway.core.config import GatewaySettings
from gateway.core.deps import get_settings

router = APIRouter(tags=["channels"])

CALLBACK_LIMIT = 64  # bytes Telegram allows in callback_data
TOKEN_PREFIX = "t:"


def _api(settings: GatewaySettings, method: str) -> str:
    return f"{settings.telegram_api_base}/bot{settings.telegram_bot_token}/{method}"


async def _callback_data(settings: GatewaySettings, payload: str) -> str:
    if len(payload.encode()) <= CALLBACK_LIMIT and not payload.startswith(TOKEN_PREFIX):
        return payload
    token = await run_in_threadpool(
        token_for_payload, settings.database_url, payload, datetime.now(timezone.utc)
    )
    return TOKEN_PREFIX + token


async def _payload(settings: GatewaySettings, data: str) -> str:
    if data.startswith(TOKEN_PREFIX):
        found = await run_in_threadpool(
            payload_for_token, settings.database_url, data[len(TOKEN_PREFIX) :]
        )
        return found or ""
    return data


async def send_replies(
    settings: GatewaySettings, api: Platform, chat_id: int, replies: tuple[Reply, ...]
) -> None:
    """Each reply as one or more messages (4096 characters each); buttons on the last piece."""
    for reply in replies:
        pieces = split_text(reply.text) or [""]
        for index, piece in enumerate(pieces):
            body: dict = {"chat_id": chat_id, "text": piece or "Please choose:"}
            if reply.buttons and index == len(pieces) - 1:
                body["reply_markup"] = {
                    "inline_keyboard": [
                        [
                            {
                                "text": b["title"],
                                "callback_data": await _callback_data(settings, b["payload"]),
                            }
                        ]
                        for b in reply.buttons
                    ]
                }
            await api.post(_api(settings, "sendMessage"), "sendMessage", json=body)


def _chat_id(value) -> int:
    """A chat id is an integer (a JSON number); anything else is not a Telegram update."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("chat id is not an integer")
    return value


@router.post("/webhooks/telegram", responses={400: {}, 403: {}, 503: {}})
async def telegram_webhook(
    request: Request,
    x_telegram_bot_api_secret_token: str | None = Header(None),
    settings: GatewaySettings = Depends(get_settings),
    talk: Conversations = Depends(conversations),
) -> dict:
    """An update from Telegram: a message, or a button pressed."""
    if not (settings.telegram_bot_token and settings.telegram_secret_token):
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "Telegram is not configured")
    if not same_secret(x_telegram_bot_api_secret_token, settings.telegram_secret_token):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "bad secret token")
    try:
        update = json.loads(await request.body())
        update_id = int(update["update_id"])
    except (ValueError, KeyError, TypeError, IndexError, OverflowError) as error:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "not a Telegram update") from error
    api = platform(request, "telegram")
    callback, message = update.get("callback_query"), update.get("message")
    try:
        if isinstance(callback, dict):
            chat_id = _chat_id(callback["message"]["chat"]["id"])
            text = await _payload(settings, str(callback.get("data") or ""))
            await api.post(
                _api(settings, "answerCallbackQuery"),
                "answerCallbackQuery",
                json={"callback_query_id": callback["id"]},
            )
        elif isinstance(message, dict) and isinstance(message.get("text"), str):
            chat_id, text = _chat_id(message["chat"]["id"]), message["text"]
        else:
            return {"ok": True}  # stickers, joins, edits: nothing to answer
    except (KeyError, TypeError) as error:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "not a Telegram update") from error
    except PlatformUnavailable:
        pass  # the answer to the button press is cosmetic; the reply still goes out below
    outcome = await talk.handle(Inbound("telegram", f"telegram:{chat_id}", text, str(update_id)))
    # Already retried with back-off and logged on failure; a Telegram retry of the update would
    # be dropped as a replay, so the update is acknowledged either way.
    with contextlib.suppress(PlatformUnavailable):
        await send_replies(settings, api, chat_id, outcome.replies)
    return {"ok": True}
