"""A patient asks for a person: record a handoff and tell them who replies, how and when."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from actions.context import ClinicContext, channel_of, clinic_values
from clinic import facts
from clinic.handoff import request_handoff

logger = logging.getLogger(__name__)


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
        try:
            receipt = request_handoff(
                self.settings.database_url,
                clinic,
                conversation_id=tracker.sender_id,
                channel=channel_of(tracker),
                reason=self.reason,
                now=now,
            )
        except SQLAlchemyError as error:
            # The patient is never left without a route to a person: give the phone number.
            logger.error("handoff could not be recorded: %s", type(error).__name__)
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
        return []
