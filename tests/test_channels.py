"""Every channel through the real gateway and a running Rasa, with fake Telegram, Meta and
Twilio servers on loopback recording what the gateway sends."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx
import pytest
import yaml
from rasa.shared.core.domain import Domain

from clinic.handoff import list_handoffs
from clinic.privacy import audit_entries, patient_records
from clinic.store import upgrade_database
from stack import fake_platforms
from stack.processes import (
    ProcessGroup,
    action_server,
    gateway_server,
    rasa_server,
    write_endpoints,
)
from tests.conftest import ROOT
from tests.test_rest_channel import free_port

MODEL = ROOT / "models" / "current.tar.gz"
DOMAIN = Domain.load(str(ROOT / "domain"))
TG_SECRET, META_SECRET, VERIFY, TWILIO_TOKEN = (
    "tg-secret-1",
    "meta-app-secret",
    "verify-me",
    "twilio-token",
)
PAIN = DOMAIN.responses["utter_faq/pain"]


def clinic_file(tmp: Path, hours: list[str]) -> Path:
    """The shipped clinic, open at all times (["00:00-23:59"]) or never ([])."""
    data = yaml.safe_load((ROOT / "clinic.yml").read_text())
    data["opening_hours"] = {day: hours for day in data["opening_hours"]}
    data["closures"] = []
    path = tmp / f"clinic-{'open' if hours else 'closed'}.yml"
    path.write_text(yaml.safe_dump(data))
    return path


def platform_env(fake_base: str) -> dict[str, str]:
    """The gateway's settings for every platform, pointed at the fake platforms."""
    return {
        "TELEGRAM_BOT_TOKEN": "123:ABC",
        "TELEGRAM_SECRET_TOKEN": TG_SECRET,
        "TELEGRAM_API_BASE": f"{fake_base}/telegram",
        "WHATSAPP_VERIFY_TOKEN": VERIFY,
        "WHATSAPP_APP_SECRET": META_SECRET,
        "WHATSAPP_ACCESS_TOKEN": "meta-access",
        "WHATSAPP_PHONE_NUMBER_ID": "1055",
        "WHATSAPP_API_BASE": f"{fake_base}/graph",
        "TWILIO_ACCOUNT_SID": "AC123",
        "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
        "TWILIO_API_BASE": f"{fake_base}/twilio",
        "RATE_LIMIT_PER_MINUTE": "1000",
    }


@pytest.fixture(scope="module")
def channels(tmp_path_factory):
    """Fake platforms, Rasa, the action server and two gateways (clinic open / closed)."""
    assert MODEL.exists(), "no trained model: `make test` trains it first"
    tmp = tmp_path_factory.mktemp("channels")
    fake, fake_server = fake_platforms.start(free_port())
    database_url = f"sqlite:///{tmp / 'clinic.db'}"
    upgrade_database(database_url)
    ports = {name: free_port() for name in ("rasa", "actions", "open", "closed")}
    endpoints = write_endpoints(tmp / "endpoints.yml", ports["actions"], tmp / "tracker.db")
    opened, closed = clinic_file(tmp, ["00:00-23:59"]), clinic_file(tmp, [])
    common = {
        "DATABASE_URL": database_url,
        "RASA_URL": f"http://127.0.0.1:{ports['rasa']}",
        **platform_env(fake.base),
    }
    actions = action_server(ports["actions"])
    actions.env.update(DATABASE_URL=database_url, CLINIC_FILE=str(opened))
    gateways = {
        name: gateway_server(
            ports[name],
            {
                **common,
                "CLINIC_FILE": str(path),
                "PUBLIC_BASE_URL": f"http://127.0.0.1:{ports[name]}",
            },
        )
        for name, path in (("open", opened), ("closed", closed))
    }
    gateways["closed"].name = "gateway-closed"
    with (
        (tmp / "stack.log").open("w") as log,
        ProcessGroup(
            [
                actions,
                rasa_server(MODEL, ports["rasa"], endpoints),
                gateways["open"],
                gateways["closed"],
            ],
            log=log,
        ),
    ):
        yield {
            "fake": fake,
            "url": f"http://127.0.0.1:{ports['open']}",
            "closed_url": f"http://127.0.0.1:{ports['closed']}",
            "database_url": database_url,
            "tracker_url": f"sqlite:///{tmp / 'tracker.db'}",
        }
    fake_server.should_exit = True


