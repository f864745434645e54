"""SMS, or WhatsApp through Twilio: `POST /webhooks/twilio/messaging`, checked by
X-Twilio-Signature over the exact public URL and the sorted form fields.

There are no buttons: options are numbered, and a reply of "2" means the second option.
Replies are sent through Twilio's Messages API; the webhook answers with empty TwiML.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from clinic.inbound import option_for, remember_options
from gateway.channels.conversation import Conversations, Inbound
from gateway.channels.deps import conversations, platform
from gateway.channels.outbound import PlatformUnavailable
from gateway.channels.render import numbered, split_text
from gateway.channels.signatures import twilio_signature_valid
from gateway.core.config import GatewaySettings
from gateway.core.deps import get_settings

router = APIRouter(tags=["channels"])

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
SMS_LIMIT = 1600  # characters Twilio accepts in one message


async def verified_form(request: Request, settings: GatewaySettings) -> dict[str, str]:
    """The request's form fields, if Twilio signed them for our public URL; 403 otherwise."""
    if not (settings.twilio_account_sid and settings.twilio_auth_token):
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "Twilio is not configured")
    try:
        form = {key: str(value) for key, value in (await request.form()).items()}
    except Exception as error:  # a body that is not form-encoded
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "not a form") from error
    url = settings.public_base_url.rstrip("/") + request.url.path
    if request.url.query:
        url += "?" + request.url.query
    if not twilio_signature_valid(
        request.headers.get("x-twilio-signature"), settings.twilio_auth_token, url, form
    ):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "bad signature")
    return form


async def chosen_option(settings: GatewaySettings, conversation: str, text: str) -> str:
    """A bare number picks an option from the last numbered list; anything else is itself."""
    if re.fullmatch(r"\s*\d{1,2}\s*", text):
        payload = await run_in_threadpool(
            option_for, settings.database_url, conversation, int(text)
        )
        if payload:
            return payload
    return text


@router.post("/webhooks/twilio/messaging", responses={400: {}, 403: {}, 503: {}})
async def twilio_messaging_webhook(
    request: Request,
    settings: GatewaySettings = Depends(get_settings),
    talk: Conversations = Depends(conversations),
) -> Response:
    """An SMS or a Twilio WhatsApp message."""
    form = await verified_form(request, settings)
    sender, ours, sid = form.get("From", ""), form.get("To", ""), form.get("MessageSid", "")
    if not sender or not sid:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "From and MessageSid are required")
    channel = "whatsapp" if sender.startswith("whatsapp:") else "sms"
    phone = sender.removeprefix("whatsapp:")
    conversation = f"{channel}:{phone}"
    text = await chosen_option(settings, conversation, form.get("Body", ""))
    outcome = await talk.handle(
        Inbound(channel, conversation, text, f"twilio:{sid}", {"phone": phone})
    )
    api = platform(request, "twilio")
    account = settings.twilio_account_sid
    url = f"{settings.twilio_api_base}/2010-04-01/Accounts/{account}/Messages.json"
    auth = (settings.twilio_account_sid, settings.twilio_auth_token)
    payloads: list[str] = []
    try:
        for reply in outcome.replies:
            payloads = [b["payload"] for b in reply.buttons] or payloads
            for piece in split_text(numbered(reply), SMS_LIMIT):
                await api.post(
                    url,
                    "send message",
                    auth=auth,
                    data={
                        "To": sender,
                        "From": settings.twilio_messaging_from or ours,
                        "Body": piece,
                    },
                )
    except PlatformUnavailable:
        pass  # retried and logged; a Twilio retry would be dropped as a replay
    if payloads:
        await run_in_threadpool(
            remember_options,
            settings.database_url,
            conversation,
            payloads,
            datetime.now(timezone.utc),
        )
    return Response(EMPTY_TWIML, media_type="text/xml")
