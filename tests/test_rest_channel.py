"""The running assistant through Rasa's REST channel, with the real action server and databases.

Starts Rasa and the action server as `make run` does (on free ports, with temporary databases),
then talks to it like a patient.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import uuid

import httpx
import pytest
import yaml
from rasa.shared.core.domain import Domain
from rasa.shared.nlu.training_data.loading import load_data
from sqlalchemy import create_engine, text

from clinic.handoff import list_handoffs
from clinic.safety.deferral import has_deferral, verdicts_in
from clinic.safety.evaluation import check_variant, seed_names
from clinic.screening.records import current_consent, screenings_for
from clinic.store import upgrade_database
from stack.processes import ProcessGroup, action_server, rasa_server, write_endpoints
from tests.conftest import ROOT

MODEL = ROOT / "models" / "current.tar.gz"
DOMAIN = Domain.load(str(ROOT / "domain"))
SEEDS = seed_names(ROOT / "knowledge" / "seeds")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def assistant(tmp_path_factory):
    """Rasa and the action server running, and what the test needs to reach them."""
    assert MODEL.exists(), "no trained model: `make test` trains it first"
    tmp = tmp_path_factory.mktemp("stack")
    database_url = f"sqlite:///{tmp / 'clinic.db'}"
    tracker_url = f"sqlite:///{tmp / 'tracker.db'}"
    upgrade_database(database_url)
    actions_port, rasa_port = free_port(), free_port()
    endpoints = write_endpoints(tmp / "endpoints.yml", actions_port, tmp / "tracker.db")
    actions = action_server(actions_port)
    actions.env["DATABASE_URL"] = database_url
    with open(tmp / "stack.log", "w") as log:
        group = ProcessGroup([actions, rasa_server(MODEL, rasa_port, endpoints)], log=log)
        with group:
            yield {
                "url": f"http://127.0.0.1:{rasa_port}/webhooks/rest/webhook",
                "database_url": database_url,
                "tracker_url": tracker_url,
            }


def say(assistant, sender: str, message: str) -> list[dict]:
    response = httpx.post(assistant["url"], json={"sender": sender, "message": message}, timeout=30)
    response.raise_for_status()
    return response.json()


def texts(replies: list[dict]) -> str:
    return "\n".join(reply["text"] for reply in replies if reply.get("text"))


def template_pattern(template: str) -> re.Pattern:
    """A response template as a regex: `{placeholders}` match any text."""
    parts = re.split(r"\{[a-z_]+\}", template)
    return re.compile("(?s)" + "(.*)".join(re.escape(part) for part in parts))


NON_TREATMENT_TEMPLATES = [
    template_pattern(variant["text"])
    for name, variants in DOMAIN.responses.items()
    for variant in variants
    if not check_variant(name, 0, variant, SEEDS).about_treatment
]


def test_greeting_uses_the_clinic_file_and_offers_topics(assistant):
    [reply] = say(assistant, f"greet-{uuid.uuid4()}", "hello")
    assert reply["text"].startswith("Hello, and welcome to Lumen Skin Clinic.")
    assert [b["title"] for b in reply["buttons"]][:2] == ["How it works", "Does it hurt?"]


def test_a_question_in_the_patients_words_gets_the_answer_with_a_deferral(assistant):
    [reply] = say(assistant, f"pain-{uuid.uuid4()}", "um so does it like hurt much")
    assert reply["text"] == DOMAIN.responses["utter_faq/pain"][0]["text"]
    assert has_deferral(reply["text"])


def test_clinic_facts_come_from_the_clinic_file(assistant):
    sender = f"facts-{uuid.uuid4()}"
    assert "• Monday to Tuesday: 9am to 6pm" in texts(
        say(assistant, sender, "what are your opening hours")
    )
    assert "14 Harbour Street" in texts(say(assistant, sender, "what's your address"))
    assert "£220" in texts(say(assistant, sender, "how much does it cost"))


def test_every_reply_to_held_out_patient_questions_defers_or_is_not_about_the_treatment(assistant):
    """Whatever the model picks, a patient never gets treatment content without a deferral."""
    holdout = load_data(str(ROOT / "tests" / "nlu" / "holdout.yml"))
    sender = f"sweep-{uuid.uuid4()}"
    failures = []
    for message in holdout.intent_examples:
        for reply in say(assistant, sender, message.get("text")):
            body = reply.get("text", "")
            if not body:
                continue  # a custom payload for the channel (the phone line's transfer)
            if verdicts_in(body):
                failures.append((message.get("text"), "verdict", body[:80]))
            elif not has_deferral(body) and not any(
                p.fullmatch(body) for p in NON_TREATMENT_TEMPLATES
            ):
                failures.append((message.get("text"), "no deferral", body[:80]))
    assert not failures, failures[:10]


def test_asking_for_a_person_creates_a_handoff_staff_can_read(assistant):
    sender = f"handoff-{uuid.uuid4()}"
    say(assistant, sender, "does microneedling help acne scars")
    reply = texts(say(assistant, sender, "can I speak to a real person please"))
    [record] = [h for h in list_handoffs(assistant["database_url"]) if h.conversation_id == sender]
    assert record.channel == "rest" and record.reason == "patient_request"
    assert f"(reference {record.reference})" in reply
    assert "+44 117 496 0123" in reply or "+44 7700 900123" in reply

    shown = subprocess.run(
        [sys.executable, "-m", "clinic", "handoffs", "show", record.reference],
        env={
            "DATABASE_URL": assistant["database_url"],
            "TRACKER_DATABASE_URL": assistant["tracker_url"],
            "PATH": "/usr/bin:/bin",
        },
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "patient   does microneedling help acne scars" in shown
    assert f"{record.reference} (open): patient_request on rest" in shown


def test_the_vocabulary_entities_reach_rasa(assistant):
    sender = f"entities-{uuid.uuid4()}"
    say(assistant, sender, "I'm on roaccutane, can I still have microneedling?")
    with create_engine(assistant["tracker_url"]).connect() as connection:
        data = connection.execute(
            text("SELECT data FROM events WHERE sender_id = :s AND type_name = 'user'"),
            {"s": sender},
        ).scalar_one()
    entities = {
        (e["entity"], e["value"], e["extractor"])
        for e in json.loads(data)["parse_data"]["entities"]
    }
    assert entities == {
        ("MEDICATION", "roaccutane", "SpacyEntityExtractor"),
        ("TREATMENT", "microneedling", "SpacyEntityExtractor"),
    }


@pytest.mark.parametrize("message", ["zxq vvbn ptlk", "¿duele mucho el tratamiento?"])
def test_words_never_seen_get_asked_to_rephrase_with_topics(assistant, message):
    [reply] = say(assistant, f"unknown-{uuid.uuid4()}", message)
    assert reply["text"] == DOMAIN.responses["utter_ask_rephrase"][0]["text"]
    assert "Talk to a person" in [b["title"] for b in reply["buttons"]]


def first_text(replies: list[dict]) -> str:
    return replies[0]["text"] if replies else ""


def test_every_labelled_red_flag_message_gets_the_right_route_through_rasa(assistant):
    """The deterministic check runs inside the running assistant, before the learned model."""
    messages = yaml.safe_load((ROOT / "tests" / "safety" / "red_flag_messages.yml").read_text())
    wrong = []
    for index, message in enumerate(messages["messages"]):
        reply = first_text(say(assistant, f"flag-{index}-{uuid.uuid4()}", message["text"]))
        emergency = reply.startswith("This could be an emergency. Please call 999 now") or (
            "please call 999" in reply and "116 123" in reply
        )
        urgent = reply.startswith("I'm concerned because") and not emergency
        got = "emergency" if emergency else "urgent" if urgent else "none"
        want = message["label"] if message["label"] in ("emergency", "urgent") else "none"
        if got != want:
            wrong.append((message["label"], got, message["text"]))
    assert not wrong, wrong


def test_an_expected_after_effect_gets_reassurance_and_when_to_call(assistant):
    reply = texts(
        say(
            assistant,
            f"after-{uuid.uuid4()}",
            "had it done yesterday and I'm a bit red and tight today, is that normal?",
        )
    )
    assert reply == DOMAIN.responses["utter_after_effect"][0]["text"].format(
        front_desk_phone="+44 117 496 0123", after_hours_phone="+44 7700 900123"
    )


def answer_until_done(
    assistant, sender: str, first_reply: str, answer: str = "no"
) -> tuple[list[str], str]:
    """Answer every screening question; return the questions asked and the final reply."""
    asked, reply = [], first_reply
    for _ in range(40):
        if "(Reference S-" in reply:
            return asked, reply
        asked.append(reply)
        reply = texts(say(assistant, sender, answer))
    raise AssertionError(f"the screening did not finish: {asked[-3:]}")


def test_screening_takes_what_was_said_asks_the_rest_and_stores_the_result(assistant):
    sender = f"screen-{uuid.uuid4()}"
    followup = texts(
        say(assistant, sender, "I'm breastfeeding at the moment, could I still have microneedling?")
    )
    assert "• Breastfeeding:" in followup and "full health check" in followup
    consent = texts(say(assistant, sender, "yes please"))
    # Before any health question: what is kept, why, and for how long (clinic.yml's period).
    wording = DOMAIN.responses["utter_ask_health_consent"][1]["text"]
    assert (
        consent == wording.format(retention="1 year") and "kept with your conversation" in consent
    )
    first = texts(say(assistant, sender, "yes that's fine"))
    assert first.startswith("Are you pregnant, or could you be pregnant? (2 of 18)")
    # An interruption is answered, then the same question comes back.
    interrupted = texts(say(assistant, sender, "sorry, does the treatment itself hurt?"))
    assert interrupted.startswith(DOMAIN.responses["utter_faq/pain"][0]["text"])
    assert interrupted.endswith("Are you pregnant, or could you be pregnant? (2 of 18)")
    asked, outcome = answer_until_done(assistant, sender, first)
    assert len(asked) == 17 and not any(q.startswith("Are you breastfeeding") for q in asked)
    assert outcome.startswith("Thank you. From your answers, microneedling should wait for now:")
    assert "• Breastfeeding:" in outcome and "once you have finished breastfeeding" in outcome
    assert verdicts_in(outcome) == []
    reference = re.search(r"Reference (S-\w+)", outcome).group(1)
    [stored] = screenings_for(assistant["database_url"], sender)
    assert stored.reference == reference and json.loads(stored.reasons) == ["breastfeeding"]
    assert current_consent(assistant["database_url"], sender).given


def test_stopping_halfway_and_carrying_on_later(assistant):
    sender = f"stop-{uuid.uuid4()}"
    assert "Is that OK?" in texts(say(assistant, sender, "can you run the health check please"))
    say(assistant, sender, "yes")
    second = texts(say(assistant, sender, "no"))
    assert second.startswith("Are you breastfeeding? (2 of 18)")
    stopped = texts(say(assistant, sender, "stop, I don't want to do this now"))
    assert stopped == DOMAIN.responses["utter_screening_stopped"][0]["text"]
    assert screenings_for(assistant["database_url"], sender) == []
    resumed = texts(say(assistant, sender, "health check"))
    assert resumed.startswith("Are you breastfeeding? (2 of 18)")  # not asked again from the top


def test_declining_consent_means_no_health_questions(assistant):
    sender = f"decline-{uuid.uuid4()}"
    say(assistant, sender, "please check whether I'm able to have microneedling")
    reply = texts(say(assistant, sender, "no thanks"))
    assert reply == DOMAIN.responses["utter_screening_no_consent"][0]["text"]
    assert current_consent(assistant["database_url"], sender).given is False
    assert screenings_for(assistant["database_url"], sender) == []
