"""The clinic's screening rules (`knowledge/screening_rules.yml`): reviewed data, not code."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import yaml

from clinic.language.vocabulary import load_vocabulary
from clinic.settings import PROJECT_ROOT

RULES_FILE = PROJECT_ROOT / "knowledge" / "screening_rules.yml"
VOCABULARY_FILE = PROJECT_ROOT / "knowledge" / "vocabulary.yml"


class Meaning(str, Enum):
    """What a rule applying means for treatment, least to most serious."""

    NEEDS_REVIEW = "needs_review"
    NOT_NOW = "not_now"
    NOT_SUITABLE = "not_suitable"


class RulesError(ValueError):
    """The screening rule file is malformed."""


@dataclass(frozen=True)
class ScreeningRule:
    """One yes-or-no screening question and what a yes means."""

    id: str
    topic: str
    ask: str
    spoken: str
    means: Meaning
    explain: str
    source: tuple[str, ...]
    recognise: frozenset[str] = frozenset()
    history: frozenset[str] = frozenset()
    come_back: str = ""
    age_below: int | None = None


@dataclass(frozen=True)
class RuleBook:
    """All the rules, in the order they are asked, with the file's version."""

    version: int
    rules: tuple[ScreeningRule, ...]

    def rule(self, rule_id: str) -> ScreeningRule:
        """The rule with this id."""
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)


def load_rules(path: Path | str = RULES_FILE, vocabulary: Path | str = VOCABULARY_FILE) -> RuleBook:
    """Read and check the rules: required fields, known meanings, vocabulary ids that exist."""
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    known_ids = {term.id for term in load_vocabulary(vocabulary)}
    rules: list[ScreeningRule] = []
    seen: set[str] = set()
    for index, entry in enumerate(raw.get("rules") or []):
        where = f"{path}: rules[{index}]"
        missing = {"id", "topic", "ask", "spoken", "means", "explain", "source"} - set(entry)
        if missing:
            raise RulesError(f"{where}: missing {', '.join(sorted(missing))}")
        if entry["id"] in seen:
            raise RulesError(f"{where}: duplicate id {entry['id']!r}")
        seen.add(entry["id"])
        try:
            means = Meaning(entry["means"])
        except ValueError as error:
            raise RulesError(
                f"{where} ({entry['id']}): unknown meaning {entry['means']!r}"
            ) from error
        if means is Meaning.NOT_NOW and not entry.get("come_back"):
            raise RulesError(f"{where} ({entry['id']}): a not_now rule needs `come_back`")
        recognise = frozenset(entry.get("recognise") or ())
        history = frozenset(entry.get("history") or ())
        unknown = (recognise | history) - known_ids
        if unknown:
            raise RulesError(f"{where} ({entry['id']}): not in the vocabulary: {sorted(unknown)}")
        if not entry["source"]:
            raise RulesError(f"{where} ({entry['id']}): every rule names its source")
        rules.append(
            ScreeningRule(
                id=entry["id"],
                topic=entry["topic"],
                ask=entry["ask"],
                spoken=entry["spoken"],
                means=means,
                explain=entry["explain"],
                source=tuple(entry["source"]),
                recognise=recognise,
                history=history,
                come_back=entry.get("come_back", ""),
                age_below=entry.get("age_below"),
            )
        )
    if not rules:
        raise RulesError(f"{path}: no rules")
    return RuleBook(int(raw["version"]), tuple(rules))


@functools.lru_cache(maxsize=4)
def default_rules() -> RuleBook:
    """The clinic's shipped rules, read once per process."""
    return load_rules()
