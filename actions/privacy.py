"""Patients' data in the conversation: "what do you keep about me?" and "delete my data".

Who the patient is: the conversation itself is always theirs. The records under a phone number
are theirs when the platform vouches for the number (WhatsApp, SMS and the phone line give the
sender's number), when this conversation made bookings with it, or when they give the reference
of a booking made with it (the same proof that moves or cancels a booking).
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from sqlalchemy.exc import SQLAlchemyError

from actions.booking import REFERENCE, SKIP, _ok, _retry
from actions.context import ClinicContext, channel_of, clinic_values
from clinic import facts
from clinic.booking.model import BookingNotFound
from clinic.booking.phones import InvalidPhone, normalise_phone
from clinic.booking.service import booking_service
from clinic.privacy import PatientRecords, erase_patient, patient_records
from clinic.store import BookingRecord

logger = logging.getLogger(__name__)

NONE = "none"
ERASE_SLOTS = ("erase_phone", "erase_reference", "erase_verified", "erase_confirmed")


def _plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


class PrivacyContext(ClinicContext):
    """The patient's records, as far as this conversation shows who they are."""

    def verified_phone(self, tracker: Tracker) -> str | None:
        """The phone number shown to be the patient's, if any."""
        channel_phone = tracker.get_slot("channel_phone")
        if channel_phone:
            return channel_phone
        phone = tracker.get_slot("erase_phone")
        if phone and phone != NONE and tracker.get_slot("erase_verified"):
            return phone
        return None

    def records(self, tracker: Tracker, phone: str | None) -> PatientRecords:
        """What the clinic database keeps about this conversation's patient."""
        return patient_records(self.settings.database_url, None, [tracker.sender_id], phone)

    def summary(self, tracker: Tracker, records: PatientRecords) -> tuple[list[str], str]:
        """The records as bullet lines, and a short spoken form."""
        clinic, now = self.clinic, self.now()
        messages = sum(1 for e in tracker.events if e.get("event") in ("user", "bot"))
        first = next((e["timestamp"] for e in tracker.events if e.get("timestamp")), None)
        since = (
            f" since {datetime.fromtimestamp(first, tz=timezone.utc).astimezone(clinic.tz):%-d %B}"
            if first
            else ""
        )
        others = len([c for c in records.conversation_ids if c != tracker.sender_id])
        lines = [f"• this conversation: {_plural(messages, 'message')}{since}"]
        if others:
            lines.append(f"• {_plural(others, 'other conversation')} with the clinic's assistant")
        for booking in records.bookings:
            lines.append(f"• {self._booking_line(booking, now)}")
        if records.screenings:
            outcomes = ", ".join(
                f"{s.reference} ({s.created_at.astimezone(clinic.tz):%-d %B})"
                for s in records.screenings
            )
            lines.append(
                f"• {_plural(len(records.screenings), 'health check')} with your answers "
                f"and the result: {outcomes}"
            )
        for consent in records.consents:
            answer = "yes" if consent.given else "no"
            lines.append(
                f"• your answer ({answer}) to keeping health details, "
                f"{consent.created_at.astimezone(clinic.tz):%-d %B} on {consent.channel}"
            )
        if records.handoffs:
            lines.append(f"• {_plural(len(records.handoffs), 'request')} for a member of staff")
        spoken = (
            f"I keep this conversation, {_plural(len(records.bookings), 'booking')}, "
            f"{_plural(len(records.screenings), 'health check')} and "
            f"{_plural(len(records.consents), 'consent answer')}."
        )
        return lines, spoken

    def _booking_line(self, booking: BookingRecord, now: datetime) -> str:
        clinic = self.clinic
        kind = clinic.consultation_type(booking.consultation_type).name
        when = facts.when_text(clinic, booking.start_at, now, always_date=True)
        upcoming = booking.status == "confirmed" and booking.start_at > now
        state = "" if booking.status == "confirmed" else f", {booking.status}"
        return (
            f"booking {booking.reference}: {kind} on {when}{state}, "
            f"with the name and phone number you gave"
            + (" (deleting it cancels it)" if upcoming else "")
        )


