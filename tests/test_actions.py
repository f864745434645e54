"""Every custom action, run with a real CollectingDispatcher over trackers from JSON fixtures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import ActionExecuted, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.clinic_facts import (
    ActionTellContact,
    ActionTellLocation,
    ActionTellOpeningHours,
    ActionTellPractitioners,
    ActionTellPrices,
)
from actions.handoff import ActionRequestHandoff
from actions.session import ActionSessionStart
from clinic.handoff import list_handoffs
from tests.conftest import local

FIXTURES = Path(__file__).parent / "fixtures"


def tracker(name: str = "tracker_question.json", **slots) -> Tracker:
    state = json.loads((FIXTURES / name).read_text())
    state["slots"].update(slots)
    return Tracker.from_dict(state)


async def run(action, tracker_: Tracker, at=None, clinic=None):
    if at is not None:
        action.clock = lambda: at
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker_, {})
    return dispatcher.messages, events


async def test_session_start_sets_the_clinic_slots_and_keeps_others(clinic):
    messages, events = await run(ActionSessionStart(), tracker(consent_given=True))
    assert messages == []
    assert events[0] == SessionStarted()
    assert SlotSet("clinic_name", "Lumen Skin Clinic") in events
    assert SlotSet("front_desk_phone", "+44 117 496 0123") in events
    assert SlotSet("consent_given", True) in events
    assert events[-1] == ActionExecuted("action_listen")


async def test_opening_hours_when_open(clinic):
    [message], events = await run(
        ActionTellOpeningHours(), tracker(), at=local(clinic, "2026-12-21 10:00")
    )
    assert events == []
    assert message["response"] == "utter_opening_hours"
    assert message["clinic_name"] == "Lumen Skin Clinic"
    assert message["open_now"] == "We're open now, until 6pm."
    assert "• Sunday: closed" in message["opening_hours"]
    assert "Christmas Day" in message["closures"]


async def test_contact_when_closed_gives_the_after_hours_and_emergency_numbers(clinic):
    [message], _ = await run(ActionTellContact(), tracker(), at=local(clinic, "2026-11-29 10:00"))
    assert message["response"] == "utter_contact"
    assert message["open_now"] == "closed right now, opens tomorrow at 9am"
    assert (message["after_hours"], message["emergency"]) == ("+44 7700 900123", "999")


@pytest.mark.parametrize(
    ("action", "response", "key", "expected"),
    [
        (ActionTellLocation, "utter_location", "address", "14 Harbour Street, Bristol BS1 4QA"),
        (ActionTellPrices, "utter_prices", "price_list", "• Microneedling, face: £220"),
        (ActionTellPractitioners, "utter_practitioners", "practitioners", "Dr Amira Hassan"),
    ],
)
async def test_clinic_facts_come_from_the_clinic_file(clinic, action, response, key, expected):
    [message], events = await run(action(), tracker(), at=local(clinic, "2026-11-23 10:00"))
    assert message["response"] == response and events == []
    assert expected in message[key]


async def test_clinic_file_changes_are_picked_up_without_restart(tmp_path, monkeypatch, clinic):
    from tests.test_profile import write_clinic

    monkeypatch.setenv("CLINIC_FILE", str(write_clinic(tmp_path, name="Harbour Skin")))
    [message], _ = await run(ActionTellLocation(), tracker(), at=local(clinic, "2026-11-23 10:00"))
    assert message["clinic_name"] == "Harbour Skin"


async def test_handoff_in_opening_hours_records_and_promises_a_time(clinic, database_url):
    [message, transfer], events = await run(
        ActionRequestHandoff(), tracker(), at=local(clinic, "2026-11-23 10:00")
    )
    assert events == []
    [record] = list_handoffs(database_url)
    assert (record.conversation_id, record.channel) == ("patient-7f3a", "telegram")
    assert message["response"] == "utter_handoff_open"
    assert message["reference"] == record.reference
    assert message["reply_by"] == "today at 10:30am"
    assert message["front_desk"] == "+44 117 496 0123"
    assert transfer["custom"] == {"handoff": {"reference": record.reference, "clinic_open": True}}


async def test_handoff_when_closed_says_when_and_gives_urgent_routes(clinic, database_url):
    [message, _transfer], _ = await run(
        ActionRequestHandoff(), tracker(), at=local(clinic, "2026-11-28 18:30")
    )
    assert message["response"] == "utter_handoff_closed"
    assert message["reply_by"] == "Monday at 9am"
    assert (message["after_hours"], message["emergency"]) == ("+44 7700 900123", "999")


async def test_second_handoff_request_is_not_queued_twice(clinic, database_url):
    at = local(clinic, "2026-11-23 10:00")
    await run(ActionRequestHandoff(), tracker(), at=at)
    [message, _transfer], _ = await run(ActionRequestHandoff(), tracker(), at=at)
    assert message["response"] == "utter_handoff_already_waiting"
    assert len(list_handoffs(database_url)) == 1


async def test_handoff_with_a_broken_database_still_gives_the_phone_number(
    clinic, tmp_path, monkeypatch, caplog
):
    # A database without the schema: every query fails inside SQLAlchemy.
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    [message], events = await run(
        ActionRequestHandoff(), tracker(), at=local(clinic, "2026-11-23 10:00")
    )
    assert events == []
    assert message["response"] == "utter_handoff_failed"
    assert message["front_desk"] == "+44 117 496 0123"
    assert "handoff (patient_request) could not be recorded: OperationalError" in caplog.text
    assert "patient-7f3a" not in caplog.text
