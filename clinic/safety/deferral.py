"""Every answer about the treatment defers to a qualified professional, and none gives a verdict.

These checks are used by the tests over every response in the domain and every message the
running assistant sends, so the wording the clinic writes is held to the rule.
"""

from __future__ import annotations

import re

_PROFESSIONAL = (
    r"(practitioner|clinician|doctor|dermatologist|nurse|GP|"
    r"(skin[- ]care|qualified|medical|health(care)?) professional)s?"
)

# A deferral names a professional and hands the decision or advice to them.
DEFERRAL_PATTERNS = [
    re.compile(
        rf"\b(your|a|the|our) (?:[\w-]+ ){{0,2}}{_PROFESSIONAL}\b[^.!?]{{0,120}}?"
        r"\b(will|can|should|must|would|may)\b[^.!?]{0,80}?"
        r"\b(confirm|decide|advise|assess|check|tailor|set|recommend|guide|tell|talk|explain|"
        r"look|go through|walk|plan|answer)",
        re.IGNORECASE,
    ),
    re.compile(
        r"\b(ask|check with|talk (to|with)|speak (to|with)|discuss\b[^.!?]{0,60}?\bwith|"
        r"consult( with)?|see|seeing)\b[^.!?]{0,60}?"
        rf"\b(your |a |the |our )?(qualified )?{_PROFESSIONAL}",
        re.IGNORECASE,
    ),
    re.compile(
        r"\b(needs|need|requires) a consultation\b[^.!?]{0,120}?" + _PROFESSIONAL,
        re.IGNORECASE,
    ),
]

# Verdicts the assistant must never give: only a practitioner decides, at a consultation.
VERDICT_PATTERNS = [
    re.compile(
        r"\byou(?:'re| are| would be| will be)\s+(?:definitely |certainly |probably |perfectly )?"
        r"(?:suitable|eligible|a (?:good|great|perfect|ideal|suitable) candidate|"
        r"(?:fine|ok|okay|safe|cleared) to (?:have|get|go ahead))",
        re.IGNORECASE,
    ),
    re.compile(
        r"\b(?:it's|it is|it will be) (?:completely |totally |perfectly )?safe for you\b",
        re.IGNORECASE,
    ),
    re.compile(r"\bnothing (?:to worry about|stops you)\b", re.IGNORECASE),
]


def has_deferral(text: str) -> bool:
    """Whether the text hands the decision or advice to a qualified professional."""
    flat = " ".join(text.split())
    return any(pattern.search(flat) for pattern in DEFERRAL_PATTERNS)


def verdicts_in(text: str) -> list[str]:
    """The phrases in the text that tell the patient they are suitable (should be none)."""
    flat = " ".join(text.split())
    return [match.group(0) for pattern in VERDICT_PATTERNS for match in pattern.finditer(flat)]
