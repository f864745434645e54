"""The booking actions with a real CollectingDispatcher, a fixed clock and a real database."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.booking import (
    ActionAskBookingConfirmed,
    ActionAskBookingPhone,
    ActionAskBookingSlot,
    ActionCompleteBooking,
    ActionCompleteCancel,
    ActionCompleteLookup,
    ValidateBooking,
    ValidateLookupForm,
    ValidateMoveForm,
)
from clinic.booking.model import BookingRequest
from clinic.booking.service import booking_service
from tests.conftest import local

FIXTURES = Path(__file__).parent / "fixtures"
NOW = "2026-11-23 08:00"  # a Monday morning
PHONE = "+447400123456"


def tracker(
    text: str = "", intent: str = "inform", loop: str | None = "booking_form", **slots
) -> Tracker:
    state = json.loads((FIXTURES / "tracker_question.json").read_text())
    state["latest_message"] = {"text": text, "intent": {"name": intent}, "entities": []}
    state["slots"].update(slots)
    state["active_loop"] = {"name": loop} if loop else {}
    return Tracker.from_dict(state)


def validator(cls=ValidateBooking, clinic=None):
    action = cls()
    action.clock = lambda: local(clinic, NOW)
    return action


def check(action, slot: str, value, tracker_):
    dispatcher = CollectingDispatcher()
    result = getattr(action, f"validate_{slot}")(value, dispatcher, tracker_, {})
    return (
        result,
        [m.get("response") or m.get("text") for m in dispatcher.messages],
        dispatcher.messages,
    )


async def run(action, tracker_, clinic):
    action.clock = lambda: local(clinic, NOW)
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker_, {})
    return dispatcher.messages, events


@pytest.mark.parametrize(
    ("text", "name"),
    [("my name is priya shah", "Priya Shah"), ("It's Aoife Byrne.", "Aoife Byrne"), ("sam", "Sam")],
)
def test_names_are_cleaned(clinic, text, name):
    result, _, _ = check(validator(clinic=clinic), "booking_name", text, tracker(text))
    assert result["booking_name"] == name


def test_a_number_is_not_a_name(clinic):
    result, said, messages = check(
        validator(clinic=clinic), "booking_name", "07400 123456", tracker()
    )
    assert result["booking_name"] is None and said == ["utter_booking_retry"]
    assert messages[0]["reason"] == "that doesn't look like a name"


def test_phone_numbers_are_normalised_and_impossible_ones_re_asked(clinic):
    result, _, _ = check(validator(clinic=clinic), "booking_phone", "07400 123456", tracker())
    assert result["booking_phone"] == PHONE
    result, said, messages = check(
        validator(clinic=clinic), "booking_phone", "12345", tracker(booking_failures=1)
    )
    assert result == {"booking_phone": None, "booking_failures": 2}
    assert said == ["utter_booking_retry", "utter_booking_offer_person"]  # second miss: a person
    assert messages[0]["reason"] == "that isn't a valid phone number"


def test_the_channels_own_number_is_offered_and_used_on_yes(clinic):
    result, _, _ = check(
        validator(clinic=clinic),
        "booking_phone",
        "yes",
        tracker("yes", "affirm", channel_phone=PHONE),
    )
    assert result["booking_phone"] == PHONE


async def test_asking_for_the_phone_offers_the_channels_number(clinic):
    [message], _ = await run(ActionAskBookingPhone(), tracker(channel_phone=PHONE), clinic)
    assert (
        message["response"] == "utter_ask_booking_phone_channel"
        and message["last_digits"] == "3456"
    )
    [message], _ = await run(ActionAskBookingPhone(), tracker(), clinic)
    assert message["response"] == "utter_ask_booking_phone"


def test_a_preference_becomes_three_offers(clinic, database_url):
    result, _, _ = check(validator(clinic=clinic), "booking_when", "tomorrow afternoon", tracker())
    assert result["booking_when"] == "Tuesday 24 November, in the afternoon"
    assert result["booking_offers"] == [
        "consultation.ahassan.20261124T1200Z",
        "consultation.ahassan.20261124T1230Z",
        "consultation.ahassan.20261124T1300Z",
    ]


def test_a_closed_day_says_why_and_offers_the_next_times(clinic, database_url):
    result, _, _ = check(validator(clinic=clinic), "booking_when", "sunday", tracker())
    assert result["booking_intro"].startswith("Sorry, the clinic is closed on Sundays")
    assert result["booking_offers"][0] == "consultation.ahassan.20261130T0900Z"


def test_a_past_date_is_re_asked_with_the_reason(clinic, database_url):
    result, said, messages = check(validator(clinic=clinic), "booking_when", "yesterday", tracker())
    assert result["booking_when"] is None and messages[0]["reason"] == "that's in the past"


OFFERS = [
    "consultation.ahassan.20261124T1200Z",
    "consultation.ahassan.20261124T1230Z",
    "consultation.jreilly.20261124T1300Z",
]


@pytest.mark.parametrize(
    ("answer", "chosen"),
    [
        ("consultation.ahassan.20261124T1230Z", OFFERS[1]),
        ("the first one", OFFERS[0]),
        ("3", OFFERS[2]),
        ("the 12:30 one please", OFFERS[1]),
        ("1pm works", OFFERS[2]),
    ],
)
def test_choosing_an_offered_time(clinic, database_url, answer, chosen):
    result, _, _ = check(
        validator(clinic=clinic), "booking_slot", answer, tracker(booking_offers=OFFERS)
    )
    assert result["booking_slot"] == chosen


def test_asking_for_another_time_starts_the_search_again(clinic):
    result, _, _ = check(
        validator(clinic=clinic),
        "booking_slot",
        "none of those, another time",
        tracker(booking_offers=OFFERS),
    )
    assert result == {"booking_slot": None, "booking_when": None, "booking_offers": None}


async def test_offers_are_buttons_with_slot_ids(clinic):
    [message], _ = await run(ActionAskBookingSlot(), tracker(booking_offers=OFFERS[:2]), clinic)
    assert [b["title"] for b in message["buttons"]] == [
        "Tuesday 24 November at 12pm",
        "Tuesday 24 November at 12:30pm",
        "Another time",
    ]
    assert (
        message["buttons"][0]["payload"]
        == '/choose_slot{"slot_id":"consultation.ahassan.20261124T1200Z"}'
    )


@pytest.mark.parametrize("answer", ["/deny", "skip", "no thanks", "nothing"])
def test_the_concern_can_be_skipped(clinic, answer):
    assert check(validator(clinic=clinic), "booking_concern", answer, tracker())[0] == {
        "booking_concern": "none"
    }


def test_saying_no_at_the_read_back_books_nothing_and_asks_again(clinic):
    result, said, _ = check(validator(clinic=clinic), "booking_confirmed", False, tracker())
    assert result["booking_confirmed"] is None and result["booking_slot"] is None
    assert said == ["No problem, nothing has been booked. Let's find another time."]


async def test_the_read_back_says_everything(clinic):
    [message], _ = await run(
        ActionAskBookingConfirmed(),
        tracker(
            booking_slot=OFFERS[0],
            booking_name="Priya Shah",
            booking_phone=PHONE,
            booking_concern="acne scars",
        ),
        clinic,
    )
    assert message["summary"] == (
        "Skin consultation with Dr Amira Hassan on Tuesday 24 November at 12pm, for Priya Shah, "
        "phone +44 7400 123456, about acne scars."
    )


def booking_slots(**extra):
    return dict(
        booking_slot=OFFERS[0],
        booking_name="Priya Shah",
        booking_phone=PHONE,
        booking_concern="none",
        booking_confirmed=True,
        **extra,
    )


async def test_booking_twice_books_once_and_confirms_with_what_to_bring(clinic, database_url):
    [first], events = await run(
        ActionCompleteBooking(), tracker(loop=None, **booking_slots()), clinic
    )
    [again], _ = await run(ActionCompleteBooking(), tracker(loop=None, **booking_slots()), clinic)
    assert first["response"] == again["response"] == "utter_booking_confirmed"
    assert first["reference"] == again["reference"]
    assert "• Come with clean skin" in first["before_your_visit"]
    assert first["when"] == "Tuesday 24 November at 12pm" and first["address"].startswith(
        "14 Harbour"
    )
    assert SlotSet("booking_reference", first["reference"]) in events
    assert len(booking_service(database_url, clinic).list()) == 1


async def test_a_time_taken_meanwhile_offers_the_nearest_others(clinic, database_url):
    booking_service(database_url, clinic).book(
        BookingRequest(OFFERS[0], "Someone Else", "+447400123457"), local(clinic, NOW)
    )
    messages, events = await run(
        ActionCompleteBooking(), tracker(loop=None, **booking_slots()), clinic
    )
    assert [m["response"] for m in messages] == ["utter_booking_slot_taken"]
    offered = next(e["value"] for e in events if e.get("name") == "booking_offers")
    assert OFFERS[0] not in offered and len(offered) == 3
    assert events[-1] == FollowupAction("booking_form")
    assert SlotSet("resume_booking", False) in events


async def test_choosing_the_health_check_pauses_the_booking(clinic, database_url):
    _, events = await run(
        ActionCompleteBooking(),
        tracker(loop=None, **booking_slots(booking_screening="now")),
        clinic,
    )
    assert events == [SlotSet("resume_booking", True)]
    assert booking_service(database_url, clinic).list() == []


def test_move_needs_the_phone_on_the_booking(clinic, database_url):
    booked = booking_service(database_url, clinic).book(
        BookingRequest(OFFERS[0], "Priya Shah", PHONE), local(clinic, NOW)
    )
    action = validator(ValidateMoveForm, clinic)
    result, said, messages = check(
        action,
        "booking_phone",
        "07400 123457",
        tracker(loop="move_form", manage_reference=booked.reference),
    )
    assert result["booking_phone"] is None and result["manage_reference"] is None
    assert messages[0]["reason"] == "I can't find a booking with that reference and phone number"
    result, _, _ = check(
        action,
        "booking_phone",
        "07400 123456",
        tracker(loop="move_form", manage_reference=booked.reference),
    )
    assert result["booking_phone"] == PHONE


@pytest.mark.parametrize(
    ("text", "reference"), [("my ref is b-7kq3pa", "B-7KQ3PA"), ("B 4K9TX3", "B-4K9TX3")]
)
def test_references_are_read_in_any_case_and_spacing(clinic, text, reference):
    result, _, _ = check(
        validator(ValidateMoveForm, clinic), "manage_reference", text, tracker(loop="move_form")
    )
    assert result["manage_reference"] == reference


async def test_cancel_is_only_done_on_yes(clinic, database_url):
    service = booking_service(database_url, clinic)
    booked = service.book(BookingRequest(OFFERS[0], "Priya Shah", PHONE), local(clinic, NOW))
    slots = dict(manage_reference=booked.reference, booking_phone=PHONE)
    [kept], _ = await run(
        ActionCompleteCancel(), tracker(loop=None, booking_confirmed=False, **slots), clinic
    )
    assert kept["response"] == "utter_booking_kept" and service.list()[0].is_active
    [done], _ = await run(
        ActionCompleteCancel(), tracker(loop=None, booking_confirmed=True, **slots), clinic
    )
    assert done["response"] == "utter_booking_cancelled" and not service.list()[0].is_active


async def test_lookup_by_the_channels_number_needs_no_reference(clinic, database_url):
    service = booking_service(database_url, clinic)
    booked = service.book(BookingRequest(OFFERS[0], "Priya Shah", PHONE), local(clinic, NOW))
    form = validator(ValidateLookupForm, clinic)
    assert (
        await form.required_slots(
            ["manage_reference", "booking_phone"],
            CollectingDispatcher(),
            tracker(loop="lookup_form", channel_phone=PHONE),
            {},
        )
        == []
    )
    [message], _ = await run(
        ActionCompleteLookup(), tracker(loop=None, channel_phone=PHONE), clinic
    )
    assert message["details"].splitlines()[:2] == [
        "Your appointment:",
        "• Skin consultation with Dr Amira Hassan on Tuesday 24 November at 12pm "
        f"({booked.reference})",
    ]


def test_sessions_and_offers_lie_in_the_future(clinic):
    assert local(clinic, NOW) + timedelta(hours=2) < local(clinic, "2026-11-24 12:00")
