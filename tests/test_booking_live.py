"""Booking through the running assistant (Rasa, action server, gateway), end to end: the booking
is listed by the staff API and survives a restart of every process."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timezone
from pathlib import Path

import httpx
import pytest

from clinic.booking.phones import normalise_phone, phone_for_reading
from clinic.privacy import audit_entries, patient_records
from clinic.staff import issue_token
from clinic.store import upgrade_database
from stack.processes import (
    ProcessGroup,
    action_server,
    gateway_server,
    rasa_server,
    write_endpoints,
)
from tests.conftest import ROOT
from tests.test_rest_channel import free_port, texts

MODEL = ROOT / "models" / "current.tar.gz"


class Stack:
    """Rasa, the action server and the gateway on free ports, over one pair of databases."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.database_url = f"sqlite:///{tmp / 'clinic.db'}"
        upgrade_database(self.database_url)
        self.token = issue_token(self.database_url, "Live Test", datetime.now(timezone.utc))
        self.ports = {"rasa": free_port(), "actions": free_port(), "gateway": free_port()}
        self.endpoints = write_endpoints(
            tmp / "endpoints.yml", self.ports["actions"], tmp / "tracker.db"
        )
        self.group: ProcessGroup | None = None

    def start(self) -> None:
        actions = action_server(self.ports["actions"])
        actions.env["DATABASE_URL"] = self.database_url
        gateway = gateway_server(
            self.ports["gateway"],
            {
                "DATABASE_URL": self.database_url,
                "RASA_URL": f"http://127.0.0.1:{self.ports['rasa']}",
                "TRACKER_DATABASE_URL": f"sqlite:///{self.tmp / 'tracker.db'}",
            },
        )
        log = (self.tmp / "stack.log").open("a")
        self.group = ProcessGroup(
            [actions, rasa_server(MODEL, self.ports["rasa"], self.endpoints), gateway], log=log
        )
        self.group.start()

    def stop(self) -> None:
        if self.group:
            self.group.stop()

    def say(self, sender: str, message: str) -> list[dict]:
        url = f"http://127.0.0.1:{self.ports['rasa']}/webhooks/rest/webhook"
        response = httpx.post(url, json={"sender": sender, "message": message}, timeout=30)
        response.raise_for_status()
        return response.json()

    def staff(self, path: str) -> httpx.Response:
        return httpx.get(
            f"http://127.0.0.1:{self.ports['gateway']}/api/staff/{path}",
            headers={"Authorization": f"Bearer {self.token}"},
        )


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    assert MODEL.exists(), "no trained model: `make test` trains it first"
    running = Stack(tmp_path_factory.mktemp("booking"))
    running.start()
    yield running
    running.stop()


def book_through_the_conversation(
    stack: Stack, sender: str, name: str = "Priya Shah", phone: str = "07400 123456"
) -> str:
    assert "What's your full name?" in texts(
        stack.say(sender, "I'd like to book a consultation please")
    )
    assert "phone number" in texts(stack.say(sender, name))
    assert "When would suit you?" in texts(stack.say(sender, phone))
    offers = stack.say(sender, "next tuesday afternoon")
    buttons = [b for reply in offers for b in reply.get("buttons", [])]
    assert texts(offers).startswith("For Tuesday") and 2 <= len(buttons) <= 4
    assert all(b["title"].startswith("Tuesday") for b in buttons[:-1])
    assert buttons[-1]["title"] == "Another time"
    assert "talk about at the consultation" in texts(stack.say(sender, buttons[0]["payload"]))
    assert "health check now" in texts(stack.say(sender, "acne scars on my cheeks"))
    readback = texts(stack.say(sender, "not now"))
    assert re.match(
        rf"Please check: Skin consultation with (Dr Amira Hassan|Jo Reilly) "
        rf"on {buttons[0]['title']}",
        readback,
    )
    shown = phone_for_reading(normalise_phone(phone, "GB"))
    assert f"for {name}, phone {shown}, about acne scars on my cheeks." in readback
    confirmation = texts(stack.say(sender, "yes"))
    assert confirmation.startswith("You're booked. Your reference is B-")
    assert "14 Harbour Street" in confirmation and "• Bring a list of any medicines" in confirmation
    return re.search(r"reference is (B-\w{6})", confirmation).group(1)


def test_invalid_answers_are_re_asked_with_the_reason_then_a_person_is_offered(stack):
    sender = f"invalid-{uuid.uuid4()}"
    stack.say(sender, "can I book an appointment")
    stack.say(sender, "Sam Jones")
    first = texts(stack.say(sender, "12345"))
    assert first.startswith("Sorry, that isn't a valid phone number.")
    assert "Talk to a person" not in str(stack.say(sender, "07400 123456"))
    past = texts(stack.say(sender, "yesterday"))
    assert past.startswith("Sorry, that's in the past.")
    again = stack.say(sender, "the 14 of never")
    assert "a member of the team can help you" in texts(again)
    assert any(b["payload"] == "/request_human" for r in again for b in r.get("buttons", []))


