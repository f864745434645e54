"""The channels' parts on their own: signatures against the platforms' own reference code,
splitting long replies, speaking text, the rate limit, and the set-up commands against a fake
Telegram on loopback."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from twilio.request_validator import RequestValidator

from gateway.channels.conversation import RateLimiter, Reply
from gateway.channels.render import first_sentences, numbered, split_text, spoken
from gateway.channels.signatures import (
    meta_signature_valid,
    same_secret,
    twilio_signature,
    twilio_signature_valid,
)
from gateway.core.config import gateway_settings
from gateway.setup import main as setup_main
from stack import fake_platforms
from tests.test_rest_channel import free_port

TWILIO_URL = "https://clinic.example/webhooks/twilio/voice?attempt=1"
TWILIO_FORM = {"CallSid": "CA1", "From": "+447700900123", "Digits": "1", "SpeechResult": "café ✓"}


def test_twilio_signature_matches_twilios_own_validator():
    """Twilio's SDK (installed with Rasa) signs the same way we check."""
    reference = RequestValidator("secret-token").compute_signature(TWILIO_URL, TWILIO_FORM)
    assert twilio_signature("secret-token", TWILIO_URL, TWILIO_FORM) == reference
    assert twilio_signature_valid(reference, "secret-token", TWILIO_URL, TWILIO_FORM)


@pytest.mark.parametrize(
    "header, token, url, form",
    [
        (None, "secret-token", TWILIO_URL, TWILIO_FORM),
        ("", "secret-token", TWILIO_URL, TWILIO_FORM),
        ("sig", None, TWILIO_URL, TWILIO_FORM),
        ("USE-REFERENCE", "other-token", TWILIO_URL, TWILIO_FORM),
        ("USE-REFERENCE", "secret-token", TWILIO_URL.replace("https", "http"), TWILIO_FORM),
        ("USE-REFERENCE", "secret-token", TWILIO_URL, {**TWILIO_FORM, "Digits": "2"}),
    ],
)
def test_twilio_signature_refuses_anything_else(header, token, url, form):
    if header == "USE-REFERENCE":
        header = RequestValidator("secret-token").compute_signature(TWILIO_URL, TWILIO_FORM)
    assert not twilio_signature_valid(header, token, url, form)


def test_meta_signature_is_hmac_sha256_of_the_raw_body():
    body = '{"entry": [{"text": "r\u00e9sum\u00e9 \U0001f60a"}]}'.encode()
    good = "sha256=" + hmac.new(b"app-secret", body, hashlib.sha256).hexdigest()
    assert meta_signature_valid(body, good, "app-secret")
    assert not meta_signature_valid(body + b" ", good, "app-secret")
    assert not meta_signature_valid(body, good, "another-secret")
    assert not meta_signature_valid(body, good.removeprefix("sha256="), "app-secret")
    assert not meta_signature_valid(body, "sha1=" + good[7:], "app-secret")
    assert not meta_signature_valid(body, None, "app-secret")
    assert not meta_signature_valid(body, good, None)


def test_telegram_secret_must_be_set_and_equal():
    assert same_secret("abc-123", "abc-123")
    assert not same_secret("abc-124", "abc-123")
    assert not same_secret("", "")
    assert not same_secret(None, None)
    assert not same_secret("abc", None)


@pytest.mark.parametrize("limit", [20, 100, 4096])
def test_long_replies_are_split_at_the_limit_between_words(limit):
    words = [f"word{n}" for n in range(3000)]
    text = " ".join(words[:1000]) + "\n\n" + " ".join(words[1000:])
    pieces = split_text(text, limit)
    assert len(pieces) > 1
    assert all(0 < len(p) <= limit for p in pieces)
    assert " ".join(" ".join(pieces).split()) == " ".join(text.split())  # nothing lost
    assert all(piece.split()[0] in words and piece.split()[-1] in words for piece in pieces)


def test_a_short_reply_is_one_piece_and_a_word_longer_than_the_limit_is_cut():
    assert split_text("Hello there.", 4096) == ["Hello there."]
    assert split_text("x" * 10, 4) == ["xxxx", "xxxx", "xx"]
    assert split_text("   ", 4096) == []


def test_sms_options_are_numbered():
    reply = Reply("When suits you?", buttons=({"title": "Tue 10:00", "payload": "/a"},))
    assert numbered(reply) == "When suits you?\n\nReply with a number:\n1. Tue 10:00"
    assert numbered(Reply("No options.")) == "No options."


def test_spoken_text_has_no_links_emoji_or_markdown():
    text = "**Aftercare** 😊\n- Use SPF 30\n- See https://clinic.example/care (our page)\n1. Rest"
    said = spoken(text)
    assert "http" not in said and "😊" not in said and "*" not in said and "-" not in said
    assert "(" not in said
    assert said == "Aftercare. Use SPF 30. See our page. Rest."
    assert first_sentences("One. Two! Three? Four.") == "One. Two!"


def test_the_rate_limit_is_per_sender_over_a_sliding_minute():
    limiter = RateLimiter(3)
    assert [limiter.allow("a", now=t) for t in (0, 1, 2, 3)] == [True, True, True, False]
    assert limiter.allow("b", now=3)  # another sender is not held up
    assert limiter.allow("a", now=60.5)  # the first message has left the window
    assert not limiter.allow("a", now=60.6)


@pytest.fixture()
def fake_telegram(monkeypatch):
    fake, server = fake_platforms.start(free_port())
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "42:XYZ")
    monkeypatch.setenv("TELEGRAM_SECRET_TOKEN", "the-secret")
    monkeypatch.setenv("TELEGRAM_API_BASE", f"{fake.base}/telegram")
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://assistant.clinic.example/")
    gateway_settings.cache_clear()
    yield fake
    gateway_settings.cache_clear()
    server.should_exit = True


def test_the_telegram_command_registers_the_webhook_with_its_secret(fake_telegram, capsys):
    assert setup_main(["telegram"]) == 0
    (call,) = fake_telegram.of("telegram")
    assert call.path == "/telegram/bot42:XYZ/setWebhook"
    assert call.json["url"] == "https://assistant.clinic.example/webhooks/telegram"
    assert call.json["secret_token"] == "the-secret"
    assert set(call.json["allowed_updates"]) == {"message", "callback_query"}
    assert "the-secret" not in capsys.readouterr().out


def test_the_telegram_command_reports_a_refusal(fake_telegram, capsys):
    fake_telegram.fail_next = 1
    assert setup_main(["telegram"]) == 1
    assert "HTTP 503" in capsys.readouterr().err
    assert fake_telegram.of("telegram") == []


def test_the_telegram_command_needs_its_settings(monkeypatch, capsys):
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.setenv("TELEGRAM_SECRET_TOKEN", "s")
    gateway_settings.cache_clear()
    try:
        assert setup_main(["telegram"]) == 1
    finally:
        gateway_settings.cache_clear()
    assert "TELEGRAM_BOT_TOKEN" in capsys.readouterr().err


def test_the_urls_command_prints_every_webhook_for_the_public_address(fake_telegram, capsys):
    assert setup_main(["urls"]) == 0
    out = capsys.readouterr().out
    for path in (
        "/webhooks/whatsapp",
        "/webhooks/twilio/messaging",
        "/webhooks/twilio/voice",
        "/webhooks/telegram",
        "/widget.js",
    ):
        assert f"https://assistant.clinic.example{path}" in out
