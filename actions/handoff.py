"""A patient asks for a person: record a handoff and tell them who replies, how and when."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.context import ClinicContext, clinic_values
from clinic import facts


class ActionRequestHandoff(ClinicContext, Action):
    """Hand the conversation to staff (once), and say when they will reply."""

    reason = "patient_request"

    def name(self) -> str:
        return "action_request_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        clinic, now = self.clinic, self.now()
        values = clinic_values(clinic)
        receipt = self.hand_off(tracker, self.reason)
        if receipt is None:
            # The patient is never left without a route to a person: give the phone number.
            dispatcher.utter_message(response="utter_handoff_failed", **values)
            return []
        reply_by = (
            facts.when_text(clinic, receipt.reply_by, now)
            if receipt.reply_by
            else "as soon as the clinic reopens"
        )
        if receipt.already_waiting:
            response = "utter_handoff_already_waiting"
        elif receipt.clinic_open:
            response = "utter_handoff_open"
        else:
            response = "utter_handoff_closed"
        dispatcher.utter_message(
            response=response, reference=receipt.reference, reply_by=reply_by, **values
        )
        # For the phone line: put the caller through to the front desk (or take a callback).
        dispatcher.utter_message(
            json_message={
                "handoff": {"reference": receipt.reference, "clinic_open": receipt.clinic_open}
            }
        )
        return []
