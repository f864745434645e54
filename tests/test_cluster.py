"""The production profile (`make cluster`): PostgreSQL, Redis, two of every process behind nginx,
all started here from Debian's packages and the project's own code."""

from __future__ import annotations

import itertools
import uuid

import httpx
import pytest

from stack.cluster import Cluster
from stack.postgres import free_port
from tests.conftest import ROOT
from tests.test_booking_live import TOKEN, book_through_the_conversation
from tests.test_rest_channel import texts

MODEL = ROOT / "models" / "current.tar.gz"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    assert MODEL.exists(), "no trained model: `make test` trains it first"
    directory = tmp_path_factory.mktemp("cluster")
    running = Cluster(
        instances=2,
        directory=directory,
        gateway_port=free_port(),
        rasa_port=free_port(),
        actions_port=free_port(),
        extra_gateway_env={"STAFF_API_TOKEN": TOKEN, "RATE_LIMIT_PER_MINUTE": "1000"},
    )
    with open(directory / "cluster.log", "w") as log:
        running.start(log=log)
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
        headers={"Authorization": f"Bearer {TOKEN}"},
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
