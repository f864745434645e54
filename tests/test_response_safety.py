"""Every response in the domain, every variant: sourced, deferring when about the treatment,
and never telling a patient they are suitable."""

from __future__ import annotations

import pytest
from rasa.shared.core.domain import Domain

from clinic.safety.deferral import has_deferral, verdicts_in
from clinic.safety.evaluation import check_responses, seed_names
from tests.conftest import ROOT

SEEDS = seed_names(ROOT / "knowledge" / "seeds")
DOMAIN = Domain.load(str(ROOT / "domain"))
CHECKS = check_responses(DOMAIN.responses, SEEDS)
IDS = [f"{check.name}[{check.index}]" for check in CHECKS]


def test_the_domain_has_every_response_kind():
    names = set(DOMAIN.responses)
    assert len([n for n in names if n.startswith("utter_faq/")]) >= 30
    assert {
        "utter_greet",
        "utter_out_of_scope",
        "utter_ask_rephrase",
        "utter_handoff_open",
    } <= names


@pytest.mark.parametrize("check", CHECKS, ids=IDS)
def test_every_variant_names_known_sources(check):
    assert check.sources, f"{check.name}[{check.index}] has no metadata.source"
    assert not check.unknown_sources, f"{check.name}[{check.index}] cites unknown sources"


@pytest.mark.parametrize("check", CHECKS, ids=IDS)
def test_answers_about_the_treatment_defer_to_a_professional(check):
    if check.about_treatment:
        assert check.defers, f"{check.name}[{check.index}] has no deferral to a professional"
    else:
        assert not set(check.sources) & SEEDS


@pytest.mark.parametrize("check", CHECKS, ids=IDS)
def test_no_response_tells_a_patient_they_are_suitable(check):
    assert check.verdicts == (), f"{check.name}[{check.index}] gives a verdict"


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
