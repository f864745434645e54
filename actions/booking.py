"""Booking, moving, cancelling and looking up consultations: thin adapters over clinic.booking."""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions.context import ClinicContext, channel_of, clinic_values
from clinic import facts
from clinic.booking.model import (
    Booking,
    BookingError,
    BookingNotFound,
    BookingRequest,
    Slot,
    SlotTaken,
    SlotUnavailable,
)
from clinic.booking.phones import (
    InvalidPhone,
    last_digits,
    normalise_phone,
    phone_for_reading,
    phone_for_speaking,
)
from clinic.booking.service import BookingService, booking_service
from clinic.booking.slots import outside_hours_reason, slot_for
from clinic.booking.when import WhenError, parse_preference
from clinic.profile import ClinicProfile

logger = logging.getLogger(__name__)

REFERENCE = re.compile(r"\bB[\s-]?([ACDEFGHJKMNPQRTUVWXY34679]{6})\b", re.IGNORECASE)
ORDINALS = {
    "1": 0,
    "one": 0,
    "first": 0,
    "2": 1,
    "two": 1,
    "second": 1,
    "3": 2,
    "three": 2,
    "third": 2,
    "last": -1,
}
SKIP = re.compile(r"^\s*(/deny|skip|no|nope|none|nothing|n/?a|not really|no thanks|nah)\W*$", re.I)
ANOTHER_TIME = re.compile(r"\b(none|another|other|different|neither|later|earlier)\b", re.I)
FIRST_CONSULTATION = "consultation"


class BookingContext(ClinicContext):
    """The calendar and the clinic, for every booking action."""

    @property
    def bookings(self) -> BookingService:
        """The clinic's calendar (the SQL store unless an outside adapter is configured)."""
        return booking_service(self.settings.database_url, self.clinic)

    def when(self, slot: Slot) -> str:
        """'Tuesday 24 November at 2pm', in the clinic's time zone."""
        return facts.when_text(self.clinic, slot.start, self.now(), always_date=True)

    def offer_buttons(self, slots: list[Slot]) -> list[dict[str, str]]:
        """The offered times as buttons that carry their slot ids."""
        return [
            {"title": self.when(slot), "payload": f'/choose_slot{{"slot_id":"{slot.id}"}}'}
            for slot in slots
        ]


def _retry(
    dispatcher: CollectingDispatcher, tracker: Tracker, slot: str, reason: str, retry: str
) -> dict[str, Any]:
    """Say why the answer can't be used and ask again; after two misses, offer a person."""
    failures = int(tracker.get_slot("booking_failures") or 0) + 1
    dispatcher.utter_message(response="utter_booking_retry", reason=reason, retry=retry)
    if failures >= 2:
        dispatcher.utter_message(response="utter_booking_offer_person")
    return {slot: None, "booking_failures": failures}


def _ok(values: dict[str, Any]) -> dict[str, Any]:
    return {**values, "booking_failures": 0}


