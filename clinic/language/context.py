"""Reading medspaCy ConText modifiers off the clinic vocabulary's entities."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spacy.tokens import Span


def modifiers(ent: Span) -> list:
    """ConText modifiers of an entity, except cues inside its own words ("can't breathe")."""
    return [
        modifier
        for modifier in ent._.modifiers
        if not (ent.start <= modifier.modifier_span[0] and modifier.modifier_span[1] <= ent.end)
    ]


def categories(ent: Span) -> set[str]:
    """The ConText categories that apply to an entity: NEGATED_EXISTENCE, HISTORICAL, ..."""
    return {modifier.category for modifier in modifiers(ent)}


def cue_texts(ent: Span) -> set[str]:
    """The words of the cues that modify an entity, lowercased ("years ago", "no")."""
    return {
        ent.doc[modifier.modifier_span[0] : modifier.modifier_span[1]].text.lower()
        for modifier in modifiers(ent)
    }
