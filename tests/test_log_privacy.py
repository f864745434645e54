"""No patient's details in any log line: a conversation full of a name, phone numbers, an email,
a date of birth and health details goes through every channel (Rasa's REST channel, Telegram,
WhatsApp through Meta, SMS and WhatsApp through Twilio, the phone line, the widget's API) of a
real stack, including a health check with consent, a booking and a red-flag handoff; then every
log file and every log record captured in this process is searched for each detail: none may be
there.

Rasa and the action server run with `--debug` here: what they print at their normal level (info,
the `rasa run` default) is a subset of that, so this also shows that info prints none of it.
"""

from __future__ import annotations

import logging
import re
import uuid
from pathlib import Path

import httpx
import pytest

import gateway  # noqa: F401 (masks this process's log records too, as in the gateway)
from clinic import redaction
from clinic.store import upgrade_database
from stack import fake_platforms
from stack.processes import (
    ProcessGroup,
    action_server,
    gateway_server,
    rasa_server,
    write_endpoints,
)
from tests.test_channels import (
    MODEL,
    call,
    clinic_file,
    meta_post,
    platform_env,
    sms,
    telegram,
    turn,
    twilio_post,
    twiml,
    wa_message,
)
from tests.test_rest_channel import free_port, texts

NAME = "Philippa Quennell-Drabble"
EMAIL = "philippa.qd@example.org"
PHONE_WRITINGS = ["07400 918461", "+44 7400 918461", "+447400918461", "07400-918-461"]
WHATSAPP_ID = "447400918462"  # Meta's wa_id: the number without the plus
SMS_FROM = "+447400918463"
TWILIO_WHATSAPP_FROM = "whatsapp:+447400918464"
CALLER = "+447400918465"
TELEGRAM_CHAT = 7391046628
DETAILS = [
    "Philippa",
    "Quennell",
    "Drabble",
    EMAIL,
    "03/02/1987",
    "February 1987",
    "14 weeks",
    "pregnant",
    "isotretinoin",
    "keloid",
    "cold sore",
    "on my lip",
    "pus",
    str(TELEGRAM_CHAT),
]
# Phone numbers are also looked for with every separator between digits removed.
PHONE_DIGITS = ["7400918461", "7400918462", "7400918463", "7400918464", "7400918465"]

HEALTH = [
    "I'm 14 weeks pregnant",
    "I take isotretinoin",
    "I've had keloid scars",
    "I have a cold sore on my lip",
]


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """Fake platforms, Rasa (also writing its own log file), the action server and the gateway,
    each process's output in its own log file."""
    assert MODEL.exists(), "no trained model: `make test` trains it first"
    tmp = tmp_path_factory.mktemp("log-privacy")
    fake, fake_server = fake_platforms.start(free_port())
    database_url = f"sqlite:///{tmp / 'clinic.db'}"
    upgrade_database(database_url)
    ports = {name: free_port() for name in ("rasa", "actions", "gateway")}
    endpoints = write_endpoints(tmp / "endpoints.yml", ports["actions"], tmp / "tracker.db")
    opened = clinic_file(tmp, ["00:00-23:59"])
    actions = action_server(ports["actions"])
    actions.command = [*actions.command, "--debug"]
    actions.env.update(DATABASE_URL=database_url, CLINIC_FILE=str(opened))
    rasa = rasa_server(
        MODEL, ports["rasa"], endpoints, extra=["--debug", "--log-file", str(tmp / "rasa-own.log")]
    )
    url = f"http://127.0.0.1:{ports['gateway']}"
    gateway_service = gateway_server(
        ports["gateway"],
        {
            "DATABASE_URL": database_url,
            "CLINIC_FILE": str(opened),
            "RASA_URL": f"http://127.0.0.1:{ports['rasa']}",
            "PUBLIC_BASE_URL": url,
            **platform_env(fake.base),
        },
    )
    services = [actions, rasa, gateway_service]
    logs = {s.name: (tmp / f"{s.name}.log").open("w") for s in services}
    group = ProcessGroup(services)
    for service in services:
        service.start(logs[service.name])
    try:
        group.wait_ready(services, timeout_seconds=240)
        yield {
            "url": url,
            "rest": f"http://127.0.0.1:{ports['rasa']}/webhooks/rest/webhook",
            "fake": fake,
            "group": group,
            "logs": tmp,
        }
    finally:
        group.stop()
        for log in logs.values():
            log.close()
        fake_server.should_exit = True