class ValidateBooking(BookingContext, FormValidationAction):
    """The checks every booking form shares (name, phone, time, slot, confirmation, reference)."""

    def name(self) -> str:
        return "validate_booking_form"

    consultation_type = FIRST_CONSULTATION

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        """The health check is offered only when it has not been done; choosing it now pauses
        the booking (action_complete_booking runs it, then comes back)."""
        slots = list(domain_slots)
        if "booking_screening" in slots:
            if tracker.get_slot("screening_reference"):
                slots.remove("booking_screening")
            elif tracker.get_slot("booking_screening") == "now":
                return slots[: slots.index("booking_screening") + 1]
        return slots

    def validate_booking_name(self, value: Any, dispatcher, tracker, domain) -> dict[str, Any]:
        """A name with letters, no digits, under 120 characters, without 'my name is'."""
        name = re.sub(
            r"^(my name is|my names|name is|it'?s|i'?m|i am|this is)\s+",
            "",
            str(value or "").strip(),
            flags=re.I,
        ).strip(" .!")
        if (
            len(name) < 2
            or len(name) > 120
            or any(ch.isdigit() for ch in name)
            or not any(ch.isalpha() for ch in name)
        ):
            return _retry(
                dispatcher,
                tracker,
                "booking_name",
                "that doesn't look like a name",
                "What's your full name?",
            )
        return _ok({"booking_name": " ".join(part[:1].upper() + part[1:] for part in name.split())})

    def validate_booking_phone(self, value: Any, dispatcher, tracker, domain) -> dict[str, Any]:
        """The channel's own number if the patient says yes to it; otherwise one they type."""
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        channel_phone = tracker.get_slot("channel_phone")
        if channel_phone and intent == "affirm":
            return _ok({"booking_phone": channel_phone})
        if channel_phone and intent == "deny":
            return {"booking_phone": None, "channel_phone": None}
        try:
            phone = normalise_phone(str(value or ""), self.clinic.default_phone_region)
        except InvalidPhone as error:
            return _retry(
                dispatcher,
                tracker,
                "booking_phone",
                str(error),
                "What's the best number to reach you on, with the area code?",
            )
        return _ok({"booking_phone": phone})

    def validate_booking_when(self, value: Any, dispatcher, tracker, domain) -> dict[str, Any]:
        """Find the nearest free times for what the patient asked, or say why there are none."""
        clinic, now = self.clinic, self.now()
        try:
            preference = parse_preference(str(value or ""), clinic, now)
        except WhenError as error:
            return _retry(
                dispatcher,
                tracker,
                "booking_when",
                str(error),
                'When would suit you? For example "next Tuesday afternoon".',
            )
        start, end = preference.window(clinic)
        offers = self.bookings.free_slots(
            self.type_for(tracker), start, end, now, 3, preference.within, preference.near
        )
        intro = f"For {preference.described}:"
        if not offers:
            closed = self.closed_reason(preference, start)
            # The nearest free times to what was asked: the same day outside the part of the day
            # asked for (the evening when the afternoon is full) counts, not only later days.
            wanted = preference.near or (
                datetime.combine(preference.first_day, preference.within[0], tzinfo=clinic.tz)
                if preference.within
                else start
            )
            later = self.bookings.free_slots(
                self.type_for(tracker), start, end + timedelta(days=14), now, 3, near=wanted
            )
            if not later:
                return _retry(
                    dispatcher,
                    tracker,
                    "booking_when",
                    "there are no free times in the next two weeks after that",
                    "Would another time suit you?",
                )
            intro = f"{closed or 'Nothing is free then'}, so here are the nearest free times."
            offers = later
        return _ok(
            {
                "booking_when": preference.described,
                "booking_offers": [s.id for s in offers],
                "booking_intro": intro,
                "booking_slot": None,
            }
        )

    def closed_reason(self, preference, start: datetime) -> str | None:
        """'We're closed on Sundays' when the patient asked for a day or time we are closed."""
        clinic = self.clinic
        if preference.first_day != preference.last_day:
            return None
        closure = clinic.closure_on(preference.first_day)
        if closure:
            return f"We're closed that day ({closure.reason})"
        moment = preference.near or start
        if not clinic.opening_intervals(preference.first_day) or (
            preference.near and not clinic.is_open(preference.near)
        ):
            return "Sorry, " + outside_hours_reason(clinic, moment.astimezone(clinic.tz))
        return None

    def type_for(self, tracker: Tracker) -> str:
        """Which kind of appointment is being booked."""
        return self.consultation_type

    def validate_booking_slot(self, value: Any, dispatcher, tracker, domain) -> dict[str, Any]:
        """One of the offered times: by button, by number ("the second"), or by its time."""
        offers = list(tracker.get_slot("booking_offers") or [])
        text = str(value or "").strip().lower()
        chosen = value if value in offers else None
        if chosen is None and offers:
            chosen = self._by_time(text, offers)  # "the 12:30 one": the time, not "one"
        if chosen is None and offers:
            words = re.findall(r"[a-z0-9]+", text)
            index = next((ORDINALS[w] for w in words if w in ORDINALS), None)
            chosen = offers[index] if index is not None and index < len(offers) else None
        if chosen is None:
            if ANOTHER_TIME.search(text):
                return {"booking_slot": None, "booking_when": None, "booking_offers": None}
            return _retry(
                dispatcher,
                tracker,
                "booking_slot",
                "I didn't catch which time you'd like",
                "Please choose one of the times, or say another time.",
            )
        try:
            slot_for(self.clinic, chosen, self.now())
        except SlotUnavailable as error:
            return _retry(dispatcher, tracker, "booking_slot", str(error), "Please choose another.")
        return _ok({"booking_slot": chosen})

    def _by_time(self, text: str, offers: list[str]) -> str | None:
        """The offer whose local time is named in the text ("the 2pm one", "14:30")."""
        text = re.sub(r"(\d)\s+(am|pm)\b", r"\1\2", text)
        for offer in offers:
            local = slot_for_display(self.clinic, offer).start.astimezone(self.clinic.tz)
            names = (facts.clock(local.time()), local.strftime("%H:%M"), local.strftime("%-H:%M"))
            if any(re.search(rf"(?<![\d:]){re.escape(name)}(?![\d:])", text) for name in names):
                return offer
        return None

    def validate_booking_concern(self, value: Any, dispatcher, tracker, domain) -> dict[str, Any]:
        """Optional: what the patient would like to discuss ('skip' is fine)."""
        text = str(value or "").strip()
        if not text or SKIP.match(text):
            return {"booking_concern": "none"}
        return {"booking_concern": text[:300]}

    def validate_booking_screening(self, value: Any, dispatcher, tracker, domain) -> dict[str, Any]:
        """Do the health check now, or later."""
        return {"booking_screening": value if value in ("now", "later", "done") else "later"}

    def validate_booking_confirmed(self, value: Any, dispatcher, tracker, domain) -> dict[str, Any]:
        """Yes books; no keeps nothing and asks for another time."""
        if value is True:
            return {"booking_confirmed": True}
        dispatcher.utter_message(
            text="No problem, nothing has been booked. Let's find another time."
        )
        return {
            "booking_confirmed": None,
            "booking_when": None,
            "booking_slot": None,
            "booking_offers": None,
        }

    def validate_manage_reference(self, value: Any, dispatcher, tracker, domain) -> dict[str, Any]:
        """A booking reference (B- and six characters); the channel's number is used if known."""
        match = REFERENCE.search(str(value or ""))
        if not match:
            return _retry(
                dispatcher,
                tracker,
                "manage_reference",
                "that doesn't look like a booking reference",
                "It starts with B- and has six letters or numbers, like B-7KQ3PA.",
            )
        values = {"manage_reference": f"B-{match.group(1).upper()}"}
        channel_phone = tracker.get_slot("channel_phone")
        if channel_phone and not tracker.get_slot("booking_phone"):
            values["booking_phone"] = channel_phone
        return _ok(values)