# ---------------------------------------------------------------- Telegram


def telegram(channels, update: dict, secret: str | None = TG_SECRET) -> httpx.Response:
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
    return httpx.post(
        f"{channels['url']}/webhooks/telegram", json=update, headers=headers, timeout=60
    )


def tg_message(text: str, chat: int, update_id: int | None = None) -> dict:
    return {
        "update_id": update_id or uuid.uuid4().int % 10**9,
        "message": {"message_id": 1, "chat": {"id": chat, "type": "private"}, "text": text},
    }


def test_telegram_signed_message_gets_the_answer(channels):
    fake, chat = channels["fake"], uuid.uuid4().int % 10**9
    before = len(fake.calls)
    assert telegram(channels, tg_message("um so does it like hurt much", chat)).status_code == 200
    [sent] = fake.calls[before:]
    assert sent.path == "/telegram/bot123:ABC/sendMessage"
    assert sent.json["chat_id"] == chat and sent.json["text"] == PAIN[0]["text"]


def test_telegram_buttons_are_an_inline_keyboard_and_presses_are_answered(channels):
    fake, chat = channels["fake"], uuid.uuid4().int % 10**9
    before = len(fake.calls)
    telegram(channels, tg_message("hello", chat))
    [greeting] = fake.calls[before:]
    keyboard = greeting.json["reply_markup"]["inline_keyboard"]
    assert [row[0]["text"] for row in keyboard] == [
        "How it works",
        "Does it hurt?",
        "Prices",
        "Talk to a person",
    ]
    assert all(len(row[0]["callback_data"].encode()) <= 64 for row in keyboard)
    before = len(fake.calls)
    press = {
        "update_id": uuid.uuid4().int % 10**9,
        "callback_query": {
            "id": "cb-77",
            "data": keyboard[2][0]["callback_data"],
            "message": {"message_id": 9, "chat": {"id": chat}},
        },
    }
    assert telegram(channels, press).status_code == 200
    answered, prices = fake.calls[before:]
    assert answered.path.endswith("/answerCallbackQuery") and answered.json == {
        "callback_query_id": "cb-77"
    }
    assert "£220" in prices.json["text"]


@pytest.mark.parametrize("secret", [None, "wrong-secret"])
def test_telegram_unsigned_or_wrongly_signed_is_403_and_delivers_nothing(channels, secret):
    before = len(channels["fake"].calls)
    assert telegram(channels, tg_message("hello", 5), secret).status_code == 403
    assert len(channels["fake"].calls) == before


def test_telegram_replay_delivers_nothing_new(channels):
    update = tg_message("what are your opening hours", 6, update_id=uuid.uuid4().int % 10**9)
    telegram(channels, update)
    before = len(channels["fake"].calls)
    assert telegram(channels, update).status_code == 200
    assert len(channels["fake"].calls) == before


def test_telegram_malformed_update_is_400(channels):
    response = httpx.post(
        f"{channels['url']}/webhooks/telegram",
        content=b"{nope",
        headers={"X-Telegram-Bot-Api-Secret-Token": TG_SECRET},
    )
    assert response.status_code == 400


def test_platform_failures_are_retried(channels):
    fake = channels["fake"]
    before = len(fake.calls)
    fake.fail_next = 2
    telegram(channels, tg_message("does it hurt", uuid.uuid4().int % 10**9))
    [sent] = fake.calls[before:]  # two 503s, then delivered
    assert sent.json["text"] == PAIN[0]["text"]