# ---------------------------------------------------------------- the channels


def rest(stack, sender: str, message: str) -> str:
    response = httpx.post(stack["rest"], json={"sender": sender, "message": message}, timeout=60)
    response.raise_for_status()
    return texts(response.json())


def health_check_with_consent(say) -> str:
    """Ask for the health check, consent, tell every health detail, answer the rest "no"; the
    outcome (with its S- reference)."""
    assert "Is that OK?" in say("can you run the health check please")
    reply = say("yes")
    answers = iter([*HEALTH, f"my date of birth is 03/02/1987, {HEALTH[0]}"])
    for _ in range(40):
        if "(Reference S-" in reply:
            return reply
        reply = say(next(answers, "no"))
    raise AssertionError(f"the health check did not finish: {reply}")


def through_rest(stack) -> None:
    sender = f"privacy-{uuid.uuid4()}"

    def say(message: str) -> str:
        return rest(stack, sender, message)

    say(
        f"Hi, I'm {NAME}, born 3 February 1987, my email is {EMAIL}, call me on {PHONE_WRITINGS[0]}"
    )
    outcome = health_check_with_consent(say)
    assert "Thank you" in outcome
    # The booking's slot time is offered as buttons: pick the first one.
    reply = say(f"I'd like to book a consultation please, I'm {NAME}")
    for _ in range(12):
        if "reference is B-" in reply:
            break
        if "full name" in reply:
            reply = say(NAME)
        elif "phone number" in reply:
            reply = say(PHONE_WRITINGS[1])
        elif "When would suit" in reply:
            offers = httpx.post(
                stack["rest"],
                json={"sender": sender, "message": "next tuesday afternoon"},
                timeout=60,
            ).json()
            first = next(b for r in offers for b in r.get("buttons", []))
            reply = say(first["payload"])
        elif "talk about at the consultation" in reply:
            reply = say(f"{HEALTH[2]} and {HEALTH[3]}, email me at {EMAIL}")
        elif "health check now" in reply:
            reply = say("not now")
        elif "Please check" in reply:
            assert NAME in reply and "+44 7400 918461" in reply
            reply = say("yes")
        else:
            raise AssertionError(f"unexpected reply in the booking: {reply}")
    assert "reference is B-" in reply


def through_telegram(stack) -> None:
    fake = stack["fake"]

    def say(message: str) -> str:
        update = {
            "update_id": uuid.uuid4().int % 10**9,
            "message": {
                "message_id": 1,
                "from": {"id": TELEGRAM_CHAT, "first_name": "Philippa", "last_name": "Quennell"},
                "chat": {"id": TELEGRAM_CHAT, "type": "private", "first_name": "Philippa"},
                "text": message,
            },
        }
        before = len(fake.calls)
        assert telegram(stack, update).status_code == 200
        return "\n".join((c.json or {}).get("text", "") for c in fake.calls[before:])

    say(f"my name is {NAME} and my number is {PHONE_WRITINGS[0]}")
    say(f"{HEALTH[0]}, can I have microneedling?")
    fake.fail_next = 1  # the gateway retries, and logs it
    say(HEALTH[1])
    say("I'd like to book a consultation")
    say(NAME)
    say(PHONE_WRITINGS[3])
    # A wrongly signed update with the same details: refused, and logged as refused only.
    bad = {"update_id": 1, "message": {"chat": {"id": TELEGRAM_CHAT}, "text": HEALTH[0]}}
    assert telegram(stack, bad, secret="wrong").status_code == 403


def through_whatsapp(stack) -> None:
    def say(message: str) -> None:
        payload = wa_message(WHATSAPP_ID, message)
        value = payload["entry"][0]["changes"][0]["value"]
        value["contacts"] = [{"profile": {"name": NAME}, "wa_id": WHATSAPP_ID}]
        assert meta_post(stack, payload).status_code == 200

    say(HEALTH[3])
    say(f"my email is {EMAIL} and {HEALTH[2]}")
    say("I'd like to book a consultation")
    say(NAME)
    say("yes")  # the number they write from
    assert meta_post(stack, wa_message(WHATSAPP_ID, HEALTH[1]), secret="nope").status_code == 403