def slot_for_display(clinic: ClinicProfile, slot_id: str) -> Slot:
    """A slot from its id, without checking it can still be booked (for showing it)."""
    from clinic.booking.model import SlotId

    parsed = SlotId.parse(slot_id)
    minutes = clinic.consultation_type(parsed.consultation_type).minutes
    return Slot(
        parsed.consultation_type,
        parsed.practitioner_id,
        parsed.start,
        parsed.start + timedelta(minutes=minutes),
    )


class ValidateManagedBooking(ValidateBooking):
    """Move, cancel and look up: the reference and phone must match a booking."""

    def _verified(self, tracker: Tracker, reference: str, phone: str) -> Booking | None:
        try:
            booking = self.bookings.find(reference, phone)
        except BookingNotFound:
            return None
        return booking if booking.is_active else None

    def validate_booking_phone(self, value: Any, dispatcher, tracker, domain) -> dict[str, Any]:
        """The number must belong to the booking named by the reference."""
        values = super().validate_booking_phone(value, dispatcher, tracker, domain)
        phone, reference = values.get("booking_phone"), tracker.get_slot("manage_reference")
        if not phone or not reference:
            return values
        if self._verified(tracker, reference, phone) is None:
            return {
                **_retry(
                    dispatcher,
                    tracker,
                    "booking_phone",
                    "I can't find a booking with that reference and phone number",
                    "Please check the reference and tell me it again.",
                ),
                "manage_reference": None,
            }
        return values

    def type_for(self, tracker: Tracker) -> str:
        """A move keeps the kind of appointment."""
        reference, phone = tracker.get_slot("manage_reference"), tracker.get_slot("booking_phone")
        booking = self._verified(tracker, reference, phone) if reference and phone else None
        return booking.slot.consultation_type if booking else FIRST_CONSULTATION


