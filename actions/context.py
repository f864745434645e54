"""What every action needs: the clinic, the time, the channel and the patient's conversation id."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from rasa_sdk import Tracker
from sqlalchemy.exc import SQLAlchemyError

from clinic.handoff import HandoffReceipt, request_handoff
from clinic.profile import ClinicProfile, current_clinic
from clinic.settings import load_settings

logger = logging.getLogger(__name__)


def utc_now() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(timezone.utc)


class ClinicContext:
    """The clinic file, settings and clock, replaceable in tests (`clock`)."""

    clock: Callable[[], datetime] = staticmethod(utc_now)

    @property
    def settings(self):
        """The settings, read from the environment each time (cheap)."""
        return load_settings()

    @property
    def clinic(self) -> ClinicProfile:
        """The clinic file, re-read when it changes on disk."""
        return current_clinic(self.settings.clinic_file)

    def now(self) -> datetime:
        """The current time according to this action's clock."""
        return self.clock()

    def hand_off(
        self, tracker: Tracker, reason: str, detail: str | None = None
    ) -> HandoffReceipt | None:
        """Record a handoff for staff; None, with the error logged, if the database fails
        (the caller still gives the patient a phone number)."""
        try:
            return request_handoff(
                self.settings.database_url,
                self.clinic,
                conversation_id=tracker.sender_id,
                channel=channel_of(tracker),
                reason=reason,
                now=self.now(),
                detail=detail,
            )
        except SQLAlchemyError as error:
            logger.error("handoff (%s) could not be recorded: %s", reason, type(error).__name__)
            return None


def channel_of(tracker: Tracker) -> str:
    """The channel the patient's latest message came in on (`rest` when unknown)."""
    return tracker.get_latest_input_channel() or "rest"


def clinic_values(clinic: ClinicProfile) -> dict[str, Any]:
    """The clinic facts most responses can mention."""
    return {
        "clinic_name": clinic.name,
        "front_desk": clinic.phones.front_desk,
        "after_hours": clinic.phones.after_hours,
        "emergency": clinic.phones.emergency,
        "urgent_advice": clinic.phones.urgent_advice or clinic.phones.emergency,
        "crisis_line": clinic.phones.crisis_line or clinic.phones.emergency,
        "email": clinic.email,
    }


def language_pipeline():
    """The shared spaCy pipeline with ConText, loaded once per process."""
    from clinic.language.pipeline import load_pipeline

    return load_pipeline(str(load_settings().spacy_pipeline))
