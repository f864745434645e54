"""The production profile (`make cluster`): PostgreSQL, Redis, two of every process behind nginx,
all started here from Debian's packages and the project's own code."""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import threading
import uuid
from datetime import datetime, timezone

import httpx
import pytest

from bench import channels
from bench.load import BadReply, run_load
from bench.scenarios import FAQ, steps
from clinic.staff import issue_token
from stack import fake_platforms
from stack.cluster import Cluster
from stack.postgres import free_port
from tests.conftest import ROOT
from tests.test_booking_live import (
    assert_nothing_kept_but_the_audit_entry,
    book_through_the_conversation,
    erase_through_the_conversation,
)
from tests.test_rest_channel import texts

MODEL = ROOT / "models" / "current.tar.gz"


TG_SECRET = "cluster-telegram-secret"


@pytest.fixture(scope="module")
def fake():
    """Telegram's Bot API on loopback, recording what the gateways send."""
    state, server = fake_platforms.start(free_port())
    yield f"http://127.0.0.1:{state.port}"
    server.should_exit = True


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, fake):
    assert MODEL.exists(), "no trained model: `make test` trains it first"
    directory = tmp_path_factory.mktemp("cluster")
    running = Cluster.on_free_ports(
        directory,
        extra_gateway_env={
            "RATE_LIMIT_PER_MINUTE": "1000",
            "RATE_LIMIT_PER_IP_PER_MINUTE": "1000000",
            # 200 conversations at once on two cores queue for up to a minute or more: the
            # gateways wait for Rasa longer than in production (20 s).
            "RASA_TIMEOUT_SECONDS": "150",
            "TELEGRAM_BOT_TOKEN": "1:cluster",
            "TELEGRAM_SECRET_TOKEN": TG_SECRET,
            "TELEGRAM_API_BASE": f"{fake}/telegram",
        },
    )
    with open(directory / "cluster.log", "w") as log:
        running.start(log=log)
        running.staff_token = issue_token(
            running.clinic_url, "Cluster Test", datetime.now(timezone.utc)
        )
        yield running
        running.stop()


class Alternating:
    """Says each message to the other Rasa instance than the last one, directly (no nginx)."""

    def __init__(self, cluster: Cluster) -> None:
        self.urls = [f"http://127.0.0.1:{p}/webhooks/rest/webhook" for p in cluster.ports["rasa"]]
        self.turn = itertools.count()
        self.answered_by: list[int] = []

    def say(self, sender: str, message: str) -> list[dict]:
        instance = next(self.turn) % len(self.urls)
        response = httpx.post(
            self.urls[instance], json={"sender": sender, "message": message}, timeout=60
        )
        response.raise_for_status()
        self.answered_by.append(instance)
        return response.json()


def staff(cluster: Cluster, path: str) -> httpx.Response:
    return httpx.get(
        f"http://127.0.0.1:{cluster.gateway_port}/api/staff/{path}",
        headers={"Authorization": f"Bearer {cluster.staff_token}"},
        timeout=30,
    )


def test_a_booking_whose_messages_alternate_between_two_rasa_instances(cluster):
    patient = Alternating(cluster)
    # Every step of the form (name, phone, time, concern, confirmation) is answered by the other
    # instance than the one that asked: the form's state is in PostgreSQL, not in either process.
    reference = book_through_the_conversation(patient, f"alt-{uuid.uuid4()}", "Lee Chan")
    assert set(patient.answered_by) == {0, 1} and len(patient.answered_by) >= 8
    # Staff see it through nginx and either gateway: the clinic's records are in PostgreSQL too.
    for _ in range(2):
        listed = staff(cluster, "consultations").json()
        assert reference in [b["reference"] for b in listed]


def test_delete_my_data_on_postgresql_across_both_rasa_instances(cluster):
    patient, sender, phone = Alternating(cluster), f"erase-{uuid.uuid4()}", "07400 123462"
    reference = book_through_the_conversation(patient, sender, "Noor Khan", phone)
    erasure = erase_through_the_conversation(patient, sender, phone, reference)
    assert_nothing_kept_but_the_audit_entry(
        cluster.clinic_url, cluster.tracker_url, sender, phone, erasure, "patient:rest"
    )


