"""The shared pipeline as the core uses it: the saved clinic pipeline plus medspaCy's ConText.

ConText (negation, history, hypotheticals, someone else, severity) is added here and not saved in
the pipeline Rasa loads: medspaCy registers its factories only when imported, which Rasa's
SpacyNLP never does. Its default rules are extended by `knowledge/context_rules.yml`.
"""

from __future__ import annotations

import functools
from pathlib import Path

import spacy
import yaml

from clinic.settings import PROJECT_ROOT

CONTEXT_RULES_FILE = PROJECT_ROOT / "knowledge" / "context_rules.yml"


def context_rules(path: Path = CONTEXT_RULES_FILE) -> list:
    """The clinic's extra ConText rules, as medspaCy `ConTextRule`s."""
    from medspacy.context import ConTextRule

    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    rules = [
        ConTextRule(literal, category, direction=direction)
        for category, by_direction in raw["rules"].items()
        for direction, literals in by_direction.items()
        for literal in literals
    ]
    rules += [
        ConTextRule(
            literal, block["category"], direction=block["direction"], max_scope=block["max_scope"]
        )
        for block in raw.get("limited", [])
        for literal in block["literals"]
    ]
    return rules


@functools.lru_cache(maxsize=4)
def load_pipeline(path: str, with_context: bool = True) -> spacy.language.Language:
    """Load the saved clinic pipeline once per process, with ConText after the entity ruler."""
    nlp = spacy.load(Path(path))
    if with_context:
        import medspacy  # noqa: F401 - registers the medspacy_context factory

        context = nlp.add_pipe("medspacy_context", after="entity_ruler")
        context.add(context_rules())
    return nlp
