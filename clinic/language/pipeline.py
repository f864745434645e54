"""The shared pipeline as the core uses it: the saved clinic pipeline plus medspaCy's ConText.

ConText (negation, history, hypotheticals, family) is added here and not saved in the pipeline
Rasa loads: medspaCy registers its factories only when imported, which Rasa's SpacyNLP never does.
"""

from __future__ import annotations

import functools
from pathlib import Path

import spacy


@functools.lru_cache(maxsize=4)
def load_pipeline(path: str, with_context: bool = True) -> spacy.language.Language:
    """Load the saved clinic pipeline once per process, with ConText after the entity ruler."""
    nlp = spacy.load(Path(path))
    if with_context:
        import medspacy  # noqa: F401 - registers the medspacy_context factory

        nlp.add_pipe("medspacy_context", after="entity_ruler")
    return nlp