# ---------------------------------------------------------------- WhatsApp (Meta)


def meta_post(channels, payload: dict, secret: str | None = META_SECRET) -> httpx.Response:
    raw = json.dumps(payload).encode()
    headers = {"Content-Type": "application/json"}
    if secret:
        headers["X-Hub-Signature-256"] = (
            "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
        )
    return httpx.post(
        f"{channels['url']}/webhooks/whatsapp", content=raw, headers=headers, timeout=60
    )


def wa_message(
    wa_id: str, text: str | None = None, button: str | None = None, mid: str | None = None
) -> dict:
    message = {"from": wa_id, "id": mid or f"wamid.{uuid.uuid4().hex}", "timestamp": "1"}
    if button:
        message.update(
            type="interactive",
            interactive={"type": "button_reply", "button_reply": {"id": button, "title": "x"}},
        )
    else:
        message.update(type="text", text={"body": text})
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "1",
                "changes": [
                    {
                        "field": "messages",
                        "value": {"messaging_product": "whatsapp", "messages": [message]},
                    }
                ],
            }
        ],
    }


def test_whatsapp_verify_handshake(channels):
    ok = httpx.get(
        f"{channels['url']}/webhooks/whatsapp",
        params={"hub.mode": "subscribe", "hub.verify_token": VERIFY, "hub.challenge": "1158201444"},
    )
    assert ok.status_code == 200 and ok.text == "1158201444"
    bad = httpx.get(
        f"{channels['url']}/webhooks/whatsapp",
        params={"hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "1"},
    )
    assert bad.status_code == 403


def test_whatsapp_signed_message_gets_the_answer(channels):
    fake, wa_id = channels["fake"], f"4474001{uuid.uuid4().int % 10**5:05d}"
    before = len(fake.calls)
    assert meta_post(channels, wa_message(wa_id, "what are your opening hours?")).status_code == 200
    [sent] = fake.calls[before:]
    assert (
        sent.path == "/graph/1055/messages"
        and sent.headers["authorization"] == "Bearer meta-access"
    )
    assert sent.json["to"] == wa_id and sent.json["type"] == "text"
    assert "opening hours:\n• Monday to Sunday: 12am to 11:59pm" in sent.json["text"]["body"]


def test_whatsapp_buttons_fit_metas_limits(channels):
    fake, wa_id = channels["fake"], f"4474002{uuid.uuid4().int % 10**5:05d}"
    before = len(fake.calls)
    meta_post(channels, wa_message(wa_id, "hi there"))
    [sent] = fake.calls[before:]
    interactive = sent.json["interactive"]
    if interactive["type"] == "button":
        buttons = interactive["action"]["buttons"]
        assert len(buttons) <= 3 and all(len(b["reply"]["title"]) <= 20 for b in buttons)
    else:  # four options: a list
        rows = interactive["action"]["sections"][0]["rows"]
        assert interactive["type"] == "list" and len(rows) == 4 <= 10
        assert all(len(r["title"]) <= 24 for r in rows)
    before = len(fake.calls)
    meta_post(channels, wa_message(wa_id, button="/ask_price"))
    [prices] = fake.calls[before:]
    assert "£220" in prices.json["text"]["body"]


@pytest.mark.parametrize("secret", [None, "not-the-app-secret"])
def test_whatsapp_unsigned_or_wrongly_signed_is_403_and_delivers_nothing(channels, secret):
    before = len(channels["fake"].calls)
    assert meta_post(channels, wa_message("447400123456", "hello"), secret).status_code == 403
    assert len(channels["fake"].calls) == before


def test_whatsapp_replay_delivers_nothing_new(channels):
    payload = wa_message("447400199999", "does it hurt", mid="wamid.replay-1")
    meta_post(channels, payload)
    before = len(channels["fake"].calls)
    assert meta_post(channels, payload).status_code == 200
    assert len(channels["fake"].calls) == before


def test_whatsapp_malformed_body_is_400(channels):
    assert meta_post(channels, {"entry": "nope"}).status_code == 400


# ---------------------------------------------------------------- Twilio messaging


def twilio_sign(url: str, params: dict[str, str], token: str = TWILIO_TOKEN) -> str:
    """Twilio's documented algorithm, written here independently of the gateway's."""
    data = url + "".join(k + params[k] for k in sorted(params))
    return base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode()


def twilio_post(
    channels,
    path: str,
    params: dict[str, str],
    sign: bool = True,
    token: str = TWILIO_TOKEN,
    base: str | None = None,
) -> httpx.Response:
    base = base or channels["url"]
    headers = {"X-Twilio-Signature": twilio_sign(base + path, params, token)} if sign else {}
    return httpx.post(base + path, data=params, headers=headers, timeout=60)


def sms(frm: str, body: str, sid: str | None = None) -> dict[str, str]:
    return {
        "From": frm,
        "To": "+441174960000",
        "Body": body,
        "MessageSid": sid or f"SM{uuid.uuid4().hex}",
        "AccountSid": "AC123",
    }


def test_sms_gets_the_answer_with_numbered_options_and_a_number_chooses(channels):
    fake, frm = channels["fake"], f"+4474003{uuid.uuid4().int % 10**5:05d}"
    before = len(fake.calls)
    response = twilio_post(channels, "/webhooks/twilio/messaging", sms(frm, "hello"))
    assert response.status_code == 200 and ET.fromstring(response.text).tag == "Response"
    [sent] = fake.calls[before:]
    assert sent.path == "/twilio/2010-04-01/Accounts/AC123/Messages.json"
    assert (
        sent.form["To"] == frm
        and "Reply with a number:\n1. How it works\n2. Does it hurt?" in sent.form["Body"]
    )
    before = len(fake.calls)
    twilio_post(channels, "/webhooks/twilio/messaging", sms(frm, "3"))
    [prices] = fake.calls[before:]
    assert "£220" in prices.form["Body"]


@pytest.mark.parametrize("how", ["unsigned", "wrong token"])
def test_sms_unsigned_or_wrongly_signed_is_403_and_delivers_nothing(channels, how):
    before = len(channels["fake"].calls)
    response = twilio_post(
        channels,
        "/webhooks/twilio/messaging",
        sms("+447400123456", "hello"),
        sign=how != "unsigned",
        token="not-the-token",
    )
    assert response.status_code == 403 and len(channels["fake"].calls) == before


def test_sms_replay_delivers_nothing_new(channels):
    params = sms("+447400155555", "does it hurt", sid="SMreplay0001")
    twilio_post(channels, "/webhooks/twilio/messaging", params)
    before = len(channels["fake"].calls)
    assert twilio_post(channels, "/webhooks/twilio/messaging", params).status_code == 200
    assert len(channels["fake"].calls) == before


# ---------------------------------------------------------------- the phone line


def call(frm: str) -> dict[str, str]:
    return {
        "CallSid": f"CA{uuid.uuid4().hex}",
        "From": frm,
        "To": "+441174960123",
        "AccountSid": "AC123",
    }


def twiml(response: httpx.Response) -> ET.Element:
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/xml")
    return ET.fromstring(response.text)


def turn(channels, params: dict[str, str], attempt: int = 0, base: str | None = None) -> ET.Element:
    return twiml(
        twilio_post(channels, f"/webhooks/twilio/voice/turn?attempt={attempt}", params, base=base)
    )


def test_a_call_is_greeted_with_the_clinic_and_the_emergency_notice_inside_a_gather(channels):
    root = twiml(twilio_post(channels, "/webhooks/twilio/voice", call("+447400123456")))
    [gather] = root
    assert gather.tag == "Gather" and gather.get("input") == "speech dtmf"
    assert gather.get("action") == "/webhooks/twilio/voice/turn?attempt=0"
    assert "microneedling" in gather.get("hints") and gather.get("language") == "en-GB"
    [spoken] = gather
    assert spoken.tag == "Say" and "Lumen Skin Clinic" in spoken.text
    assert (
        "emergency, please hang up and call 999" in spoken.text
        and "or 0 for the front desk" in spoken.text
    )


def test_a_spoken_question_gets_the_short_spoken_answer(channels):
    root = turn(channels, {**call("+447400123456"), "SpeechResult": "um does it hurt much"})
    spoken = root.find("Gather/Say").text
    assert spoken == next(v["text"] for v in PAIN if v.get("channel") == "phone")
    assert len(re.findall(r"[.!?](\s|$)", spoken)) <= 3
    assert not re.search(r"https?://|[•*#]|[\U0001F300-\U0001FAFF]", spoken)


def test_silence_gets_two_reprompts_then_the_front_desk(channels):
    params = call("+447400123456")
    first = turn(channels, params, attempt=0)
    assert first.find("Gather").get("action").endswith("attempt=1")
    assert "didn't catch that" in first.find("Gather/Say").text
    second = turn(channels, params, attempt=1)
    assert second.find("Gather").get("action").endswith("attempt=2")
    third = turn(channels, params, attempt=2)
    assert third.find("Dial").text == "+44 117 496 0123"


def test_zero_transfers_to_the_front_desk_when_open(channels):
    root = turn(channels, {**call("+447400123456"), "Digits": "0"})
    assert [e.tag for e in root] == ["Say", "Dial", "Say"] and root.find(
        "Dial"
    ).text == "+44 117 496 0123"


def test_zero_out_of_hours_takes_a_callback_request(channels):
    caller = f"+4474005{uuid.uuid4().int % 10**5:05d}"
    root = turn(channels, {**call(caller), "Digits": "0"}, base=channels["closed_url"])
    assert [e.tag for e in root] == ["Say", "Hangup"] and "call you back" in root.find("Say").text
    assert root.find("Dial") is None
    assert [
        h.conversation_id
        for h in list_handoffs(channels["database_url"])
        if h.conversation_id == f"phone:{caller}"
    ] == [f"phone:{caller}"]


def test_booking_by_phone_reads_back_the_callers_number(channels):
    params = call(f"+4474006{uuid.uuid4().int % 10**5:05d}")
    asked = turn(channels, {**params, "Digits": "1"}).find("Gather/Say").text
    assert "full name" in asked
    confirm = turn(channels, {**params, "SpeechResult": "Sam Jones"}).find("Gather/Say").text
    assert confirm.startswith("Shall I use the number you're calling from, ending ")
    assert re.search(r"ending \d \d \d \d\? Please say yes or no\.", confirm)


def test_a_caller_hears_what_is_kept_and_deletes_it_by_voice(channels):
    caller = f"+4474007{uuid.uuid4().int % 10**5:05d}"
    params, conversation = call(caller), f"phone:{caller}"
    # Out of hours the caller asks for a call back: a handoff with their number is recorded.
    turn(channels, {**params, "Digits": "0"}, base=channels["closed_url"])
    assert [h.conversation_id for h in list_handoffs(channels["database_url"], None)].count(
        conversation
    ) == 1
    kept = turn(channels, {**params, "SpeechResult": "what do you keep about me"})
    assert kept.find("Gather/Say").text.startswith("I keep this conversation, 0 bookings")
    # The number they call from is theirs: no other proof is asked for, the read-back is spoken.
    readback = turn(channels, {**params, "SpeechResult": "please delete my data"})
    spoken = readback.find("Gather/Say").text
    assert spoken.startswith("I'll delete this conversation") and "say yes or no" in spoken
    done = turn(channels, {**params, "SpeechResult": "yes"}).find("Gather/Say").text
    assert done.startswith("Done: I've deleted this conversation and 1 request for staff.")
    records = patient_records(channels["database_url"], channels["tracker_url"], [conversation])
    assert records.is_empty()
    erased = [e for e in audit_entries(channels["database_url"]) if e.action == "erase"]
    assert ("patient:phone", 1) in [(e.actor, json.loads(e.detail)["handoffs"]) for e in erased]


def test_voice_webhooks_need_twilios_signature(channels):
    assert (
        twilio_post(
            channels, "/webhooks/twilio/voice", call("+447400123456"), sign=False
        ).status_code
        == 403
    )


# ---------------------------------------------------------------- the widget's API


def test_the_widget_api_answers_allowed_origins_only(channels):
    url = f"{channels['url']}/api/chat"
    body = {"sender": f"w{uuid.uuid4().hex}", "message": "does it hurt?"}
    ok = httpx.post(url, json=body, headers={"Origin": channels["url"]}, timeout=60)
    assert ok.status_code == 200 and ok.json()["replies"][0]["text"] == PAIN[0]["text"]
    assert httpx.post(url, json=body, headers={"Origin": "https://evil.example"}).status_code == 403
    assert httpx.post(url, json={**body, "message": "x" * 1001}).status_code == 413
    assert httpx.post(url, json={**body, "sender": "../../etc"}).status_code == 400


# ---------------------------------------------------------------- the widget in a real browser

STUBS = """
window.__spoken = [];
window.__nextTranscript = "does microneedling hurt";
window.SpeechSynthesisUtterance = function (text) { this.text = text; };
Object.defineProperty(window, "speechSynthesis", {
  value: { speak: function (u) { window.__spoken.push(u.text); }, cancel: function () {} },
});
window.SpeechRecognition = function () {};
window.SpeechRecognition.prototype.start = function () {
  var self = this;
  setTimeout(function () {
    self.onresult({ results: [[{ transcript: window.__nextTranscript }]] });
    self.onend();
  }, 50);
};
"""


def test_the_widget_in_chromium_types_clicks_speaks_and_keeps_the_conversation(channels):
    from playwright.sync_api import expect, sync_playwright

    results = ROOT / "results"
    results.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        page = browser.new_context(viewport={"width": 1100, "height": 800}).new_page()
        page.add_init_script(STUBS)
        page.goto(channels["url"] + "/")
        launcher = page.get_by_role("button", name="Chat with Lumen Skin Clinic")
        launcher.click()
        expect(launcher).to_have_attribute("aria-expanded", "true")
        log = page.get_by_role("log", name="Conversation")

        # Typed, by keyboard only: the input has focus when the panel opens.
        page.keyboard.type("what are your opening hours?")
        page.keyboard.press("Enter")
        expect(log).to_contain_text("opening hours:", timeout=30_000)

        # A button chip.
        page.get_by_label("Your message").fill("hello")
        page.get_by_role("button", name="Send").click()
        page.get_by_role("button", name="Prices").click()
        expect(log).to_contain_text("£220", timeout=30_000)

        # Spoken: the stand-in recogniser hears a question; the reply is shown and spoken.
        page.get_by_role("button", name="Speak your question").click()
        answer = PAIN[0]["text"].splitlines()[0]
        expect(log).to_contain_text(answer[:60], timeout=30_000)
        spoken = page.evaluate("window.__spoken")
        assert (
            len(spoken) >= 3
            and spoken[0] == "Most people find it uncomfortable rather than painful."
        )
        page.screenshot(path=str(results / "widget.png"), full_page=True)

        # The conversation survives a reload in the same browser.
        page.reload()
        expect(page.get_by_role("log", name="Conversation")).to_contain_text("£220", timeout=10_000)
        page.keyboard.press("Escape")
        expect(page.get_by_role("dialog")).to_be_hidden()
        browser.close()
    assert (results / "widget.png").stat().st_size > 10_000