class ValidateMoveForm(ValidateManagedBooking):
    """Checks for moving a booking."""

    def name(self) -> str:
        return "validate_move_form"


class ValidateCancelForm(ValidateManagedBooking):
    """Checks for cancelling a booking."""

    def name(self) -> str:
        return "validate_cancel_form"


class ValidateLookupForm(ValidateManagedBooking):
    """Checks for looking a booking up; the channel's own number needs no reference."""

    def name(self) -> str:
        return "validate_lookup_form"

    async def required_slots(self, domain_slots, dispatcher, tracker, domain) -> list[str]:
        """With the number the patient writes from, their bookings are theirs to see."""
        return [] if tracker.get_slot("channel_phone") else list(domain_slots)


class ActionAskBookingPhone(Action):
    """Offer the channel's own number, or ask for one."""

    def name(self) -> str:
        return "action_ask_booking_phone"

    async def run(self, dispatcher, tracker, domain) -> list[EventType]:
        channel_phone = tracker.get_slot("channel_phone")
        if channel_phone:
            digits = last_digits(channel_phone)
            dispatcher.utter_message(
                response="utter_ask_booking_phone_channel",
                last_digits=digits,
                last_digits_spoken=" ".join(digits),
            )
        else:
            dispatcher.utter_message(response="utter_ask_booking_phone")
        return []


class ActionAskBookingSlot(BookingContext, Action):
    """Offer up to three times as buttons (numbered on SMS and the phone line)."""

    def name(self) -> str:
        return "action_ask_booking_slot"

    async def run(self, dispatcher, tracker, domain) -> list[EventType]:
        offers = [
            slot_for_display(self.clinic, s) for s in tracker.get_slot("booking_offers") or []
        ]
        intro = tracker.get_slot("booking_intro") or "These are the nearest times I have."
        dispatcher.utter_message(
            response="utter_ask_booking_slot",
            intro=intro,
            buttons=[
                *self.offer_buttons(offers),
                {"title": "Another time", "payload": "another time"},
            ],
        )
        return []


class ActionAskBookingConfirmed(BookingContext, Action):
    """Read everything back before anything is booked, moved or cancelled."""

    def name(self) -> str:
        return "action_ask_booking_confirmed"

    async def run(self, dispatcher, tracker, domain) -> list[EventType]:
        clinic = self.clinic
        form = tracker.active_loop.get("name")
        phone = tracker.get_slot("booking_phone")
        if form == "cancel_form":
            booking = self.bookings.find(tracker.get_slot("manage_reference"), phone)
            summary = (
                f"cancel your {kind_of(clinic, booking).lower()}"
                f" on {self.when(booking.slot)} ({booking.reference})?"
            )
            dispatcher.utter_message(
                text=f"Shall I {summary}",
                buttons=[
                    {"title": "Yes, cancel it", "payload": "/affirm"},
                    {"title": "No, keep it", "payload": "/deny"},
                ],
            )
            return []
        slot = slot_for_display(clinic, tracker.get_slot("booking_slot"))
        practitioner = clinic.practitioner(slot.practitioner_id).name
        kind = clinic.consultation_type(slot.consultation_type).name
        if form == "move_form":
            reference = tracker.get_slot("manage_reference")
            summary = f"move {reference} to {self.when(slot)} with {practitioner}."
        else:
            concern = tracker.get_slot("booking_concern")
            about = f", about {concern}" if concern and concern != "none" else ""
            name = tracker.get_slot("booking_name")
            who = f"{kind} with {practitioner} on {self.when(slot)}, for {name}"
            summary = f"{who}, phone {phone_for_reading(phone)}{about}."
            spoken = f"{who}, on the number {phone_for_speaking(phone)}."
        dispatcher.utter_message(
            response="utter_ask_booking_confirmed",
            summary=summary,
            summary_spoken=spoken if form != "move_form" else summary,
        )
        return []