class ValidateEraseForm(PrivacyContext, FormValidationAction):
    """Check who is asking before anything is deleted."""

    def name(self) -> str:
        return "validate_erase_form"

    async def required_slots(self, domain_slots, dispatcher, tracker, domain) -> list[str]:
        """The number the patient writes or calls from needs no further proof; a number typed
        in needs a booking reference unless this conversation made bookings with it."""
        if tracker.get_slot("channel_phone"):
            return ["erase_confirmed"]
        phone = tracker.get_slot("erase_phone")
        if phone and phone != NONE and not tracker.get_slot("erase_verified"):
            return ["erase_phone", "erase_reference", "erase_confirmed"]
        return ["erase_phone", "erase_confirmed"]

    def validate_erase_phone(self, value: Any, dispatcher, tracker, domain) -> dict[str, Any]:
        """'none', or a phone number: verified if this conversation booked with it."""
        text = str(value or "")
        if SKIP.match(text) or text.strip().lower() in ("none", "never", "i never gave one"):
            return _ok({"erase_phone": NONE, "erase_verified": False})
        try:
            phone = normalise_phone(text, self.clinic.default_phone_region)
        except InvalidPhone as error:
            return _retry(
                dispatcher,
                tracker,
                "erase_phone",
                str(error),
                'What number did you give the clinic? Or say "none".',
            )
        bookings = patient_records(self.settings.database_url, None, [], phone).bookings
        if not bookings:
            dispatcher.utter_message(response="utter_erase_no_records_for_phone")
            return _ok({"erase_phone": NONE, "erase_verified": False})
        ours = any(b.conversation_id == tracker.sender_id for b in bookings)
        return _ok({"erase_phone": phone, "erase_verified": ours})

    def validate_erase_reference(self, value: Any, dispatcher, tracker, domain) -> dict[str, Any]:
        """A reference of a booking made with the number given."""
        match = REFERENCE.search(str(value or ""))
        phone = tracker.get_slot("erase_phone")
        if match:
            reference = f"B-{match.group(1).upper()}"
            try:  # the same proof that moves or cancels a booking
                booking_service(self.settings.database_url, self.clinic).find(reference, phone)
                return _ok({"erase_reference": reference, "erase_verified": True})
            except BookingNotFound:
                pass
        return _retry(
            dispatcher,
            tracker,
            "erase_reference",
            "that isn't the reference of a booking with that number",
            "It starts with B- and has six letters or numbers, like B-7KQ3PA.",
        )


class ActionAskEraseConfirmed(PrivacyContext, Action):
    """Say exactly what will be deleted, then ask."""

    def name(self) -> str:
        return "action_ask_erase_confirmed"

    async def run(self, dispatcher, tracker, domain) -> list[EventType]:
        try:
            records = self.records(tracker, self.verified_phone(tracker))
        except SQLAlchemyError as error:
            logger.error("records could not be read for deletion: %s", type(error).__name__)
            dispatcher.utter_message(response="utter_erase_failed", **clinic_values(self.clinic))
            return []
        lines, spoken = self.summary(tracker, records)
        dispatcher.utter_message(
            response="utter_ask_erase_confirmed",
            summary="\n".join(["I'll delete:", *lines]),
            summary_spoken=spoken.replace("I keep", "I'll delete"),
        )
        return []


class ActionEraseData(PrivacyContext, Action):
    """Delete everything, if confirmed; the tracker store then drops the conversation."""

    def name(self) -> str:
        return "action_erase_data"

    async def run(self, dispatcher, tracker, domain) -> list[EventType]:
        reset = [SlotSet(name, None) for name in ERASE_SLOTS]
        if tracker.get_slot("erase_confirmed") is not True:
            dispatcher.utter_message(response="utter_data_not_erased")
            return reset
        phone = self.verified_phone(tracker)
        try:
            erasure = erase_patient(
                self.settings.database_url,
                None,  # Rasa's tracker store deletes the conversations when it saves this turn
                f"patient:{channel_of(tracker)}",
                self.now(),
                [tracker.sender_id],
                phone,
            )
        except SQLAlchemyError as error:
            logger.error("data could not be erased: %s", type(error).__name__)
            dispatcher.utter_message(response="utter_erase_failed", **clinic_values(self.clinic))
            return reset
        counts = erasure.counts
        parts = ["this conversation"] + [
            _plural(counts[kind], label)
            for kind, label in (
                ("bookings", "booking"),
                ("screenings", "health check"),
                ("consents", "consent answer"),
                ("handoffs", "request for staff"),
            )
            if counts.get(kind)
        ]
        what = ", ".join(parts[:-1]) + f" and {parts[-1]}" if len(parts) > 1 else parts[0]
        dispatcher.utter_message(
            response="utter_data_erased", what=what, reference=erasure.reference
        )
        logger.info("patient data erased (%s)", erasure.reference)
        return [
            *reset,
            SlotSet(
                "data_erased",
                {"reference": erasure.reference, "conversations": list(erasure.conversation_ids)},
            ),
        ]


class ActionWhatWeKeep(PrivacyContext, Action):
    """Tell the patient what is kept about them, why, for how long, and how to delete it."""

    def name(self) -> str:
        return "action_what_we_keep"

    async def run(self, dispatcher, tracker, domain) -> list[EventType]:
        clinic = self.clinic
        try:
            records = self.records(tracker, tracker.get_slot("channel_phone"))
        except SQLAlchemyError as error:
            logger.error("records could not be read: %s", type(error).__name__)
            dispatcher.utter_message(response="utter_erase_failed", **clinic_values(clinic))
            return []
        lines, spoken = self.summary(tracker, records)
        period = clinic.data_protection.retention_text()
        why = (
            f"The clinic keeps these to answer you, to run your bookings and, with your consent, "
            f"so your practitioner can see your health answers; they're deleted after {period}. "
            "Nothing is shared outside the clinic."
        )
        dispatcher.utter_message(
            response="utter_data_kept",
            summary="\n".join(["Here's what the clinic keeps about you:", *lines]),
            summary_spoken=spoken,
            why=why,
            contact=clinic.data_protection.contact or clinic.email or clinic.phones.front_desk,
        )
        return []
