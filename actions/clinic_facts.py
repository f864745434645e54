"""Answers about the clinic itself, with the facts taken from clinic.yml at the moment of asking."""

from __future__ import annotations

from abc import ABCMeta, abstractmethod
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.context import ClinicContext, clinic_values
from clinic import facts
from clinic.profile import ClinicProfile


class ClinicFactAction(ClinicContext, Action, metaclass=ABCMeta):
    """Utter one domain response filled with values from the clinic file (abstract)."""

    action_name = ""
    response = ""

    def name(self) -> str:
        return self.action_name

    @abstractmethod
    def values(self, clinic: ClinicProfile) -> dict[str, Any]:
        """The values this response shows."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        clinic = self.clinic
        dispatcher.utter_message(
            response=self.response, **clinic_values(clinic), **self.values(clinic)
        )
        return []


class ActionTellOpeningHours(ClinicFactAction):
    """Opening hours, whether the clinic is open now, and closures coming up."""

    action_name, response = "action_tell_opening_hours", "utter_opening_hours"

    def values(self, clinic: ClinicProfile) -> dict[str, Any]:
        now = self.now()
        return {
            "opening_hours": facts.opening_hours_text(clinic),
            "open_now": facts.open_now_text(clinic, now),
            "closures": facts.upcoming_closures_text(clinic, now),
        }


class ActionTellLocation(ClinicFactAction):
    """The clinic's address and how to get there."""

    action_name, response = "action_tell_location", "utter_location"

    def values(self, clinic: ClinicProfile) -> dict[str, Any]:
        return {"address": facts.address_text(clinic), "directions": clinic.address.directions}


class ActionTellContact(ClinicFactAction):
    """Phone, email, the on-call line and the emergency number."""

    action_name, response = "action_tell_contact", "utter_contact"

    def values(self, clinic: ClinicProfile) -> dict[str, Any]:
        return {"open_now": _open_now_short(clinic, self.now())}


class ActionTellPrices(ClinicFactAction):
    """The published price list."""

    action_name, response = "action_tell_prices", "utter_prices"

    def values(self, clinic: ClinicProfile) -> dict[str, Any]:
        return {
            "price_list": facts.price_list_text(clinic),
            "price_spoken": facts.price_summary_spoken(clinic),
        }


class ActionTellPractitioners(ClinicFactAction):
    """The clinical team."""

    action_name, response = "action_tell_practitioners", "utter_practitioners"

    def values(self, clinic: ClinicProfile) -> dict[str, Any]:
        return {"practitioners": facts.practitioners_text(clinic)}


def _open_now_short(clinic: ClinicProfile, now) -> str:
    """'open now until 6pm' or 'closed now, open Monday at 9am', for inside a sentence."""
    text = facts.open_now_text(clinic, now).rstrip(".")
    return text.replace("We're ", "").replace("; we open", ", opens")
