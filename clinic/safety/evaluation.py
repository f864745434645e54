"""Scoring the safety rules: every response checked for sources, deferral and verdicts, and the
red-flag check scored on labelled patient messages. Used by the tests and by `make evaluate`."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from clinic.safety.deferral import has_deferral, verdicts_in
from clinic.safety.red_flags import Level, assess_message

# Sources other than the patient-information seeds that a response may cite.
NON_SEED_SOURCES = frozenset(
    {"clinic.yml", "assistant", "knowledge/red_flags.yml", "knowledge/screening_rules.yml"}
)
# Claims about the procedure that only a sourced, deferring answer may make.
TREATMENT_CLAIMS = re.compile(
    r"\b(collagen|heal(s|ing)?|side[- ]effects?|risks?|downtime|recovery|numbing|results?|"
    r"safe(ly|ty)?|pain(ful)?|hurts?|scar(s|ring)?|infection|pigment)\b",
    re.IGNORECASE,
)
RED_FLAG_LABELS = ("emergency", "urgent", "after_effect", "negated", "unrelated")
ESCALATING = {"emergency": Level.EMERGENCY, "urgent": Level.URGENT}


def seed_names(seeds_dir: Path) -> frozenset[str]:
    """The file names of the patient-information texts."""
    return frozenset(path.name for path in seeds_dir.glob("*.txt"))


@dataclass(frozen=True)
class VariantCheck:
    """What one response variant says about sources, deferral and verdicts."""

    name: str
    index: int
    sources: tuple[str, ...]
    unknown_sources: tuple[str, ...]
    about_treatment: bool
    defers: bool
    verdicts: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """Sourced, deferring where it is about the treatment, and never a verdict."""
        return (
            bool(self.sources)
            and not self.unknown_sources
            and (self.defers or not self.about_treatment)
            and not self.verdicts
        )


def check_variant(name: str, index: int, variant: Mapping, seeds: frozenset[str]) -> VariantCheck:
    """Check one response variant (a domain response's text, buttons and metadata)."""
    sources = tuple((variant.get("metadata") or {}).get("source") or ())
    text = variant.get("text") or ""
    about = (
        name.startswith("utter_faq/")
        or any(source in seeds for source in sources)
        or bool(TREATMENT_CLAIMS.search(text))
    )
    spoken = " ".join([text] + [b["title"] for b in variant.get("buttons", [])])
    return VariantCheck(
        name=name,
        index=index,
        sources=sources,
        unknown_sources=tuple(sorted(set(sources) - seeds - NON_SEED_SOURCES)),
        about_treatment=about,
        defers=has_deferral(text),
        verdicts=tuple(verdicts_in(spoken)),
    )


def check_responses(responses: Mapping[str, list], seeds: frozenset[str]) -> list[VariantCheck]:
    """Every variant of every response, checked."""
    return [
        check_variant(name, index, variant, seeds)
        for name, variants in sorted(responses.items())
        for index, variant in enumerate(variants)
    ]


def red_flag_correct(label: str, level: Level) -> bool:
    """Emergency and urgent messages escalate at their level; nothing else escalates."""
    if label in ESCALATING:
        return level is ESCALATING[label]
    return level not in ESCALATING.values()


@dataclass
class RedFlagScore:
    """Correct answers per label on one labelled set, and the misses."""

    right: Counter = field(default_factory=Counter)
    total: Counter = field(default_factory=Counter)
    wrong: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def correct(self) -> int:
        return sum(self.right.values())

    @property
    def messages(self) -> int:
        return sum(self.total.values())

    def lines(self) -> list[str]:
        """The score per label, for printing."""
        rows = [
            f"  {label:13} {self.right[label]:3d} / {self.total[label]:3d} correct"
            for label in RED_FLAG_LABELS
        ]
        return [*rows, f"  overall       {self.correct} / {self.messages}"]


def load_labelled(path: Path) -> list[dict]:
    """The labelled messages of a red-flag set (`messages:` with `text` and `label`)."""
    return yaml.safe_load(path.read_text())["messages"]


def score_red_flags(nlp, messages: Iterable[dict]) -> RedFlagScore:
    """Run the red-flag check over labelled messages."""
    score = RedFlagScore()
    for message in messages:
        level = assess_message(nlp, message["text"]).level
        score.total[message["label"]] += 1
        if red_flag_correct(message["label"], level):
            score.right[message["label"]] += 1
        else:
            score.wrong.append((message["label"], level.value, message["text"]))
    return score
