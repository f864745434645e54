"""Every response in the domain, every variant: sourced, deferring when about the treatment,
and never telling a patient they are suitable."""

from __future__ import annotations

import re

import pytest
from rasa.shared.core.domain import Domain

from clinic.safety.deferral import has_deferral, verdicts_in
from tests.conftest import ROOT

SEEDS = {path.name for path in (ROOT / "knowledge" / "seeds").glob("*.txt")}
NON_SEED_SOURCES = {
    "clinic.yml",
    "assistant",
    "knowledge/red_flags.yml",
    "knowledge/screening_rules.yml",
}
DOMAIN = Domain.load(str(ROOT / "domain"))
VARIANTS = [
    (name, index, variant)
    for name, variants in sorted(DOMAIN.responses.items())
    for index, variant in enumerate(variants)
]
IDS = [f"{name}[{index}]" for name, index, _ in VARIANTS]
# Claims about the procedure that only a sourced, deferring answer may make.
TREATMENT_CLAIMS = re.compile(
    r"\b(collagen|heal(s|ing)?|side[- ]effects?|risks?|downtime|recovery|numbing|results?|"
    r"safe(ly|ty)?|pain(ful)?|hurts?|scar(s|ring)?|infection|pigment)\b",
    re.IGNORECASE,
)


def sources(variant: dict) -> list[str]:
    return list((variant.get("metadata") or {}).get("source") or [])


def test_the_domain_has_every_response_kind():
    names = {name for name, _, _ in VARIANTS}
    assert len([n for n in names if n.startswith("utter_faq/")]) >= 30
    assert {
        "utter_greet",
        "utter_out_of_scope",
        "utter_ask_rephrase",
        "utter_handoff_open",
    } <= names


@pytest.mark.parametrize(("name", "index", "variant"), VARIANTS, ids=IDS)
def test_every_variant_names_known_sources(name, index, variant):
    found = sources(variant)
    assert found, f"{name}[{index}] has no metadata.source"
    unknown = set(found) - SEEDS - NON_SEED_SOURCES
    assert not unknown, f"{name}[{index}] cites unknown sources {unknown}"


def is_about_the_treatment(name: str, variant: dict) -> bool:
    """Drawing on the patient-information seeds, or mentioning the procedure's effects."""
    return (
        name.startswith("utter_faq/")
        or any(source in SEEDS for source in sources(variant))
        or bool(TREATMENT_CLAIMS.search(variant.get("text") or ""))
    )


@pytest.mark.parametrize(("name", "index", "variant"), VARIANTS, ids=IDS)
def test_answers_about_the_treatment_defer_to_a_professional(name, index, variant):
    if is_about_the_treatment(name, variant):
        assert has_deferral(variant["text"]), f"{name}[{index}] has no deferral to a professional"
    else:
        assert not any(source in SEEDS for source in sources(variant))


@pytest.mark.parametrize(("name", "index", "variant"), VARIANTS, ids=IDS)
def test_no_response_tells_a_patient_they_are_suitable(name, index, variant):
    text = " ".join([variant.get("text") or ""] + [b["title"] for b in variant.get("buttons", [])])
    assert verdicts_in(text) == [], f"{name}[{index}] gives a verdict"


@pytest.mark.parametrize(
    "text",
    [
        "Your practitioner will confirm what's right for you at your consultation.",
        "Please ask your practitioner what is suitable to take.",
        "If you are worried, talk to your practitioner beforehand.",
        "That needs a consultation, where a qualified practitioner looks at your skin.",
        "If you are thinking of using a home kit, please ask a qualified practitioner first.",
        "It's worth seeing your doctor about the cause first.",
    ],
)
def test_deferral_detector_accepts_deferrals(text):
    assert has_deferral(text)


@pytest.mark.parametrize(
    "text",
    [
        "A practitioner uses a pen with fine needles.",
        "Microneedling is generally safe.",
        "Most people find it uncomfortable rather than painful.",
        "The professional kit costs £40.",
    ],
)
def test_deferral_detector_rejects_statements_that_do_not_defer(text):
    assert not has_deferral(text)


@pytest.mark.parametrize(
    "text",
    [
        "Good news: you are suitable for microneedling.",
        "You're a good candidate.",
        "you would be fine to go ahead",
        "It is completely safe for you.",
    ],
)
def test_verdict_detector_catches_verdicts(text):
    assert verdicts_in(text)


def test_verdict_detector_leaves_careful_wording_alone():
    assert verdicts_in("I can't tell whether it is right for you; that needs a consultation.") == []
