"""The red-flag check: deterministic, on every patient message, before any learned model.

It reads the clinic vocabulary's entities and their ConText modifiers from the shared spaCy
pipeline, and the rules from `knowledge/red_flags.yml`. Negated ("no fever") and hypothetical
("what if I get a fever") signs never count; past history counts unless clearly long ago.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Span

from clinic.language.context import categories, cue_texts
from clinic.settings import PROJECT_ROOT

RED_FLAGS_FILE = PROJECT_ROOT / "knowledge" / "red_flags.yml"
DEFAULT_IGNORE = frozenset({"NEGATED_EXISTENCE", "HYPOTHETICAL"})
SEVERITY = frozenset({"SEVERE", "WORSENING", "PERSISTENT", "STILL"})


class Level(str, Enum):
    """How urgently a message needs a person, most urgent first."""

    EMERGENCY = "emergency"
    URGENT = "urgent"
    AFTER_EFFECT = "after_effect"
    NONE = "none"


@dataclass(frozen=True)
class FlagRule:
    """One red flag: which signs, and which modifiers or nearby words make it one."""

    id: str
    level: Level
    signs: frozenset[str]
    say: str = ""
    with_: frozenset[str] = frozenset()
    near: frozenset[str] = frozenset()
    unless: frozenset[str] = frozenset()
    ignore: frozenset[str] = DEFAULT_IGNORE


@dataclass(frozen=True)
class RedFlagRules:
    """The clinic's red-flag rules."""

    version: int
    flags: tuple[FlagRule, ...]
    after_effect_signs: frozenset[str]
    long_ago: frozenset[str]


@dataclass(frozen=True)
class Assessment:
    """What the check found in one message."""

    level: Level
    flags: tuple[str, ...] = ()
    signs: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()

    @property
    def escalates(self) -> bool:
        """Whether the message needs the emergency or the on-call route."""
        return self.level in (Level.EMERGENCY, Level.URGENT)


def load_red_flag_rules(path: Path | str = RED_FLAGS_FILE) -> RedFlagRules:
    """Read and check the red-flag rules."""
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    flags = []
    for entry in raw["flags"]:
        level = Level(entry["level"])
        if level not in (Level.EMERGENCY, Level.URGENT):
            raise ValueError(f"{path}: flag {entry['id']} must be emergency or urgent")
        flags.append(
            FlagRule(
                id=entry["id"],
                level=level,
                signs=frozenset(entry["signs"]),
                say=entry.get("say", ""),
                with_=frozenset(entry.get("with", ())),
                near=frozenset(entry.get("near", ())),
                unless=frozenset(entry.get("unless", ())),
                ignore=frozenset(entry.get("ignore", DEFAULT_IGNORE)),
            )
        )
    return RedFlagRules(
        version=int(raw["version"]),
        flags=tuple(flags),
        after_effect_signs=frozenset(raw["after_effects"]["signs"]),
        long_ago=frozenset(phrase.lower() for phrase in raw.get("long_ago", ())),
    )


@functools.lru_cache(maxsize=4)
def default_rules() -> RedFlagRules:
    """The rules shipped in knowledge/red_flags.yml, read once per process."""
    return load_red_flag_rules()


def _asserted(ent: Span, ignore: frozenset[str], rules: RedFlagRules) -> bool:
    """Whether a sign counts: none of the `ignore` categories, and not clearly long ago."""
    found = categories(ent)
    if found & ignore:
        return False
    if "HISTORICAL" in found:  # someone else's past, or clearly long ago, is not a sign now
        return "FAMILY" not in found and not cue_texts(ent) & rules.long_ago
    return True


def _dangling_cues(doc) -> set[str]:
    """Severity cues that modify nothing in their own sentence: "Keeps getting worse." after a
    sentence about swelling still describes the swelling."""
    return {
        modifier.category
        for modifier in doc._.context_graph.modifiers
        if modifier.num_targets == 0 and modifier.category in SEVERITY
    }


def assess_message(nlp: Language, text: str, rules: RedFlagRules | None = None) -> Assessment:
    """Check one message; `nlp` is the shared pipeline with ConText (clinic.language)."""
    rules = rules or default_rules()
    doc = nlp(text)
    dangling = _dangling_cues(doc)
    matched: list[FlagRule] = []
    for flag in rules.flags:
        candidates = [ent for ent in doc.ents if _asserted(ent, flag.ignore, rules)]
        for ent in candidates:
            if ent.ent_id_ not in flag.signs or categories(ent) & flag.unless:
                continue
            if flag.with_ and not ((categories(ent) | dangling) & flag.with_):
                continue
            if flag.near and not any(
                other.ent_id_ in flag.near and other.sent == ent.sent for other in candidates
            ):
                continue
            matched.append(flag)
            break
    asserted = [ent for ent in doc.ents if _asserted(ent, DEFAULT_IGNORE, rules)]
    signs = tuple(dict.fromkeys(ent.ent_id_ for ent in asserted))
    for level in (Level.EMERGENCY, Level.URGENT):
        found = [flag for flag in matched if flag.level == level]
        if found:
            reasons = tuple(dict.fromkeys(flag.say for flag in found if flag.say))
            return Assessment(level, tuple(flag.id for flag in found), signs, reasons)
    if any(sign in rules.after_effect_signs for sign in signs):
        return Assessment(Level.AFTER_EFFECT, (), signs)
    return Assessment(Level.NONE, (), signs)
