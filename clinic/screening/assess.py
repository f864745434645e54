"""From what a patient says to a screening outcome, never to "you are suitable".

`health_mentions` reads conditions and medicines with their ConText (now, past, negated,
hypothetical, uncertain, about someone else); `answers_from_mentions` turns them into yes/no
answers to the clinic's rules; `assess` gives one of four outcomes with the rules behind it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # spaCy is loaded only where text is read, not by every importer
    from spacy.language import Language

from clinic.language.context import categories
from clinic.screening.rules import Meaning, RuleBook, ScreeningRule

HEALTH_LABELS = {"CONDITION", "MEDICATION"}
AGE = re.compile(
    r"\b(?:i'?m|i am|im|aged?|age)\s+(?:only\s+|just\s+)?(\d{1,2})\b(?:\s*(?:years?|yrs?)\s*old)?"
    r"(?!\s*(?:weeks?|months?|days?|hours?|minutes?|mins?|%|pm|am|kg|lbs?|stone)\b)",
    re.IGNORECASE,
)


class Status(str, Enum):
    """How a condition or medicine was mentioned."""

    NOW = "now"
    PAST = "past"
    NEGATED = "negated"
    HYPOTHETICAL = "hypothetical"
    UNCERTAIN = "uncertain"
    SOMEONE_ELSE = "someone_else"


class Outcome(str, Enum):
    """The four ends of a screening. None of them says the patient is suitable."""

    NOTHING_RULES_IT_OUT = "nothing_rules_it_out"
    NEEDS_REVIEW = "needs_review"
    NOT_NOW = "not_now"
    NOT_SUITABLE = "not_suitable"


@dataclass(frozen=True)
class Mention:
    """A condition or medicine in a message, and how it was said."""

    term_id: str
    text: str
    status: Status


@dataclass(frozen=True)
class Screening:
    """The outcome, the rules that led to it, and any questions still unanswered."""

    outcome: Outcome
    applying: tuple[ScreeningRule, ...]
    unanswered: tuple[str, ...]


def _status(found: set[str]) -> Status:
    if "FAMILY" in found:
        return Status.SOMEONE_ELSE
    if "HISTORICAL" in found:  # "not on it anymore" is past, not never
        return Status.PAST
    if "NEGATED_EXISTENCE" in found:
        return Status.NEGATED
    if "HYPOTHETICAL" in found:
        return Status.HYPOTHETICAL
    if "POSSIBLE_EXISTENCE" in found:
        return Status.UNCERTAIN
    return Status.NOW


def health_mentions(nlp: Language, text: str) -> list[Mention]:
    """Conditions and medicines in a message with how each was said (the pipeline has ConText)."""
    doc = nlp(text)
    return [
        Mention(ent.ent_id_, ent.text, _status(categories(ent)))
        for ent in doc.ents
        if ent.label_ in HEALTH_LABELS
    ]


def stated_age(text: str) -> int | None:
    """An age the patient states about themselves ("I'm 16", "im 34 years old")."""
    match = AGE.search(text)
    return int(match.group(1)) if match else None


def answers_from_text(nlp: Language, rulebook: RuleBook, text: str) -> dict[str, bool]:
    """The rules a message answers, yes or no, from what the patient says about themselves."""
    return answers_from_mentions(rulebook, health_mentions(nlp, text), stated_age(text))


def answers_from_mentions(
    rulebook: RuleBook, mentions: list[Mention], age: int | None = None
) -> dict[str, bool]:
    """Yes where a patient says a rule applies to them now (or in the past, where the rule asks
    about the past, or possibly, for safety); no where they deny every term of a rule they name.
    Hypotheticals and other people's conditions answer nothing."""
    answers: dict[str, bool] = {}
    for rule in rulebook.rules:
        if rule.age_below is not None and age is not None:
            answers[rule.id] = age < rule.age_below
        for mention in mentions:
            says_yes = (
                mention.status in (Status.NOW, Status.UNCERTAIN)
                and mention.term_id in rule.recognise
            ) or (mention.status is Status.PAST and mention.term_id in rule.history)
            if says_yes:
                answers[rule.id] = True
            elif (
                mention.status is Status.NEGATED
                and mention.term_id in rule.recognise
                and answers.get(rule.id) is not True
            ):
                answers[rule.id] = False
    return answers


def merge_answers(earlier: dict[str, bool], later: dict[str, bool]) -> dict[str, bool]:
    """Later answers replace earlier ones, except that a yes is never undone by silence."""
    return {**earlier, **later}


def next_question(rulebook: RuleBook, answers: dict[str, bool]) -> ScreeningRule | None:
    """The first rule not answered yet, in the file's order."""
    return next((rule for rule in rulebook.rules if rule.id not in answers), None)


def assess(rulebook: RuleBook, answers: dict[str, bool]) -> Screening:
    """The outcome for a set of answers: the most serious meaning among the rules that apply."""
    applying = tuple(rule for rule in rulebook.rules if answers.get(rule.id) is True)
    unanswered = tuple(rule.id for rule in rulebook.rules if rule.id not in answers)
    meanings = {rule.means for rule in applying}
    if Meaning.NOT_SUITABLE in meanings:
        outcome = Outcome.NOT_SUITABLE
    elif Meaning.NOT_NOW in meanings:
        outcome = Outcome.NOT_NOW
    elif Meaning.NEEDS_REVIEW in meanings:
        outcome = Outcome.NEEDS_REVIEW
    else:
        outcome = Outcome.NOTHING_RULES_IT_OUT
    return Screening(outcome, applying, unanswered)


def reasons_text(screening: Screening) -> str:
    """One line per rule that applies: what it is, why it matters, and when to come back."""
    lines = []
    for rule in screening.applying:
        line = f"• {rule.topic}: {rule.explain}"
        if rule.means is Meaning.NOT_NOW:
            line += f" It may be possible {rule.come_back}."
        elif rule.means is Meaning.NEEDS_REVIEW:
            line += " Your practitioner needs to review this with you."
        lines.append(line)
    return "\n".join(lines)


def rules_mentioned(rulebook: RuleBook, mentions: list[Mention]) -> list[ScreeningRule]:
    """Rules a patient asks or talks about for themselves ("can I have it if I have rosacea?"),
    in the file's order; denials and other people's conditions are left out."""
    terms = {m.term_id for m in mentions if m.status not in (Status.NEGATED, Status.SOMEONE_ELSE)}
    return [rule for rule in rulebook.rules if terms & (rule.recognise | rule.history)]


MEANING_NOTES = {
    Meaning.NOT_NOW: "If this applies to you, treatment would wait until {come_back}.",
    Meaning.NEEDS_REVIEW: "If this applies to you, your practitioner would review it first.",
    Meaning.NOT_SUITABLE: "If this applies to you, our sources say to avoid microneedling.",
}


def condition_notes(rules: list[ScreeningRule]) -> str:
    """What each rule means for treatment, one line each, for a patient's own question."""
    return "\n".join(
        f"• {rule.topic}: {rule.explain} "
        + MEANING_NOTES[rule.means].format(come_back=rule.come_back.removeprefix("once "))
        for rule in rules
    )
