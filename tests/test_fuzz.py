"""Fuzzing the real gateway over HTTP: hypothesis against every webhook parser (correctly signed,
so that each body reaches the parser), schemathesis against the OpenAPI of the clinic API, and
the body limit. Nothing may answer 5xx or crash the process. Rasa is not running here, so every
message that gets through is answered with the clinic's number: the parsers are what is tested.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime, timezone
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinic.staff import issue_token
from gateway.channels.signatures import twilio_signature
from gateway.channels.widget import SENDER
from stack import fake_platforms
from stack.processes import ProcessGroup, gateway_server
from tests.test_rest_channel import free_port

TG_SECRET, META_SECRET, TWILIO_TOKEN = "fuzz-tg", "fuzz-meta", "fuzz-twilio"
EXAMPLES = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    from clinic.store import upgrade_database

    tmp = tmp_path_factory.mktemp("fuzz")
    fake, fake_server = fake_platforms.start(free_port())
    database_url = f"sqlite:///{tmp / 'clinic.db'}"
    upgrade_database(database_url)
    token = issue_token(database_url, "Fuzz", datetime.now(timezone.utc))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    fake_base = f"http://127.0.0.1:{fake.port}"
    service = gateway_server(
        port,
        {
            "DATABASE_URL": database_url,
            "TRACKER_DATABASE_URL": f"sqlite:///{tmp / 'tracker.db'}",
            "RASA_URL": f"http://127.0.0.1:{free_port()}",  # nothing there
            "RATE_LIMIT_PER_MINUTE": "1000000",
            "RATE_LIMIT_PER_IP_PER_MINUTE": "1000000",
            "PUBLIC_BASE_URL": base,
            "TELEGRAM_BOT_TOKEN": "1:fuzz",
            "TELEGRAM_SECRET_TOKEN": TG_SECRET,
            "TELEGRAM_API_BASE": f"{fake_base}/telegram",
            "WHATSAPP_VERIFY_TOKEN": "fuzz-verify",
            "WHATSAPP_APP_SECRET": META_SECRET,
            "WHATSAPP_ACCESS_TOKEN": "fuzz",
            "WHATSAPP_PHONE_NUMBER_ID": "1",
            "WHATSAPP_API_BASE": f"{fake_base}/graph",
            "TWILIO_ACCOUNT_SID": "ACfuzz",
            "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
            "TWILIO_API_BASE": f"{fake_base}/twilio",
        },
    )
    with (
        Path(tmp / "gateway.log").open("w") as log,
        ProcessGroup([service], log=log),
        # Every request as a member of staff: the staff routes are fuzzed past the token check.
        httpx.Client(
            base_url=base, timeout=30, headers={"Authorization": f"Bearer {token}"}
        ) as client,
    ):
        yield client, service
    fake_server.should_exit = True


# Any JSON value, nested a little: what a confused or hostile sender might post.
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
# Patients' text at its strangest: emoji, right-to-left, zero-width, control characters, long.
ODD_TEXT = st.one_of(
    st.text(max_size=300),
    st.sampled_from(
        [
            "",
            "\u200b\u200c\u200d\ufeff",
            "هل يؤلم الوخز بالإبر الدقيقة؟",
            "\u202eevil text\u202c",
            "💉🩸😬" * 50,
            "does it hurt?" * 800,  # over 10,000 characters
            "\x00\x01\x1b[31m",
        ]
    ),
)


def maybe(strategy):
    return st.one_of(JSON, strategy)


TELEGRAM_UPDATES = st.one_of(
    JSON,
    st.fixed_dictionaries(
        {
            "update_id": maybe(st.integers()),
            "message": maybe(
                st.fixed_dictionaries(
                    {
                        "message_id": maybe(st.integers()),
                        "chat": maybe(st.fixed_dictionaries({"id": maybe(st.integers())})),
                        "text": maybe(ODD_TEXT),
                    }
                )
            ),
        }
    ),
    st.fixed_dictionaries(
        {
            "update_id": st.integers(),
            "callback_query": maybe(
                st.fixed_dictionaries(
                    {
                        "id": maybe(st.text(max_size=10)),
                        "data": maybe(ODD_TEXT),
                        "message": maybe(
                            st.fixed_dictionaries(
                                {"chat": maybe(st.fixed_dictionaries({"id": maybe(st.integers())}))}
                            )
                        ),
                    }
                )
            ),
        }
    ),
)

WHATSAPP_MESSAGES = st.fixed_dictionaries(
    {
        "from": maybe(st.text(alphabet="0123456789+", max_size=15)),
        "id": maybe(st.text(max_size=20)),
        "type": maybe(st.sampled_from(["text", "interactive", "image", "button"])),
        "text": maybe(st.fixed_dictionaries({"body": maybe(ODD_TEXT)})),
        "interactive": maybe(
            st.fixed_dictionaries(
                {
                    "button_reply": maybe(st.fixed_dictionaries({"id": maybe(ODD_TEXT)})),
                    "list_reply": maybe(st.fixed_dictionaries({"id": maybe(ODD_TEXT)})),
                }
            )
        ),
    }
)
WHATSAPP_BODIES = st.one_of(
    JSON,
    st.fixed_dictionaries(
        {
            "object": maybe(st.just("whatsapp_business_account")),
            "entry": maybe(
                st.lists(
                    st.fixed_dictionaries(
                        {
                            "changes": maybe(
                                st.lists(
                                    st.fixed_dictionaries(
                                        {
                                            "value": maybe(
                                                st.fixed_dictionaries(
                                                    {"messages": maybe(st.lists(WHATSAPP_MESSAGES))}
                                                )
                                            )
                                        }
                                    ),
                                    max_size=2,
                                )
                            )
                        }
                    ),
                    max_size=2,
                )
            ),
        }
    ),
)

TWILIO_FORMS = st.dictionaries(
    st.sampled_from(
        ["From", "To", "Body", "MessageSid", "CallSid", "Digits", "SpeechResult", "Confidence"]
    ),
    ODD_TEXT.filter(lambda t: "\x00" not in t),
    max_size=6,
)


def assert_survived(response: httpx.Response, service) -> None:
    assert response.status_code < 500, (response.status_code, response.text[:300])
    assert not service.has_exited()


@EXAMPLES
@given(update=TELEGRAM_UPDATES)
def test_telegram_updates(gateway, update):
    client, service = gateway
    response = client.post(
        "/webhooks/telegram",
        content=json.dumps(update),
        headers={"X-Telegram-Bot-Api-Secret-Token": TG_SECRET, "Content-Type": "application/json"},
    )
    assert_survived(response, service)


@EXAMPLES
@given(body=st.one_of(WHATSAPP_BODIES.map(json.dumps).map(str.encode), st.binary(max_size=300)))
def test_whatsapp_webhooks(gateway, body):
    client, service = gateway
    signature = "sha256=" + hmac.new(META_SECRET.encode(), body, hashlib.sha256).hexdigest()
    response = client.post(
        "/webhooks/whatsapp",
        content=body,
        headers={"X-Hub-Signature-256": signature, "Content-Type": "application/json"},
    )
    assert_survived(response, service)


@EXAMPLES
@given(
    path=st.sampled_from(
        ["/webhooks/twilio/messaging", "/webhooks/twilio/voice", "/webhooks/twilio/voice/turn"]
    ),
    form=TWILIO_FORMS,
)
def test_twilio_forms(gateway, path, form):
    client, service = gateway
    url = f"{client.base_url}".rstrip("/") + path
    response = client.post(
        path, data=form, headers={"X-Twilio-Signature": twilio_signature(TWILIO_TOKEN, url, form)}
    )
    assert_survived(response, service)
    if response.status_code == 200 and "voice" in path:
        assert response.headers["content-type"].startswith(("application/xml", "text/xml"))


@EXAMPLES
@given(body=maybe(st.fixed_dictionaries({"sender": maybe(ODD_TEXT), "message": maybe(ODD_TEXT)})))
def test_widget_chat(gateway, body):
    client, service = gateway
    response = client.post(
        "/api/chat", content=json.dumps(body), headers={"Origin": str(client.base_url)}
    )
    assert_survived(response, service)
    fields = body if isinstance(body, dict) else {}
    sender, message = fields.get("sender"), fields.get("message")
    if (
        isinstance(sender, str)
        and SENDER.match(sender)
        and isinstance(message, str)
        and (len(message) > 1000)
    ):
        assert response.status_code == 413  # a clear error, not a truncated answer


def test_unicode_messages_get_an_answer_or_a_clear_error(gateway):
    client, service = gateway
    for text in ["💉 does it hurt? 😬", "هل يؤلم؟", "\u200bhi\u200d", "does it hurt?" * 800]:
        response = client.post(
            "/api/chat",
            json={"sender": "unicode-1", "message": text},
            headers={"Origin": str(client.base_url)},
        )
        if len(text) > 1000:
            assert response.status_code == 413 and "1000" in response.text
        else:
            assert response.status_code == 200
            (reply,) = response.json()["replies"]
            assert reply["text"].startswith("Sorry, I can't answer just now")  # Rasa is down
    assert not service.has_exited()


@pytest.mark.parametrize(
    "path", ["/webhooks/telegram", "/webhooks/whatsapp", "/webhooks/twilio/voice", "/api/chat"]
)
def test_bodies_over_the_limit_get_413_declared_or_streamed(gateway, path):
    client, service = gateway
    big = b"x" * (64 * 1024 + 1)
    assert client.post(path, content=big).status_code == 413

    def chunks():  # no Content-Length: the body arrives in pieces
        for _ in range(20):
            yield b"y" * 4096

    response = client.post(path, content=chunks())
    assert response.status_code == 413 and "65536 bytes" in response.text
    # Just under the limit is read and judged by the route (403: not signed).
    assert client.post(path, content=b"{}" + b" " * 60000).status_code in {400, 403}
    assert not service.has_exited()


def test_the_openapi_schema_with_schemathesis(gateway):
    client, service = gateway
    schema = schemathesis.openapi.from_url(f"{client.base_url}/openapi.json")
    failures, calls, operations = [], [], 0
    for operation in schema.get_all_operations():
        operation = operation.ok()
        if operation.path.startswith("/webhooks"):
            continue  # signed by platforms: fuzzed above with valid signatures
        operations += 1

        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def check(case):
            staff = {"Authorization": client.headers["Authorization"]}
            response = case.call(base_url=str(client.base_url), timeout=30, headers=staff)
            calls.append(response.status_code)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path}: {response.status_code}")

        check()
    assert failures == []
    # Every clinic, staff, widget and health route was called, many times each.
    assert operations >= 10 and len(calls) >= 10 * operations
    assert not service.has_exited()
