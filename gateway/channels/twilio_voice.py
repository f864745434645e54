"""The clinic's phone line through Twilio Voice: TwiML, checked by X-Twilio-Signature.

`POST /webhooks/twilio/voice` answers a call: the clinic's name, the emergency notice (once per
call), and a keypad menu, inside `<Gather input="speech dtmf">` so callers can interrupt.
`POST /webhooks/twilio/voice/turn` takes each answer (speech or keys): 1 books, 2 asks a
question, 0 is the front desk (`<Dial>` while open, a callback request when closed); offered
options are pressed by number; silence gets two re-prompts, then the front desk.
"""

from __future__ import annotations

import functools
import re
import xml.etree.ElementTree as ET
from datetime import datetime, timezone

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from clinic import facts
from clinic.handoff import request_handoff
from clinic.inbound import option_for, remember_options
from clinic.language.vocabulary import load_vocabulary
from clinic.profile import ClinicProfile, current_clinic
from clinic.settings import PROJECT_ROOT
from gateway.channels.conversation import Conversations, Inbound, Reply
from gateway.channels.deps import conversations
from gateway.channels.render import spoken
from gateway.channels.twilio_messaging import verified_form
from gateway.core.config import GatewaySettings
from gateway.core.deps import get_settings

router = APIRouter(tags=["channels"])

TURN = "/webhooks/twilio/voice/turn"
YES_NO = {"/affirm", "/deny"}
MENU = {"1": "I'd like to book a consultation"}
HINT_LABELS = ("TREATMENT", "SKIN_CONCERN", "BODY_AREA")


@functools.lru_cache(maxsize=1)
def speech_hints() -> str:
    """Words the speech recogniser should expect: the clinic vocabulary's names for treatments,
    concerns and areas, and the words of booking."""
    terms = load_vocabulary(PROJECT_ROOT / "knowledge" / "vocabulary.yml")
    words = [
        "microneedling",
        "consultation",
        "appointment",
        "book",
        "cancel",
        "reschedule",
        "front desk",
        "yes",
        "no",
    ]
    words += [t.phrases[0] for t in terms if t.label in HINT_LABELS]
    return ", ".join(dict.fromkeys(words))[:2000]


def language_of(clinic: ClinicProfile) -> str:
    """The Twilio language code for speech: English in the clinic's country (en-GB)."""
    return f"{clinic.languages[0]}-{clinic.address.country}"


def twiml(*verbs: ET.Element) -> Response:
    """A TwiML response with these verbs."""
    root = ET.Element("Response")
    root.extend(verbs)
    body = '<?xml version="1.0" encoding="UTF-8"?>' + ET.tostring(root, encoding="unicode")
    return Response(body, media_type="text/xml")


def say(text: str, clinic: ClinicProfile) -> ET.Element:
    """<Say> in the clinic's language."""
    element = ET.Element("Say", {"language": language_of(clinic)})
    element.text = text
    return element


def gather(text: str, clinic: ClinicProfile, attempt: int = 0) -> ET.Element:
    """<Gather input="speech dtmf"> wrapping the <Say>, so the caller can speak or press a key
    at any time, even over the assistant."""
    element = ET.Element(
        "Gather",
        {
            "input": "speech dtmf",
            "action": f"{TURN}?attempt={attempt}",
            "method": "POST",
            "numDigits": "1",
            "timeout": "6",
            "speechTimeout": "auto",
            "language": language_of(clinic),
            "hints": speech_hints(),
            "actionOnEmptyResult": "true",
        },
    )
    element.append(say(text, clinic))
    return element


def transfer(
    clinic: ClinicProfile, settings: GatewaySettings, caller: str, channel_id: str
) -> Response:
    """The front desk: <Dial> while the clinic is open; otherwise a callback request for staff."""
    now = datetime.now(timezone.utc)
    if clinic.is_open(now):
        dial = ET.Element("Dial", {"timeout": "25"})
        dial.text = clinic.phones.front_desk
        return twiml(
            say("Putting you through to the front desk now.", clinic),
            dial,
            say(
                "Sorry, nobody could answer. The team will call you back as soon as they can.",
                clinic,
            ),
        )
    receipt = request_handoff(
        settings.database_url,
        clinic,
        channel_id,
        "phone",
        "patient_request",
        now,
        detail="callback requested by phone",
    )
    when = facts.when_text(clinic, receipt.reply_by, now) if receipt.reply_by else "when we reopen"
    return twiml(
        say(
            f"The front desk is closed now. I've asked the team to call you back on this number "
            f"when we open, {when}. If it's an emergency, hang up and call "
            f"{clinic.phones.emergency}. "
            "Goodbye.",
            clinic,
        ),
        ET.Element("Hangup"),
    )