def test_a_booking_is_listed_for_staff_and_survives_a_restart_of_everything(stack):
    sender = f"book-{uuid.uuid4()}"
    reference = book_through_the_conversation(stack, sender)
    listed = stack.staff("consultations").json()
    assert [b["reference"] for b in listed if b["reference"] == reference] == [reference]

    half_done = f"half-{uuid.uuid4()}"
    stack.say(half_done, "book me in please")
    stack.stop()
    stack.start()

    assert reference in [b["reference"] for b in stack.staff("consultations").json()]
    # The half-finished booking carries on where it stopped: the name is the next answer.
    assert "phone number" in texts(stack.say(half_done, "Tom Evans"))
    # And the patient can look the booking up.
    lookup = f"lookup-{uuid.uuid4()}"
    stack.say(lookup, "when is my appointment?")
    stack.say(lookup, reference)
    details = texts(stack.say(lookup, "07400 123456"))
    assert details.startswith("Your appointment:") and reference in details


def test_move_then_cancel_with_the_reference_and_phone(stack):
    reference = book_through_the_conversation(stack, f"owner-{uuid.uuid4()}", "Ana Silva")
    sender = f"move-{uuid.uuid4()}"
    stack.say(sender, "I need to move my appointment")
    stack.say(sender, f"my reference is {reference}")
    wrong = texts(stack.say(sender, "07400 123457"))
    assert "can't find a booking with that reference and phone number" in wrong
    stack.say(sender, reference)
    stack.say(sender, "07400 123456")
    offers = stack.say(sender, "friday morning")
    choice = [b for r in offers for b in r.get("buttons", [])][0]
    readback = texts(stack.say(sender, choice["payload"]))
    assert readback.startswith(f"Please check: move {reference} to {choice['title']}")
    moved = texts(stack.say(sender, "yes"))
    assert moved.startswith(f"Done: your appointment ({reference}) is now on {choice['title']}")

    cancel = f"cancel-{uuid.uuid4()}"
    stack.say(cancel, "please cancel my booking")
    stack.say(cancel, reference)
    assert "Shall I cancel your skin consultation" in texts(stack.say(cancel, "07400 123456"))
    assert texts(stack.say(cancel, "yes")).startswith(f"Your appointment {reference} on")
    statuses = {b["reference"]: b["status"] for b in stack.staff("consultations").json()}
    assert statuses[reference] == "cancelled"


def erase_through_the_conversation(stack, sender: str, phone: str, reference: str) -> str:
    """'Delete my data' in a conversation that booked with this phone: the phone is enough."""
    kept = texts(stack.say(sender, "what do you keep about me?"))
    assert kept.startswith("Here's what the clinic keeps about you:")
    assert f"booking {reference}: Skin consultation" in kept and "deleted after 1 year" in kept
    assert "phone number did you give the clinic" in texts(stack.say(sender, "delete my data"))
    readback = texts(stack.say(sender, phone))
    assert readback.startswith("I'll delete:") and f"booking {reference}" in readback
    assert "(deleting it cancels it)" in readback and "can't be undone" in readback
    done = texts(stack.say(sender, "yes"))
    assert done.startswith("Done: I've deleted this conversation and 1 booking.")
    return re.search(r"reference (D-\w{6})", done).group(1)


def assert_nothing_kept_but_the_audit_entry(
    database_url: str, tracker_url: str, sender: str, phone: str, erasure: str, actor: str
) -> None:
    """The tracker store and the clinic database hold nothing of the patient; the audit log
    holds one entry that the deletion happened."""
    e164 = normalise_phone(phone, "GB")
    records = patient_records(database_url, tracker_url, [sender], e164)
    assert records.is_empty() and records.conversation_ids == [sender]
    entries = audit_entries(database_url)
    assert [(e.actor, e.action) for e in entries if e.subject == erasure] == [(actor, "erase")]
    assert all(sender not in e.subject and e164 not in (e.detail or "") for e in entries)


def test_a_patient_deletes_their_data_in_the_conversation(stack):
    phone, sender = "07400 123461", f"erase-{uuid.uuid4()}"
    reference = book_through_the_conversation(stack, sender, "Rhian Davies", phone)
    # Someone else who knows the number, in another conversation, needs a booking reference.
    other = f"stranger-{uuid.uuid4()}"
    stack.say(other, "please delete all my data")
    assert "reference of one of them" in texts(stack.say(other, phone))
    assert "isn't the reference of a booking" in texts(stack.say(other, "B-AAAAAA"))
    readback = texts(stack.say(other, reference))
    assert readback.startswith("I'll delete:") and reference in readback
    assert texts(stack.say(other, "no")).startswith("OK, I haven't deleted anything.")
    assert reference in [b["reference"] for b in stack.staff("consultations").json()]

    erasure = erase_through_the_conversation(stack, sender, phone, reference)
    assert_nothing_kept_but_the_audit_entry(
        stack.database_url,
        f"sqlite:///{stack.tmp / 'tracker.db'}",
        sender,
        phone,
        erasure,
        "patient:rest",
    )
    assert reference not in [b["reference"] for b in stack.staff("consultations").json()]
    # The next message starts afresh, and is kept as usual.
    assert stack.say(sender, "hello")
    records = patient_records(stack.database_url, f"sqlite:///{stack.tmp / 'tracker.db'}", [sender])
    assert [c.conversation_id for c in records.conversations] == [sender]