def through_twilio_messaging(stack) -> None:
    path = "/webhooks/twilio/messaging"
    for frm, message in [
        (SMS_FROM, f"{HEALTH[0]}, my name is {NAME}"),
        (SMS_FROM, f"call me on {PHONE_WRITINGS[2]} or (07400) 918461"),
        (TWILIO_WHATSAPP_FROM, f"{HEALTH[1]} and {HEALTH[3]}"),
    ]:
        assert twilio_post(stack, path, sms(frm, message)).status_code == 200
    unsigned = twilio_post(stack, path, sms(SMS_FROM, HEALTH[2]), sign=False)
    assert unsigned.status_code == 403


def through_the_phone_line(stack) -> None:
    params = call(CALLER)
    twiml(twilio_post(stack, "/webhooks/twilio/voice", params))
    asked = turn(stack, {**params, "Digits": "1"}).find("Gather/Say").text
    assert "full name" in asked
    turn(stack, {**params, "SpeechResult": f"my name is {NAME}"})
    turn(stack, {**params, "SpeechResult": "yes"})
    turn(stack, {**params, "SpeechResult": f"{HEALTH[0]} and {HEALTH[1]}"})
    turn(stack, {**params, "SpeechResult": "my date of birth is 3 February 1987"})


def through_the_widget(stack) -> None:
    sender = f"w{uuid.uuid4().hex}"

    def say(message: str) -> str:
        response = httpx.post(
            f"{stack['url']}/api/chat",
            json={"sender": sender, "message": message},
            headers={"Origin": stack["url"]},
            timeout=60,
        )
        assert response.status_code == 200
        return "\n".join(r.get("text", "") for r in response.json()["replies"])

    say(f"{HEALTH[3]} and {HEALTH[2]}; I'm {NAME}, {EMAIL}, {PHONE_WRITINGS[0]}")
    # A red flag: the handoff record for staff is written by the action server.
    say("I had microneedling two days ago and now there's pus and I have a fever")
    say("my date of birth is 03/02/1987")


# ---------------------------------------------------------------- the search


def found_in(text: str) -> list[str]:
    """The details that occur in a log text (case-insensitively; phone digits also with the
    separators between digits removed)."""
    lowered = text.lower()
    hits = [d for d in DETAILS if d.lower() in lowered]
    digits_only = re.sub(r"(?<=\d)(?:[\s().\-]|%20)+(?=\d)", "", text)
    hits += [d for d in PHONE_DIGITS if d in digits_only]
    return hits


def test_a_conversation_full_of_personal_details_leaves_none_in_any_log(stack, caplog):
    assert redaction.installed()
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.INFO, logger="uvicorn.access")  # the fake platforms' access lines
    through_rest(stack)
    through_telegram(stack)
    through_whatsapp(stack)
    through_twilio_messaging(stack)
    through_the_phone_line(stack)
    through_the_widget(stack)
    stack["group"].stop()  # everything each process had to say, shut-down included

    files = sorted(Path(stack["logs"]).glob("*.log"))
    assert {f.name for f in files} >= {"rasa.log", "actions.log", "gateway.log", "rasa-own.log"}
    texts_by_source = {f.name: f.read_text() for f in files}
    # The search could fail: the logs are there and say things.
    assert "Rasa server is up and running" in texts_by_source["rasa.log"]
    assert "Action endpoint is up and running" in texts_by_source["actions.log"]
    assert "Uvicorn running on" in texts_by_source["gateway.log"]
    assert all(texts_by_source[name].strip() for name in texts_by_source)
    captured = "\n".join(
        [caplog.text]
        + [record.getMessage() for record in caplog.records]
        + [str(record.args) for record in caplog.records if record.args]
    )
    assert len(caplog.records) > 10
    texts_by_source["captured log records"] = captured

    leaks = {source: found_in(text) for source, text in texts_by_source.items()}
    assert {source: hits for source, hits in leaks.items() if hits} == {}