def kind_of(clinic: ClinicProfile, booking: Booking) -> str:
    """The consultation type's name ("Skin consultation")."""
    return clinic.consultation_type(booking.slot.consultation_type).name


def _reset(*names: str) -> list[EventType]:
    return [SlotSet(name, None) for name in names]


BOOKING_SLOTS = (
    "booking_when",
    "booking_slot",
    "booking_offers",
    "booking_confirmed",
    "booking_concern",
    "booking_screening",
    "booking_intro",
    "requested_slot",
)


class ActionCompleteBooking(BookingContext, Action):
    """Book the confirmed slot once (a repeated 'yes' or webhook books once), or, if the patient
    chose the health check first, run it and come back."""

    def name(self) -> str:
        return "action_complete_booking"

    async def run(self, dispatcher, tracker, domain) -> list[EventType]:
        if tracker.get_slot("booking_screening") == "now" and not tracker.get_slot(
            "screening_reference"
        ):
            return [SlotSet("resume_booking", True)]  # a rule starts the health check next
        if tracker.get_slot("booking_confirmed") is not True:
            return [SlotSet("resume_booking", False)]
        clinic, now = self.clinic, self.now()
        slot_id, phone = tracker.get_slot("booking_slot"), tracker.get_slot("booking_phone")
        concern = tracker.get_slot("booking_concern")
        request = BookingRequest(
            slot_id=slot_id,
            patient_name=tracker.get_slot("booking_name"),
            phone=phone,
            concern=None if concern in (None, "none") else concern,
            channel=channel_of(tracker),
            conversation_id=tracker.sender_id,
            screening_reference=tracker.get_slot("screening_reference"),
            idempotency_key=f"chat:{tracker.sender_id}:{slot_id}:{phone}",
        )
        try:
            booking = self.bookings.book(request, now)
        except (SlotTaken, SlotUnavailable) as error:
            return self.offer_again(dispatcher, tracker, slot_id, error)
        except SQLAlchemyError as error:
            logger.error("booking could not be stored: %s", type(error).__name__)
            dispatcher.utter_message(response="utter_booking_unavailable", **clinic_values(clinic))
            return [SlotSet("resume_booking", False)]
        dispatcher.utter_message(
            response="utter_booking_confirmed",
            reference=booking.reference,
            reference_spoken=", ".join(booking.reference.replace("-", "")),
            consultation=clinic.consultation_type(booking.slot.consultation_type).name,
            practitioner=clinic.practitioner(booking.slot.practitioner_id).name,
            when=self.when(booking.slot),
            address=facts.address_text(clinic),
            before_your_visit="\n".join(f"• {item}" for item in clinic.booking.before_your_visit),
            **clinic_values(clinic),
        )
        return [
            SlotSet("booking_reference", booking.reference),
            *_reset(*BOOKING_SLOTS),
            SlotSet("resume_booking", False),
        ]

    def offer_again(
        self, dispatcher, tracker, slot_id: str, error: BookingError
    ) -> list[EventType]:
        """The time has gone: offer the nearest free times around it, in the same form."""
        dispatcher.utter_message(response="utter_booking_slot_taken")
        taken = slot_for_display(self.clinic, slot_id)
        now = self.now()
        offers = self.bookings.free_slots(
            taken.consultation_type,
            taken.start - timedelta(days=1),
            taken.start + timedelta(days=14),
            now,
            3,
            near=taken.start,
        )
        intro = (
            "The nearest free times are:"
            if offers
            else "There are no other free times near it. Would another day suit you?"
        )
        return [
            SlotSet("booking_offers", [s.id for s in offers]),
            SlotSet("booking_intro", intro),
            *_reset("booking_slot", "booking_confirmed"),
            SlotSet("resume_booking", False),
            FollowupAction(tracker.active_loop.get("name") or "booking_form"),
        ]


