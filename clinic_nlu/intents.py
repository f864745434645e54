"""Replacing the learned model's intent from a component that knows better."""

from __future__ import annotations

from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
)
from rasa.shared.nlu.training_data.message import Message


def override_intent(message: Message, name: str, confidence: float) -> None:
    """Set the message's intent, and put it first in the ranking the policies see."""
    override = {INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: confidence}
    message.data[INTENT] = override
    message.data.setdefault(INTENT_RANKING_KEY, []).insert(0, dict(override))
