"""The screening form's actions and the red-flag escalation, with a real CollectingDispatcher
over trackers built from a JSON fixture, and a real database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.safety import ActionEscalateRedFlag
from actions.screening import (
    ActionAskScreeningAnswer,
    ActionConditionFollowup,
    ActionFinishScreening,
    ActionStopScreening,
    ValidateScreeningForm,
)
from clinic.handoff import list_handoffs
from clinic.screening.records import current_consent, screenings_for
from clinic.screening.rules import default_rules
from tests.conftest import local

FIXTURES = Path(__file__).parent / "fixtures"
RULEBOOK = default_rules()
DOMAIN = {"forms": {"screening_form": {"required_slots": ["health_consent", "screening_answer"]}}}


def tracker(*said: str, latest: str | None = None, intent: str = "affirm", loop=None, **slots):
    """A tracker whose patient said `said` (in order), then `latest`."""
    state = json.loads((FIXTURES / "tracker_question.json").read_text())
    state["events"] = state["events"][:3]
    for index, text in enumerate([*said, latest or "yes"]):
        state["events"].append(
            {
                "event": "user",
                "timestamp": 1795426800.0 + index,
                "text": text,
                "parse_data": {"intent": {"name": intent, "confidence": 0.99}, "entities": []},
                "input_channel": "telegram",
            }
        )
    state["latest_message"] = {"text": latest or "yes", "intent": {"name": intent}, "entities": []}
    state["slots"].update(slots)
    state["active_loop"] = {"name": loop} if loop else {}
    return Tracker.from_dict(state)


async def run(action, tracker_, at=None):
    if at is not None:
        action.clock = lambda: at
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker_, DOMAIN)
    return dispatcher.messages, events


def validate(slot: str, value, tracker_):
    form = ValidateScreeningForm()
    return getattr(form, f"validate_{slot}")(value, CollectingDispatcher(), tracker_, DOMAIN)


def test_consent_takes_in_what_the_patient_already_said(database_url):
    result = validate("health_consent", True, tracker("I'm breastfeeding, can I still do it?"))
    assert result["health_consent"] is True
    # The yes is stored at once, with its time and channel, before any health question.
    stored = current_consent(database_url, "patient-7f3a")
    assert (stored.given, stored.channel) == (True, "telegram")
    assert stored.created_at.timestamp() == 1795426801.0
    assert result["screening_answers"] == {"breastfeeding": True}
    assert result["screening_question"] == "pregnancy" and result["screening_answer"] is None


def test_without_consent_no_health_question_is_asked(database_url):
    assert validate("health_consent", False, tracker()) == {"health_consent": False}
    assert current_consent(database_url, "patient-7f3a").given is False


async def test_without_consent_the_form_only_needs_the_consent_answer():
    form = ValidateScreeningForm()
    slots = await form.required_slots(
        ["health_consent", "screening_answer"],
        CollectingDispatcher(),
        tracker(health_consent=False),
        DOMAIN,
    )
    assert slots == ["health_consent"]


def test_an_answer_moves_to_the_next_unanswered_question():
    result = validate(
        "screening_answer",
        False,
        tracker(
            latest="no", screening_question="pregnancy", screening_answers={"breastfeeding": True}
        ),
    )
    assert result["screening_answers"] == {"breastfeeding": True, "pregnancy": False}
    assert result["screening_question"] == "under_18"


def test_an_answer_that_mentions_something_else_answers_that_too():
    result = validate(
        "screening_answer",
        False,
        tracker(
            latest="no, but I am on warfarin",
            intent="deny",
            screening_question="pregnancy",
            screening_answers={},
        ),
    )
    assert result["screening_answers"] == {"pregnancy": False, "blood_thinners": True}


@pytest.mark.parametrize("rule", RULEBOOK.rules, ids=lambda r: r.id)
def test_each_rule_answered_through_the_form(rule):
    others = {r.id: False for r in RULEBOOK.rules if r.id != rule.id}
    result = validate(
        "screening_answer",
        True,
        tracker(latest="yes", screening_question=rule.id, screening_answers=others),
    )
    assert result["screening_answers"][rule.id] is True
    assert result["screening_answer"] == "complete"


async def test_the_question_is_asked_with_its_place_in_the_list():
    [message], events = await run(
        ActionAskScreeningAnswer(),
        tracker(screening_question="isotretinoin", screening_answers={"pregnancy": False}),
    )
    rule = RULEBOOK.rule("isotretinoin")
    assert message["response"] == "utter_screening_question"
    assert (message["question"], message["number"], message["total"]) == (
        rule.ask,
        2,
        len(RULEBOOK.rules),
    )
    assert events == [SlotSet("screening_question", "isotretinoin")]


async def test_finishing_stores_consent_and_result_and_tells_the_outcome(clinic, database_url):
    answers = {r.id: False for r in RULEBOOK.rules} | {"breastfeeding": True}
    [message], events = await run(
        ActionFinishScreening(),
        tracker(health_consent=True, screening_answers=answers),
        at=local(clinic, "2026-11-23 10:00"),
    )
    assert message["response"] == "utter_screening_not_now"
    assert message["reasons"].startswith("• Breastfeeding:")
    [stored] = screenings_for(database_url, "patient-7f3a")
    assert stored.reference == message["reference"] and stored.outcome == "not_now"
    assert json.loads(stored.reasons) == ["breastfeeding"] and stored.channel == "telegram"
    consent = current_consent(database_url, "patient-7f3a")
    assert consent.given and consent.id == stored.consent_id
    assert SlotSet("screening_outcome", "not_now") in events
    assert SlotSet("screening_answers", None) in events  # a new check starts afresh


async def test_refusing_consent_stores_the_refusal_and_no_health_answers(clinic, database_url):
    [message], events = await run(
        ActionFinishScreening(),
        tracker("I'm pregnant", health_consent=False),
        at=local(clinic, "2026-11-23 10:00"),
    )
    assert message["response"] == "utter_screening_no_consent"
    assert screenings_for(database_url, "patient-7f3a") == []
    assert current_consent(database_url, "patient-7f3a").given is False
    assert SlotSet("screening_outcome", "no_consent") in events


async def test_a_broken_database_still_gives_the_phone_number(clinic, tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    [message], _ = await run(
        ActionFinishScreening(),
        tracker(health_consent=True, screening_answers={}),
        at=local(clinic, "2026-11-23 10:00"),
    )
    assert message["response"] == "utter_handoff_failed" and message["front_desk"]


async def test_stopping_ends_the_form_and_keeps_answers_for_later():
    [message], events = await run(ActionStopScreening(), tracker(loop="screening_form"))
    assert message["response"] == "utter_screening_stopped"
    assert ActiveLoop(None) in events
    assert not any(isinstance(e, dict) and e.get("name") == "screening_answers" for e in events)


async def test_a_condition_question_gets_what_the_rules_say_and_an_offer():
    [message], _ = await run(
        ActionConditionFollowup(), tracker(latest="can I have it if I have rosacea?")
    )
    assert message["response"] == "utter_condition_followup"
    assert "rosacea" in message["reasons"]


@pytest.mark.parametrize(
    "kwargs",
    [{"latest": "does it hurt much?"}, {"latest": "I'm pregnant", "loop": "screening_form"}],
)
async def test_no_followup_without_a_condition_or_inside_the_form(kwargs):
    messages, _ = await run(ActionConditionFollowup(), tracker(**kwargs))
    assert messages == []


def red_flag_tracker(level: str, flags: list[str], loop=None):
    state = tracker(latest="...", intent=f"red_flag_{level}", loop=loop).current_state()
    state["latest_message"]["red_flag"] = {"level": level, "flags": flags}
    return Tracker.from_dict(state)


async def test_emergency_gives_the_emergency_number_first_and_alerts_staff(clinic, database_url):
    [message], events = await run(
        ActionEscalateRedFlag(),
        red_flag_tracker("emergency", ["breathing"]),
        at=local(clinic, "2026-11-23 10:00"),
    )
    assert message["response"] == "utter_red_flag_emergency" and message["emergency"] == "999"
    assert "trouble breathing" in message["reasons"]
    [handoff] = list_handoffs(database_url)
    assert handoff.reason == "emergency" and handoff.detail == "breathing"
    assert message["reference"] == handoff.reference


async def test_urgent_out_of_hours_gives_the_on_call_number(clinic, database_url):
    [message], _ = await run(
        ActionEscalateRedFlag(),
        red_flag_tracker("urgent", ["infection_signs"]),
        at=local(clinic, "2026-11-29 22:00"),
    )
    assert message["response"] == "utter_red_flag_urgent_closed"
    assert message["after_hours"] == "+44 7700 900123" and message["urgent_advice"] == "111"
    assert list_handoffs(database_url)[0].reason == "urgent"


async def test_urgent_in_hours_gives_the_front_desk_and_a_reply_time(clinic, database_url):
    [message], _ = await run(
        ActionEscalateRedFlag(),
        red_flag_tracker("urgent", ["blistering"]),
        at=local(clinic, "2026-11-23 10:00"),
    )
    assert message["response"] == "utter_red_flag_urgent_open"
    assert message["reply_by"] == "today at 10:30am"


async def test_self_harm_gets_the_crisis_line(clinic, database_url):
    [message], _ = await run(
        ActionEscalateRedFlag(),
        red_flag_tracker("emergency", ["self_harm"]),
        at=local(clinic, "2026-11-23 10:00"),
    )
    assert message["response"] == "utter_red_flag_self_harm"
    assert "116 123" in message["crisis_line"]


async def test_escalation_ends_a_form_in_progress(clinic, database_url):
    _, events = await run(
        ActionEscalateRedFlag(),
        red_flag_tracker("urgent", ["infection_signs"], loop="screening_form"),
        at=local(clinic, "2026-11-23 10:00"),
    )
    assert ActiveLoop(None) in events
