"""WhatsApp through Meta's Cloud API: `GET /webhooks/whatsapp` (the verify handshake) and
`POST /webhooks/whatsapp`, checked by X-Hub-Signature-256 over the raw body.

Up to three buttons with short titles become reply buttons (titles at most 20 characters);
more, or longer titles, become a list (at most 10 rows). Replies go out within the 24-hour
customer-service window that the patient's own message opens, so no template is needed.
"""

from __future__ import annotations

import contextlib
import json
import re

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.responses import PlainTextResponse

from gateway.channels.conversation import Conversations, Inbound, Reply
from gateway.channels.deps import conversations, platform
from gateway.channels.outbound import Platform, PlatformUnavailable
from gateway.channels.render import split_text
from gateway.channels.signatures import meta_signature_valid, same_secret
from gateway.core.config import GatewaySettings
from gateway.core.deps import get_settings

router = APIRouter(tags=["channels"])

BUTTON_TITLE, ROW_TITLE, ROW_DESCRIPTION, MAX_BUTTONS, MAX_ROWS = 20, 24, 72, 3, 10
BODY_LIMIT = 1024  # an interactive message's body
ABBREVIATIONS = [
    (day, day[:3])
    for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
] + [
    (month, month[:3])
    for month in (
        "January",
        "February",
        "March",
        "April",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    )
]


def short_title(title: str, limit: int) -> str:
    """A title within the platform's limit: dates abbreviated first, then cut with an ellipsis."""
    if len(title) <= limit:
        return title
    for long, short in ABBREVIATIONS:
        title = re.sub(rf"\b{long}\b", short, title)
    title = title.replace(" at ", " ")
    return title if len(title) <= limit else title[: limit - 1].rstrip() + "…"


def interactive(reply: Reply, body_text: str) -> dict:
    """Reply buttons when they fit, otherwise a list."""
    buttons = list(reply.buttons)[:MAX_ROWS]
    if len(buttons) <= MAX_BUTTONS and all(len(b["title"]) <= BUTTON_TITLE for b in buttons):
        return {
            "type": "button",
            "body": {"text": body_text},
            "action": {
                "buttons": [
                    {"type": "reply", "reply": {"id": b["payload"][:256], "title": b["title"]}}
                    for b in buttons
                ]
            },
        }
    rows = []
    for b in buttons:
        row = {"id": b["payload"][:200], "title": short_title(b["title"], ROW_TITLE)}
        if row["title"] != b["title"]:
            row["description"] = b["title"][:ROW_DESCRIPTION]
        rows.append(row)
    return {
        "type": "list",
        "body": {"text": body_text},
        "action": {"button": "Choose", "sections": [{"title": "Options", "rows": rows}]},
    }


async def send_replies(
    settings: GatewaySettings, api: Platform, to: str, replies: tuple[Reply, ...]
) -> None:
    """Text in pieces of 4096 characters; buttons as an interactive message after the text."""
    url = f"{settings.whatsapp_api_base}/{settings.whatsapp_phone_number_id}/messages"
    headers = {"Authorization": f"Bearer {settings.whatsapp_access_token}"}
    base = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to}

    async def send_text(text: str) -> None:
        for piece in split_text(text):
            await api.post(
                url,
                "send text",
                headers=headers,
                json={**base, "type": "text", "text": {"body": piece}},
            )

    for reply in replies:
        if reply.buttons:
            fits = len(reply.text) <= BODY_LIMIT and reply.text
            if not fits:
                await send_text(reply.text)
            body_text = reply.text if fits else "Please choose:"
            await api.post(
                url,
                "send interactive",
                headers=headers,
                json={**base, "type": "interactive", "interactive": interactive(reply, body_text)},
            )
        else:
            await send_text(reply.text)


def _text_of(message: dict) -> str | None:
    kind = message.get("type")
    if kind == "text":
        return (message.get("text") or {}).get("body")
    if kind == "interactive":
        answer = message.get("interactive") or {}
        return ((answer.get("button_reply") or answer.get("list_reply")) or {}).get("id")
    if kind == "button":  # a quick-reply button on a template
        return (message.get("button") or {}).get("payload")
    return None


@router.get("/webhooks/whatsapp", response_class=PlainTextResponse, responses={403: {}})
async def whatsapp_verify(
    mode: str | None = Query(None, alias="hub.mode"),
    token: str | None = Query(None, alias="hub.verify_token"),
    challenge: str | None = Query(None, alias="hub.challenge"),
    settings: GatewaySettings = Depends(get_settings),
) -> str:
    """Meta's subscription handshake: echo the challenge if the verify token is ours."""
    if (
        mode != "subscribe"
        or not same_secret(token, settings.whatsapp_verify_token)
        or not challenge
    ):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "verification failed")
    return challenge


@router.post("/webhooks/whatsapp", responses={400: {}, 403: {}, 503: {}})
async def whatsapp_webhook(
    request: Request,
    settings: GatewaySettings = Depends(get_settings),
    talk: Conversations = Depends(conversations),
) -> dict:
    """Messages from Meta: each text or button answer goes to the assistant once."""
    if not (
        settings.whatsapp_app_secret
        and settings.whatsapp_access_token
        and settings.whatsapp_phone_number_id
    ):
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "WhatsApp is not configured")
    raw = await request.body()
    if not meta_signature_valid(
        raw, request.headers.get("x-hub-signature-256"), settings.whatsapp_app_secret
    ):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "bad signature")
    try:
        payload = json.loads(raw)
        messages = [
            message
            for entry in payload["entry"]
            for change in entry.get("changes", [])
            for message in change["value"].get("messages") or []  # receipts are skipped
        ]
        found = [(_text_of(m), m.get("from"), m.get("id")) for m in messages]
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "not a WhatsApp webhook") from error
    api = platform(request, "whatsapp")
    for text, wa_id, message_id in found:
        if not (isinstance(text, str) and text and isinstance(wa_id, str) and message_id):
            continue
        phone = f"+{wa_id}"
        outcome = await talk.handle(
            Inbound("whatsapp", f"whatsapp:{phone}", text, str(message_id), {"phone": phone})
        )
        # Retried and logged on failure; a redelivery would be dropped as a replay.
        with contextlib.suppress(PlatformUnavailable):
            await send_replies(settings, api, wa_id, outcome.replies)
    return {"ok": True}
