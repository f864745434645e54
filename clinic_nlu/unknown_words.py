"""Ask the patient to rephrase when none of their words was ever seen in training.

A classifier trained on character n-grams gives some intent to anything, often with high
confidence: "zxq vvbn ptlk" or a message in another language would get a confident answer to a
question nobody asked. This component remembers the words (and lemmas) of the training data and,
when a message has words but none of them is known, replaces the intent with `nlu_fallback`.
"""

from __future__ import annotations

import json
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.nlu.constants import TEXT, TEXT_TOKENS
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from clinic_nlu.intents import override_intent

VOCABULARY_FILE = "known_words.json"


def _words(message: Message) -> set[str]:
    """The message's alphabetic tokens, lowercased, with their lemmas."""
    words: set[str] = set()
    for token in message.get(TEXT_TOKENS) or []:
        if any(ch.isalpha() for ch in token.text):
            words.add(token.text.lower())
            if token.lemma:
                words.add(token.lemma.lower())
    return words


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class UnknownWordsFallback(GraphComponent, IntentClassifier):
    """Predict `nlu_fallback` for messages made only of words never seen in training."""

    @classmethod
    def required_components(cls) -> list[type]:
        """It reads tokens; place it after the intent classifiers, whose prediction it overrides."""
        return [Tokenizer]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """`confidence` is what the fallback intent reports."""
        return {"confidence": 1.0}

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        known: set[str] | None = None,
    ) -> None:
        self.config = config
        self._model_storage = model_storage
        self._resource = resource
        self.known = known or set()

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> UnknownWordsFallback:
        """A new, untrained component."""
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        """Remember every word and lemma of the training examples."""
        for message in training_data.training_examples:
            if message.get(TEXT):
                self.known |= _words(message)
        with self._model_storage.write_to(self._resource) as directory:
            (directory / VOCABULARY_FILE).write_text(json.dumps(sorted(self.known)))
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> UnknownWordsFallback:
        """The component with the words it learned."""
        with model_storage.read_from(resource) as directory:
            known = set(json.loads((directory / VOCABULARY_FILE).read_text()))
        return cls(config, model_storage, resource, known)

    def process(self, messages: list[Message]) -> list[Message]:
        """Replace the intent of messages whose words are all unknown."""
        for message in messages:
            words = _words(message)
            if not words or words & self.known or message.get(TEXT, "").startswith("/"):
                continue
            override_intent(message, DEFAULT_NLU_FALLBACK_INTENT_NAME, self.config["confidence"])
        return messages
