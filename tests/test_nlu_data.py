"""The training data: enough varied examples per label, a clean held-out set, buttons that work."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.nlu.training_data.loading import load_data

from tests.conftest import ROOT

TRAINING = load_data(str(ROOT / "data" / "nlu"))
HOLDOUT = load_data(str(ROOT / "tests" / "nlu" / "holdout.yml"))
DOMAIN = Domain.load(str(ROOT / "domain"))


def label(message) -> str:
    return message.get("intent_response_key") or message.get("intent")


def normalised(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def test_every_label_has_at_least_20_distinct_examples():
    counts = Counter(label(m) for m in TRAINING.intent_examples)
    thin = {name: n for name, n in counts.items() if n < 20}
    assert not thin, f"labels with fewer than 20 examples: {thin}"


def test_every_faq_key_has_an_answer_and_every_answer_has_examples():
    keys = {label(m) for m in TRAINING.intent_examples if label(m).startswith("faq/")}
    answers = {
        name.removeprefix("utter_") for name in DOMAIN.responses if name.startswith("utter_faq/")
    }
    assert keys == answers


# Set by the deterministic red-flag check (clinic_nlu/red_flags.py) or only by buttons
# (choose_slot carries a slot id), never learned from examples.
NOT_LEARNED = {
    "nlu_fallback",
    "restart",
    "session_start",
    "back",
    "red_flag_emergency",
    "red_flag_urgent",
    "choose_slot",
}


def test_every_domain_intent_has_training_examples():
    trained = {m.get("intent") for m in TRAINING.intent_examples}
    assert set(DOMAIN.intents) - NOT_LEARNED <= trained
    assert not NOT_LEARNED & trained, "these intents must not be learned from examples"


def test_no_example_is_repeated_or_given_two_labels():
    seen: dict[str, str] = {}
    clashes = []
    for message in TRAINING.intent_examples:
        key = normalised(message.get("text"))
        if key in seen:
            clashes.append((message.get("text"), seen[key], label(message)))
        seen[key] = label(message)
    assert not clashes, f"repeated examples: {clashes[:10]}"


def test_held_out_examples_are_not_in_the_training_data():
    trained = {normalised(m.get("text")) for m in TRAINING.intent_examples}
    leaked = [
        m.get("text") for m in HOLDOUT.intent_examples if normalised(m.get("text")) in trained
    ]
    assert not leaked, f"held-out messages also in data/nlu: {leaked}"


def test_held_out_set_covers_every_label():
    assert {label(m) for m in HOLDOUT.intent_examples} == {
        label(m) for m in TRAINING.intent_examples
    }


BUTTONS = [
    (name, button["title"], button["payload"])
    for name, variants in DOMAIN.responses.items()
    for variant in variants
    for button in variant.get("buttons", [])
]


@pytest.mark.parametrize(("response", "title", "payload"), BUTTONS)
def test_button_payloads_are_intents_or_trained_questions(response, title, payload):
    if payload.startswith("/"):
        assert payload[1:] in DOMAIN.intents, f"{response}: {title} -> unknown intent {payload}"
    else:
        trained = {normalised(m.get("text")) for m in TRAINING.intent_examples}
        assert normalised(payload) in trained, f"{response}: button text {payload!r} is not trained"
