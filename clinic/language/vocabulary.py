"""The clinic vocabulary: conditions, medicines, symptoms, areas, concerns and treatments."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml


class VocabularyError(ValueError):
    """The vocabulary file is malformed."""


@dataclass(frozen=True)
class Term:
    """One concept with every way patients write it."""

    id: str
    label: str
    phrases: tuple[str, ...]


def load_vocabulary(path: Path | str) -> list[Term]:
    """Read and check the vocabulary file: known labels, unique ids, each phrase used once."""
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    if not isinstance(raw, dict) or "labels" not in raw or "terms" not in raw:
        raise VocabularyError(f"{path}: expected `labels` and `terms`")
    labels = set(raw["labels"])
    terms: list[Term] = []
    seen_ids: set[str] = set()
    seen_phrases: dict[str, str] = {}
    for index, entry in enumerate(raw["terms"]):
        where = f"{path}: terms[{index}]"
        if not isinstance(entry, dict) or not {"id", "label", "phrases"} <= set(entry):
            raise VocabularyError(f"{where}: needs id, label and phrases")
        term_id, label = str(entry["id"]), str(entry["label"])
        if label not in labels:
            raise VocabularyError(f"{where} ({term_id}): unknown label {label!r}")
        if term_id in seen_ids:
            raise VocabularyError(f"{where}: duplicate id {term_id!r}")
        seen_ids.add(term_id)
        phrases = tuple(" ".join(str(p).lower().split()) for p in entry["phrases"])
        if not phrases:
            raise VocabularyError(f"{where} ({term_id}): no phrases")
        for phrase in phrases:
            if phrase in seen_phrases:
                raise VocabularyError(
                    f"{where}: phrase {phrase!r} is under both "
                    f"{seen_phrases[phrase]!r} and {term_id!r}"
                )
            seen_phrases[phrase] = term_id
        terms.append(Term(term_id, label, phrases))
    return terms


def ruler_patterns(terms: list[Term]) -> list[dict]:
    """The terms as spaCy `entity_ruler` phrase patterns, each carrying its canonical id."""
    return [
        {"label": term.label, "pattern": phrase, "id": term.id}
        for term in terms
        for phrase in term.phrases
    ]