@router.post("/webhooks/twilio/voice", responses={403: {}, 503: {}})
async def voice_call(
    request: Request, settings: GatewaySettings = Depends(get_settings)
) -> Response:
    """A call starts: greeting, the emergency notice (once per call) and the keypad menu."""
    await verified_form(request, settings)
    clinic = current_clinic(settings.clinic_file)
    return twiml(
        gather(
            f"Hello, you're through to {clinic.name}'s automated assistant. "
            f"If this is an emergency, please hang up and call {clinic.phones.emergency}. "
            "Ask me anything about microneedling, "
            "or press 1 to book a consultation, 2 to ask a question, or 0 for the front desk.",
            clinic,
        )
    )


def voice_reply(replies: tuple[Reply, ...]) -> tuple[str, list[str], bool]:
    """What to say, the options a key press can choose, and whether a person was asked for."""
    texts = [spoken(r.text) for r in replies if r.text]
    handoff = any((r.custom or {}).get("handoff") for r in replies)
    buttons = [b for r in replies for b in r.buttons]
    options: list[str] = []
    if buttons and {b["payload"] for b in buttons} <= YES_NO:
        if not any("yes or no" in t.lower() for t in texts):
            texts.append("Please say yes or no.")
    elif buttons:
        options = [b["payload"] for b in buttons]
        texts.append(
            " ".join(f"Press {n} for {b['title']}." for n, b in enumerate(buttons, start=1))
        )
    return " ".join(texts), options, handoff


@router.post(TURN, responses={403: {}, 503: {}})
async def voice_turn(
    request: Request,
    settings: GatewaySettings = Depends(get_settings),
    talk: Conversations = Depends(conversations),
) -> Response:
    """One answer from the caller: keys, speech, or nothing."""
    form = await verified_form(request, settings)
    clinic = current_clinic(settings.clinic_file)
    caller, call = form.get("From", ""), form.get("CallSid", "")
    conversation = f"phone:{caller}"
    given_attempt = request.query_params.get("attempt", "0")
    attempt = min(int(given_attempt), 9) if given_attempt.isdecimal() else 0
    # Keys only: "*", "#" and anything else a form could carry are not a choice.
    digits = "".join(c for c in form.get("Digits") or "" if c in "0123456789")[:3]
    speech = (form.get("SpeechResult") or "").strip()

    if digits == "0" or re.search(r"\b(front desk|operator|receptionist)\b", speech.lower()):
        return await run_in_threadpool(transfer, clinic, settings, caller, conversation)
    if digits:
        chosen = await run_in_threadpool(
            option_for, settings.database_url, conversation, int(digits)
        )
        if chosen:
            speech = chosen
        elif digits == "2":
            return twiml(gather("Go ahead: ask your question.", clinic))
        elif digits in MENU:
            speech = MENU[digits]
    if not speech:
        if attempt >= 2:
            return twiml(
                say("I'm sorry, I'm having trouble hearing you.", clinic),
                *_redirect_to_front_desk(clinic, settings, caller, conversation),
            )
        return twiml(
            gather(
                "Sorry, I didn't catch that. You can ask your question, or press 0 for "
                "the front desk.",
                clinic,
                attempt + 1,
            )
        )

    # No replay check here: a voice turn has no message id, and Twilio waits for this TwiML.
    outcome = await talk.handle(
        Inbound("phone", conversation, speech, None, {"phone": caller, "call_sid": call})
    )
    if any((r.custom or {}).get("unavailable") for r in outcome.replies):
        # The assistant can't answer now: the caller goes to a person, not to silence.
        return twiml(
            say("Sorry, I can't answer that just now.", clinic),
            *_redirect_to_front_desk(clinic, settings, caller, conversation),
        )
    text, options, handoff = voice_reply(outcome.replies)
    await run_in_threadpool(
        remember_options, settings.database_url, conversation, options, datetime.now(timezone.utc)
    )
    if handoff:
        return twiml(
            say(text, clinic),
            *_redirect_to_front_desk(clinic, settings, caller, conversation, recorded=True),
        )
    return twiml(gather(text or "Sorry, I didn't catch that.", clinic))


def _redirect_to_front_desk(
    clinic, settings, caller, conversation, recorded: bool = False
) -> list[ET.Element]:
    """The front desk's verbs (for inside a response that already said something)."""
    if clinic.is_open(datetime.now(timezone.utc)):
        dial = ET.Element("Dial", {"timeout": "25"})
        dial.text = clinic.phones.front_desk
        return [say("Putting you through to the front desk.", clinic), dial]
    if not recorded:
        request_handoff(
            settings.database_url,
            clinic,
            conversation,
            "phone",
            "patient_request",
            datetime.now(timezone.utc),
            detail="callback requested by phone",
        )
    return [
        say("The team will call you back on this number when we open. Goodbye.", clinic),
        ET.Element("Hangup"),
    ]
