"""The red-flag check inside Rasa: the last NLU component, so it sees every message on every
channel and overrides whatever the learned model predicted.

The check itself is the clinic core's (`clinic.safety.red_flags`): deterministic rules over the
clinic vocabulary and medspaCy ConText. This adapter only turns its verdict into an intent
(`red_flag_emergency`, `red_flag_urgent`) and puts the assessment on the message as `red_flag`.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from clinic.language.pipeline import load_pipeline
from clinic.safety.red_flags import Level, assess_message, default_rules
from clinic.settings import load_settings
from clinic_nlu.intents import override_intent

INTENTS = {Level.EMERGENCY: "red_flag_emergency", Level.URGENT: "red_flag_urgent"}


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class RedFlagDetector(GraphComponent, IntentClassifier):
    """Escalate danger signs deterministically, whatever the learned model said."""

    @classmethod
    def required_components(cls) -> list[type]:
        """It needs nothing before it: it reads the raw text with the shared pipeline."""
        return []

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """`pipeline`: the shared spaCy pipeline's path (default: settings / SPACY_PIPELINE)."""
        return {"pipeline": None}

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        path = config.get("pipeline") or str(load_settings().spacy_pipeline)
        self.nlp = load_pipeline(path)
        self.rules = default_rules()

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> RedFlagDetector:
        """The detector, with the shared pipeline loaded once per process."""
        return cls(config)

    def process(self, messages: list[Message]) -> list[Message]:
        """Assess each message; set a red-flag intent when it escalates."""
        for message in messages:
            text = message.get(TEXT) or ""
            if not text or text.startswith("/"):
                continue
            assessment = assess_message(self.nlp, text, self.rules)
            message.set(
                "red_flag",
                {
                    "level": assessment.level.value,
                    "flags": list(assessment.flags),
                    "signs": list(assessment.signs),
                    "rules_version": self.rules.version,
                },
                add_to_output=True,
            )
            intent = INTENTS.get(assessment.level)
            if intent is None:
                continue
            override_intent(message, intent, 1.0)
        return messages
