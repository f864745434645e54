"""How the benchmark's patients reach the assistant: Rasa's REST channel directly, or the gateway
as each platform would call it (signed exactly as the platform signs), reading the reply back
from the fake platform server that received it."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import httpx

from bench.load import BadReply, Begin, Send, Turn
from gateway.channels.signatures import twilio_signature

CALLBACK, BUTTON = "\x00callback:", "\x00button:"


@dataclass(frozen=True)
class Target:
    """Where the stack under test listens, and the secrets its gateway checks.

    Senders are 8 digits (a 2-digit run prefix and a counter): Telegram chat ids, and UK mobile
    numbers (+44 74...) on WhatsApp, SMS and the phone line."""

    rasa: str
    gateway: str = ""
    fake: str = ""
    telegram_secret: str = "bench-telegram-secret"
    meta_secret: str = "bench-meta-secret"
    twilio_token: str = "bench-twilio-token"


def rest(target: Target) -> Send:
    """Rasa's REST channel: the reply is in the response."""

    async def send(client: httpx.AsyncClient, sender: str, text: str) -> Turn:
        response = await client.post(
            f"{target.rasa}/webhooks/rest/webhook", json={"sender": sender, "message": text}
        )
        if response.status_code != 200:
            raise BadReply(f"HTTP {response.status_code}")
        replies = response.json()
        if not replies:
            raise BadReply("no reply")
        return Turn(
            " ".join(r.get("text") or "" for r in replies),
            [b["payload"] for r in replies for b in r.get("buttons", [])],
        )

    return send


def widget(target: Target) -> Send:
    """The website widget's chat API, from the clinic's own page."""

    async def send(client: httpx.AsyncClient, sender: str, text: str) -> Turn:
        response = await client.post(
            f"{target.gateway}/api/chat",
            json={"sender": sender, "message": text},
            headers={"Origin": target.gateway},
        )
        if response.status_code != 200:
            raise BadReply(f"HTTP {response.status_code}")
        replies = response.json()["replies"]
        if not replies:
            raise BadReply("no reply")
        return Turn(
            " ".join(r["text"] for r in replies),
            [b["payload"] for r in replies for b in r["buttons"]],
        )

    return send


class Delivered:
    """The messages a fake platform received for each recipient, read after each webhook."""

    def __init__(self, target: Target, platform: str) -> None:
        self.url = f"{target.fake}/_sent/{platform}"
        self.seen: dict[str, int] = {}

    async def new(self, client: httpx.AsyncClient, recipient: str) -> list[dict]:
        response = await client.get(f"{self.url}/{recipient}")
        sent = response.json()
        fresh = sent[self.seen.get(recipient, 0) :]
        self.seen[recipient] = len(sent)
        if not fresh:
            raise BadReply("nothing delivered")
        return fresh


def telegram(target: Target) -> Send:
    """Telegram's webhook with its secret token; the reply is read from the fake Bot API."""
    # Update ids are unique across runs: the gateway drops a repeated one as a replay.
    delivered = Delivered(target, "telegram")
    update_ids = itertools.count(uuid.uuid4().int % 10**12)
    headers = {"X-Telegram-Bot-Api-Secret-Token": target.telegram_secret}

    async def send(client: httpx.AsyncClient, sender: str, text: str) -> Turn:
        chat = int(sender)
        update: dict = {"update_id": next(update_ids)}
        if text.startswith(CALLBACK):
            update["callback_query"] = {
                "id": f"cb{update['update_id']}",
                "data": text[len(CALLBACK) :],
                "message": {"message_id": 1, "chat": {"id": chat, "type": "private"}},
            }
        else:
            update["message"] = {
                "message_id": update["update_id"],
                "chat": {"id": chat, "type": "private"},
                "text": text,
            }
        response = await client.post(
            f"{target.gateway}/webhooks/telegram", json=update, headers=headers
        )
        if response.status_code != 200:
            raise BadReply(f"HTTP {response.status_code}")
        messages = [m["json"] for m in await delivered.new(client, sender)]
        messages = [m for m in messages if "text" in m]  # not the answered callback queries
        keyboard = [
            row[0]["callback_data"]
            for m in messages
            for row in (m.get("reply_markup") or {}).get("inline_keyboard", [])
        ]
        return Turn(" ".join(m["text"] for m in messages), [CALLBACK + d for d in keyboard])

    return send


