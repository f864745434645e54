"""The start of every conversation: the clinic's name and number become slots for responses."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.context import ClinicContext

CLINIC_SLOTS = ("clinic_name", "front_desk_phone", "after_hours_phone")


class ActionSessionStart(ClinicContext, Action):
    """Start a session and set the clinic slots from clinic.yml, keeping earlier slots."""

    def name(self) -> str:
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        carried = [
            SlotSet(name, value)
            for name, value in tracker.current_slot_values().items()
            if value is not None and name not in CLINIC_SLOTS
        ]
        clinic = self.clinic
        values = {
            "clinic_name": clinic.name,
            "front_desk_phone": clinic.phones.front_desk,
            "after_hours_phone": clinic.phones.after_hours,
        }
        # The gateway puts the sender's own number in the message metadata on channels that
        # have one (WhatsApp, SMS, the phone line); it is offered, never used unconfirmed.
        metadata = tracker.get_slot("session_started_metadata") or {}
        channel_phone = (
            [SlotSet("channel_phone", metadata["phone"])] if metadata.get("phone") else []
        )
        return [
            SessionStarted(),
            *carried,
            *(SlotSet(name, values[name]) for name in CLINIC_SLOTS),
            *channel_phone,
            ActionExecuted("action_listen"),
        ]