class ActionCompleteMove(ActionCompleteBooking):
    """Move the booking to the confirmed slot, or keep it."""

    def name(self) -> str:
        return "action_complete_move"

    async def run(self, dispatcher, tracker, domain) -> list[EventType]:
        reference, phone = tracker.get_slot("manage_reference"), tracker.get_slot("booking_phone")
        slot_id = tracker.get_slot("booking_slot")
        try:
            moved = self.bookings.move(reference, phone, slot_id, self.now())
        except (SlotTaken, SlotUnavailable) as error:
            return [
                *self.offer_again(dispatcher, tracker, slot_id, error)[:-1],
                FollowupAction("move_form"),
            ]
        except BookingNotFound:
            dispatcher.utter_message(
                response="utter_booking_not_found", **clinic_values(self.clinic)
            )
            return _reset("manage_reference", *BOOKING_SLOTS)
        dispatcher.utter_message(
            response="utter_booking_moved",
            reference=moved.reference,
            when=self.when(moved.slot),
            practitioner=self.clinic.practitioner(moved.slot.practitioner_id).name,
        )
        return [
            SlotSet("booking_reference", moved.reference),
            *_reset("manage_reference", *BOOKING_SLOTS),
        ]


class ActionCompleteCancel(BookingContext, Action):
    """Cancel the booking if confirmed, or say it is kept."""

    def name(self) -> str:
        return "action_complete_cancel"

    async def run(self, dispatcher, tracker, domain) -> list[EventType]:
        reference, phone = tracker.get_slot("manage_reference"), tracker.get_slot("booking_phone")
        try:
            if tracker.get_slot("booking_confirmed") is True:
                booking = self.bookings.cancel(reference, phone, self.now())
                response = "utter_booking_cancelled"
            else:
                booking = self.bookings.find(reference, phone)
                response = "utter_booking_kept"
        except BookingNotFound:
            dispatcher.utter_message(
                response="utter_booking_not_found", **clinic_values(self.clinic)
            )
            return _reset("manage_reference", *BOOKING_SLOTS)
        dispatcher.utter_message(
            response=response, reference=booking.reference, when=self.when(booking.slot)
        )
        return _reset("manage_reference", *BOOKING_SLOTS)


class ActionCompleteLookup(BookingContext, Action):
    """Tell the patient their upcoming appointment(s)."""

    def name(self) -> str:
        return "action_complete_lookup"

    async def run(self, dispatcher, tracker, domain) -> list[EventType]:
        clinic, now = self.clinic, self.now()
        reference = tracker.get_slot("manage_reference")
        phone = tracker.get_slot("booking_phone") or tracker.get_slot("channel_phone")
        try:
            found = (
                [self.bookings.find(reference, phone)]
                if reference
                else self.bookings.upcoming(phone, now)
            )
        except BookingNotFound:
            found = []
        found = [b for b in found if b.is_active and b.slot.start > now]
        if not found:
            dispatcher.utter_message(response="utter_no_upcoming_bookings")
        else:
            lines = [
                f"• {clinic.consultation_type(b.slot.consultation_type).name} with "
                f"{clinic.practitioner(b.slot.practitioner_id).name} on {self.when(b.slot)} "
                f"({b.reference})"
                for b in found
            ]
            intro = "Your appointment:" if len(lines) == 1 else "Your appointments:"
            dispatcher.utter_message(
                response="utter_booking_details",
                details="\n".join([intro, *lines, f"We're at {facts.address_text(clinic)}."]),
            )
        return _reset("manage_reference", "requested_slot")