def whatsapp(target: Target) -> Send:
    """Meta's webhook signed with the app secret; the reply is read from the fake Graph API."""
    delivered, ids = Delivered(target, "whatsapp"), itertools.count(uuid.uuid4().int % 10**12)

    async def send(client: httpx.AsyncClient, sender: str, text: str) -> Turn:
        wa_id = f"4474{sender}"
        message: dict = {"from": wa_id, "id": f"wamid.bench{next(ids)}", "timestamp": "1"}
        if text.startswith(BUTTON):
            reply = {"id": text[len(BUTTON) :], "title": "option"}
            message.update(
                type="interactive", interactive={"type": "list_reply", "list_reply": reply}
            )
        else:
            message.update(type="text", text={"body": text})
        value = {"messaging_product": "whatsapp", "messages": [message]}
        payload = {
            "object": "whatsapp_business_account",
            "entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}],
        }
        raw = json.dumps(payload).encode()
        signature = hmac.new(target.meta_secret.encode(), raw, hashlib.sha256).hexdigest()
        response = await client.post(
            f"{target.gateway}/webhooks/whatsapp",
            content=raw,
            headers={
                "Content-Type": "application/json",
                "X-Hub-Signature-256": f"sha256={signature}",
            },
        )
        if response.status_code != 200:
            raise BadReply(f"HTTP {response.status_code}")
        texts, options = [], []
        for sent in await delivered.new(client, wa_id):
            body = sent["json"]
            if body["type"] == "text":
                texts.append(body["text"]["body"])
                continue
            interactive = body["interactive"]
            texts.append(interactive["body"]["text"])
            action = interactive["action"]
            options += [b["reply"]["id"] for b in action.get("buttons", [])]
            options += [r["id"] for s in action.get("sections", []) for r in s["rows"]]
        return Turn(" ".join(texts), [BUTTON + o for o in options])

    return send


def twilio_post(
    client: httpx.AsyncClient, target: Target, path: str, form: dict[str, str]
) -> httpx.Response:
    """A request signed as Twilio signs it (the gateway's public URL is its own address here)."""
    signature = twilio_signature(target.twilio_token, target.gateway + path, form)
    return client.post(target.gateway + path, data=form, headers={"X-Twilio-Signature": signature})


def sms(target: Target) -> Send:
    """Twilio's messaging webhook; the reply is read from the fake Twilio Messages API."""
    delivered, sids = Delivered(target, "twilio"), itertools.count(1)

    async def send(client: httpx.AsyncClient, sender: str, text: str) -> Turn:
        number = f"+4474{sender}"
        form = {
            "From": number,
            "To": "+441174960000",
            "Body": text,
            "MessageSid": f"SMbench{sender}{next(sids)}",
            "AccountSid": "ACbench",
        }
        response = await twilio_post(client, target, "/webhooks/twilio/messaging", form)
        if response.status_code != 200:
            raise BadReply(f"HTTP {response.status_code}")
        bodies = [m["form"]["Body"] for m in await delivered.new(client, number)]
        text = " ".join(bodies)
        return Turn(text, re.findall(r"^(\d+)\. ", "\n".join(bodies), flags=re.MULTILINE))

    return send


def phone(target: Target) -> tuple[Send, Begin]:
    """Twilio Voice: the call's first TwiML, then one TwiML turn per thing the caller says."""

    def call_form(sender: str) -> dict[str, str]:
        return {
            "CallSid": f"CAbench{sender}",
            "From": f"+4474{sender}",
            "To": "+441174960123",
            "AccountSid": "ACbench",
        }

    def spoken(response: httpx.Response) -> Turn:
        if response.status_code != 200:
            raise BadReply(f"HTTP {response.status_code}")
        root = ET.fromstring(response.text)
        said = " ".join(s.text or "" for s in root.iter("Say"))
        if not said:
            raise BadReply("nothing said")
        return Turn(said, re.findall(r"Press (\d) for", said))

    async def begin(client: httpx.AsyncClient, sender: str) -> None:
        spoken(await twilio_post(client, target, "/webhooks/twilio/voice", call_form(sender)))

    async def send(client: httpx.AsyncClient, sender: str, text: str) -> Turn:
        form = call_form(sender)
        form.update(
            {"Digits": text} if text.isdigit() else {"SpeechResult": text, "Confidence": "0.9"}
        )
        return spoken(
            await twilio_post(client, target, "/webhooks/twilio/voice/turn?attempt=0", form)
        )

    return send, begin