def test_the_gateways_behind_nginx_answer_and_both_take_requests(cluster):
    gateway = f"http://127.0.0.1:{cluster.gateway_port}"
    sender = f"web-{uuid.uuid4()}"
    response = httpx.post(
        f"{gateway}/api/chat",
        json={"sender": sender, "message": "does microneedling hurt?"},
        headers={"Origin": gateway},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    answer = " ".join(r["text"] for r in response.json()["replies"])
    assert "numbing" in answer.lower() and "practitioner" in answer.lower()
    # nginx hides its version; each gateway answers health checks directly too.
    assert "nginx/" not in httpx.get(f"{gateway}/health").headers.get("server", "")
    for port in cluster.ports["gateway"]:
        assert httpx.get(f"http://127.0.0.1:{port}/health", timeout=10).status_code == 200


def test_the_conversation_resumes_from_postgresql_after_every_rasa_restarts(cluster):
    sender = f"restart-{uuid.uuid4()}"
    lb = f"http://127.0.0.1:{cluster.rasa_port}/webhooks/rest/webhook"

    def say(message: str) -> str:
        response = httpx.post(lb, json={"sender": sender, "message": message}, timeout=60)
        response.raise_for_status()
        return texts(response.json())

    assert "What's your full name?" in say("I'd like to book a consultation please")
    cluster.restart(["rasa1", "rasa2"])
    # Both processes are new: only PostgreSQL remembers that the name is the next answer.
    assert "phone number" in say("Tom Evans")
    assert "When would suit you?" in say("07400 123456")


class WebPatient:
    """A patient on the website widget, through nginx and either gateway."""

    def __init__(self, cluster: Cluster) -> None:
        self.gateway = f"http://127.0.0.1:{cluster.gateway_port}"
        self.sender = f"web-{uuid.uuid4()}"

    def say(self, message: str) -> str:
        response = httpx.post(
            f"{self.gateway}/api/chat",
            json={"sender": self.sender, "message": message},
            headers={"Origin": self.gateway},
            timeout=60,
        )
        assert response.status_code == 200, response.text
        return " ".join(r["text"] for r in response.json()["replies"])


GRACEFUL = "Sorry, I can't answer just now. Please call us on"


def test_any_unicode_gets_a_sensible_reply_or_a_clear_error(cluster):
    patient = WebPatient(cluster)
    # Emoji around a real question: the real answer.
    assert "numbing" in patient.say("💉 does microneedling hurt? 😬").lower()
    # Right-to-left text, zero-width characters, control characters: an answer, never a failure
    # (a message the assistant cannot read gets the ask-to-rephrase with the main topics).
    odd = ["هل يؤلم الوخز بالإبر الدقيقة؟", "\u200b\u200c\u200d", "\u202eevil\u202c", "\x1b[31m"]
    for text in odd:
        reply = patient.say(text)
        assert reply and not reply.startswith(GRACEFUL), (text, reply)
    # 10,000 characters: the widget says its limit instead of answering part of it.
    gateway = f"http://127.0.0.1:{cluster.gateway_port}"
    response = httpx.post(
        f"{gateway}/api/chat",
        json={"sender": patient.sender, "message": "does it hurt? " * 715},
        headers={"Origin": gateway},
        timeout=60,
    )
    assert response.status_code == 413 and "1000 characters" in response.text


def test_the_action_servers_down_mid_booking_then_the_same_booking_carries_on(cluster):
    patient = WebPatient(cluster)
    assert "What's your full name?" in patient.say("I'd like to book a consultation please")
    cluster.stop_services(["actions1", "actions2"])
    try:
        # The form needs the action server to check the name: the patient gets the clinic's
        # number, and nothing of the message is kept.
        reply = patient.say("Dana Scully")
        assert reply.startswith(GRACEFUL) and "+44" in reply
    finally:
        cluster.start_services(["actions1", "actions2"])
    # Back: the same conversation, at the same question.
    assert "phone number" in patient.say("Dana Scully")
    assert "When would suit you?" in patient.say("07400 123456")


def test_the_database_down_gives_the_clinic_number_and_service_returns_with_it(cluster):
    patient = WebPatient(cluster)
    assert "What's your full name?" in patient.say("book a consultation")
    assert cluster.postgres is not None
    cluster.postgres.halt()
    try:
        assert patient.say("Fox Mulder").startswith(GRACEFUL)
        # Every process is still up.
        assert cluster.group is not None and cluster.group.first_exited() is None
    finally:
        cluster.postgres.resume()
    # The first message after the database is back is answered, where the booking was.
    assert "phone number" in patient.say("Fox Mulder")


def test_rasa_down_gives_the_clinic_number(cluster):
    patient = WebPatient(cluster)
    cluster.stop_services(["rasa1", "rasa2"])
    try:
        assert patient.say("does it hurt?").startswith(GRACEFUL)
    finally:
        cluster.start_services(["rasa1", "rasa2"])
    assert "numbing" in patient.say("does it hurt?").lower()


def test_a_telegram_update_delivered_twice_or_retried_books_once(cluster, fake):
    target = channels.Target(
        rasa="", gateway=f"http://127.0.0.1:{cluster.gateway_port}", fake=fake,
        telegram_secret=TG_SECRET,
    )  # fmt: skip
    send = channels.telegram(target)
    chat = str(random.randint(10**7, 10**8 - 1))

    async def up_to_the_read_back() -> str:
        async with httpx.AsyncClient(timeout=90) as client:
            turn = None
            for text in steps(
                "I'd like to book a consultation please", "Dup Lee", "07400 123456",
                "next tuesday afternoon", "@1", "acne scars", "not now",
            ):  # fmt: skip
                turn = await send(client, chat, text.resolve(turn.options if turn else []))
            return turn.text

    assert "Please check:" in asyncio.run(up_to_the_read_back())
    update = {
        "update_id": random.randint(10**9, 10**10),
        "message": {"message_id": 7, "chat": {"id": int(chat), "type": "private"}, "text": "yes"},
    }
    headers = {"X-Telegram-Bot-Api-Secret-Token": TG_SECRET}
    statuses: list[int] = []

    def deliver(port: int) -> None:
        response = httpx.post(
            f"http://127.0.0.1:{port}/webhooks/telegram", json=update, headers=headers, timeout=90
        )
        statuses.append(response.status_code)

    # Telegram delivers the same update to both gateways at once, then retries it once more.
    threads = [threading.Thread(target=deliver, args=(p,)) for p in cluster.ports["gateway"]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    deliver(cluster.gateway_port)
    assert statuses == [200, 200, 200]
    sent = httpx.get(f"{fake}/_sent/telegram/{chat}").json()
    confirmations = [m for m in sent if "You're booked" in (m["json"].get("text") or "")]
    assert len(confirmations) == 1
    listed = [b for b in staff(cluster, "consultations").json() if b["patient_name"] == "Dup Lee"]
    assert len(listed) == 1


def test_200_conversations_at_once_for_60_seconds_through_the_gateways(cluster):
    target = channels.Target(rasa="", gateway=f"http://127.0.0.1:{cluster.gateway_port}")
    widget = channels.widget(target)

    async def send(client, sender, text):
        turn = await widget(client, sender, text)
        if turn.text.startswith("Sorry, I can't answer just now"):
            raise BadReply("the graceful message: something was down or too slow")
        return turn

    # The patient waits longer than the gateway waits for Rasa (RASA_TIMEOUT_SECONDS, 150 here):
    # a slow answer is then the gateway's graceful message, counted as an error below.
    run = asyncio.run(
        run_load("cluster", send, [FAQ], 200, 60, sender_prefix="load-", timeout_seconds=180)
    )
    summary = run.summary()
    print("\n200 conversations through nginx and two gateways:", json.dumps(summary))
    assert summary["errors"] == 0, summary["error_kinds"]
    assert summary["messages"] >= 200 and summary["conversations"] >= 200
