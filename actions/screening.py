"""The screening conversation: consent, one yes/no question per rule, the outcome, storage."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions.context import ClinicContext, channel_of, clinic_values, language_pipeline
from clinic.screening.assess import (
    answers_from_text,
    assess,
    condition_notes,
    health_mentions,
    next_question,
    reasons_text,
    rules_mentioned,
)
from clinic.screening.records import current_consent, record_consent, save_screening
from clinic.screening.rules import default_rules

logger = logging.getLogger(__name__)

CONSENT_WORDING_VERSION = 1


def said_so_far(tracker: Tracker) -> dict[str, bool]:
    """Answers to the rules from everything the patient has said in this conversation."""
    nlp, rulebook = language_pipeline(), default_rules()
    answers: dict[str, bool] = {}
    for event in tracker.events:
        if event.get("event") == "user" and event.get("text") and not event["text"].startswith("/"):
            answers.update(answers_from_text(nlp, rulebook, event["text"]))
    return answers


def _progress(answers: dict[str, bool]) -> dict[str, Any]:
    """The slots that say which question comes next, or that the screening is complete."""
    question = next_question(default_rules(), answers)
    return {
        "screening_answers": answers,
        "screening_question": question.id if question else None,
        "screening_answer": None if question else "complete",
    }


class ValidateScreeningForm(ClinicContext, FormValidationAction):
    """Consent first; then each unanswered rule; what the patient says anywhere counts."""

    def name(self) -> str:
        return "validate_screening_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        """Without consent there are no health questions."""
        if tracker.get_slot("health_consent") is False:
            return ["health_consent"]
        return domain_slots

    def validate_health_consent(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Store the answer at once, with its time and channel; with consent, take in what the
        patient has already said and pick the first question."""
        store_consent(self, tracker, value is True)
        if value is not True:
            return {"health_consent": False}
        earlier = tracker.get_slot("screening_answers") or {}
        return {"health_consent": True, **_progress({**said_so_far(tracker), **earlier})}

    def validate_screening_answer(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Record the yes or no to the current question, and anything else the message says."""
        if value == "complete":
            return {"screening_answer": "complete"}
        answers = dict(tracker.get_slot("screening_answers") or {})
        text = (tracker.latest_message or {}).get("text") or ""
        if text and not text.startswith("/"):
            answers.update(answers_from_text(language_pipeline(), default_rules(), text))
        current = tracker.get_slot("screening_question")
        if current and isinstance(value, bool):
            answers[current] = value
        return _progress(answers)


class ActionAskHealthConsent(ClinicContext, Action):
    """Before any health question: what is kept, why, for how long, and how to delete it."""

    def name(self) -> str:
        return "action_ask_health_consent"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        dispatcher.utter_message(
            response="utter_ask_health_consent",
            retention=self.clinic.data_protection.retention_text(),
        )
        return []


class ActionAskScreeningAnswer(Action):
    """Ask the current screening question, with its place in the list."""

    def name(self) -> str:
        return "action_ask_screening_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        rulebook = default_rules()
        answers = tracker.get_slot("screening_answers") or {}
        current = tracker.get_slot("screening_question")
        rule = rulebook.rule(current) if current else next_question(rulebook, answers)
        if rule is None:
            return []
        dispatcher.utter_message(
            response="utter_screening_question",
            question=rule.ask,
            spoken=rule.spoken,
            number=len(answers) + 1,
            total=len(rulebook.rules),
        )
        return [SlotSet("screening_question", rule.id)]


def store_consent(context: ClinicContext, tracker: Tracker, given: bool) -> None:
    """Store the patient's yes or no to keeping health details, unless it is already stored
    (the health check's end stores it again if the database was down when it was given)."""
    database_url = context.settings.database_url
    answered_at = _consent_time(tracker, context.now())
    try:
        stored = current_consent(database_url, tracker.sender_id)
        if (
            stored is not None
            and (stored.given, stored.wording_version) == (given, CONSENT_WORDING_VERSION)
            and stored.created_at >= answered_at - timedelta(seconds=1)
        ):
            return
        record_consent(
            database_url,
            tracker.sender_id,
            channel_of(tracker),
            given,
            CONSENT_WORDING_VERSION,
            answered_at,
        )
    except SQLAlchemyError as error:
        logger.error("consent could not be stored: %s", type(error).__name__)


def _consent_time(tracker: Tracker, fallback):
    """When the patient said yes or no to keeping health details (the latest affirm or deny)."""
    from datetime import datetime, timezone

    for event in reversed(tracker.events):
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        if event.get("event") == "user" and intent in ("affirm", "deny"):
            return datetime.fromtimestamp(event["timestamp"], tz=timezone.utc)
    return fallback


def _back_to_booking(resuming: bool) -> list[EventType]:
    """After a health check chosen during a booking, the booking carries on (a rule sees
    resume_booking false); otherwise both slots are cleared."""
    if resuming:
        return [SlotSet("booking_screening", "done"), SlotSet("resume_booking", False)]
    return [SlotSet("booking_screening", None), SlotSet("resume_booking", None)]


class ActionFinishScreening(ClinicContext, Action):
    """Assess the answers, store consent and result, and tell the patient the outcome."""

    def name(self) -> str:
        return "action_finish_screening"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        now, database_url = self.now(), self.settings.database_url
        channel, consent = channel_of(tracker), tracker.get_slot("health_consent")
        # A finished check starts afresh next time (consent asked again); the result is stored.
        reset = [
            SlotSet(name, None)
            for name in (
                "screening_answer",
                "screening_question",
                "screening_answers",
                "health_consent",
            )
        ]
        try:
            store_consent(self, tracker, consent is True)
            if consent is not True:
                dispatcher.utter_message(response="utter_screening_no_consent")
                resume = _back_to_booking(bool(tracker.get_slot("resume_booking")))
                return [*reset, SlotSet("screening_outcome", "no_consent"), *resume]
            rulebook = default_rules()
            answers = tracker.get_slot("screening_answers") or {}
            screening = assess(rulebook, answers)
            resuming = bool(tracker.get_slot("resume_booking"))
            reference = save_screening(
                database_url,
                tracker.sender_id,
                channel,
                rulebook.version,
                answers,
                screening,
                now,
                booking_reference=None if resuming else tracker.get_slot("booking_reference"),
            )
        except SQLAlchemyError as error:
            logger.error("screening could not be stored: %s", type(error).__name__)
            dispatcher.utter_message(response="utter_handoff_failed", **clinic_values(self.clinic))
            return reset
        dispatcher.utter_message(
            response=f"utter_screening_{screening.outcome.value}",
            reasons=reasons_text(screening),
            reference=reference,
        )
        back_to_booking = _back_to_booking(resuming)
        return [
            *reset,
            SlotSet("screening_outcome", screening.outcome.value),
            SlotSet("screening_reference", reference),
            *back_to_booking,
        ]


class ActionStopScreening(Action):
    """Stop the questions; the answers so far stay in the conversation to carry on later."""

    def name(self) -> str:
        return "action_stop_screening"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        dispatcher.utter_message(response="utter_screening_stopped")
        return [
            ActiveLoop(None),
            SlotSet("requested_slot", None),
            SlotSet("screening_answer", None),
        ]


class ActionConditionFollowup(Action):
    """After an answer, say what any condition or medicine the patient named means for them."""

    def name(self) -> str:
        return "action_condition_followup"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        text = (tracker.latest_message or {}).get("text") or ""
        if not text or text.startswith("/") or tracker.active_loop.get("name"):
            return []
        rules = rules_mentioned(default_rules(), health_mentions(language_pipeline(), text))
        if rules:
            dispatcher.utter_message(
                response="utter_condition_followup", reasons=condition_notes(rules)
            )
        return []
