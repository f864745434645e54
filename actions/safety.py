"""Red flags: the emergency number first, or the on-call route and a handoff for staff."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.context import ClinicContext, clinic_values
from clinic import facts
from clinic.safety.red_flags import default_rules


def _joined(reasons: list[str]) -> str:
    if len(reasons) <= 1:
        return "".join(reasons) or "of what you describe"
    return "; ".join(reasons[:-1]) + "; and " + reasons[-1]


class ActionEscalateRedFlag(ClinicContext, Action):
    """Tell the patient where to get help now, and record a handoff staff will see."""

    def name(self) -> str:
        return "action_escalate_red_flag"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        clinic, now = self.clinic, self.now()
        message = tracker.latest_message or {}
        found = message.get("red_flag") or {}
        level = "emergency" if message["intent"]["name"] == "red_flag_emergency" else "urgent"
        flags = list(found.get("flags") or [])
        says = {flag.id: flag.say for flag in default_rules().flags}
        reasons = list(dict.fromkeys(says[f] for f in flags if says.get(f)))
        values = {**clinic_values(clinic), "reasons": _joined(reasons)}
        receipt = self.hand_off(tracker, level, detail=",".join(flags))
        if receipt is None:  # the patient still gets every number; only the staff record is missing
            values.update(reference="not recorded; please phone", reply_by="soon")
            clinic_open = clinic.is_open(now)
        else:
            values["reference"] = receipt.reference
            values["reply_by"] = (
                facts.when_text(clinic, receipt.reply_by, now) if receipt.reply_by else "soon"
            )
            clinic_open = receipt.clinic_open
        if "self_harm" in flags:
            response = "utter_red_flag_self_harm"
        elif level == "emergency":
            response = "utter_red_flag_emergency"
        else:
            response = (
                "utter_red_flag_urgent_open" if clinic_open else "utter_red_flag_urgent_closed"
            )
        dispatcher.utter_message(response=response, **values)
        # Safety first: any form in progress (screening, booking) stops; the patient can restart it.
        return [ActiveLoop(None), SlotSet("requested_slot", None)]
