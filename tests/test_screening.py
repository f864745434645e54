"""Screening rules, table-driven: every rule stated, negated, historical, hypothetical, and
answered through the form; outcomes and the rule file's checks."""

from __future__ import annotations

import pytest
import yaml

from clinic.language.pipeline import load_pipeline
from clinic.safety.deferral import verdicts_in
from clinic.screening.assess import (
    Outcome,
    answers_from_text,
    assess,
    condition_notes,
    health_mentions,
    next_question,
    reasons_text,
    rules_mentioned,
    stated_age,
)
from clinic.screening.rules import Meaning, RulesError, default_rules, load_rules
from clinic.settings import load_settings
from tests.conftest import ROOT

RULEBOOK = default_rules()
PHRASES = yaml.safe_load((ROOT / "tests" / "screening" / "rule_phrases.yml").read_text())
CASES = [
    (rule_id, kind, text) for rule_id, kinds in PHRASES.items() for kind, text in kinds.items()
]


@pytest.fixture(scope="module")
def nlp():
    return load_pipeline(str(load_settings().spacy_pipeline))


def test_the_table_covers_every_rule_and_the_required_rules_exist():
    assert set(PHRASES) == {rule.id for rule in RULEBOOK.rules}
    required = {
        "pregnancy",
        "breastfeeding",
        "active_acne",
        "cold_sores_active",
        "cold_sores_history",
        "open_wounds",
        "skin_infection",
        "keloid_scars",
        "autoimmune_disease",
        "very_sensitive_skin",
        "isotretinoin",
        "blood_thinners",
        "sunburn",
        "skin_condition_flare",
        "slow_healing",
        "cancer_treatment",
        "numbing_cream_allergy",
        "under_18",
    }
    assert required <= set(PHRASES)


def expected(rule_id: str, kind: str):
    rule = RULEBOOK.rule(rule_id)
    if kind == "stated":
        return True
    if kind == "negated":
        return False
    if kind == "historical":
        return True if rule.history else None
    return None  # hypothetical: not an answer


@pytest.mark.parametrize(("rule_id", "kind", "text"), CASES, ids=[f"{r}-{k}" for r, k, _ in CASES])
def test_what_the_patient_says_answers_the_rule(nlp, rule_id, kind, text):
    answers = answers_from_text(nlp, RULEBOOK, text)
    assert answers.get(rule_id) is expected(rule_id, kind), (text, answers)


@pytest.mark.parametrize("rule", RULEBOOK.rules, ids=lambda r: r.id)
def test_a_yes_to_each_rule_gives_its_outcome_with_its_reason(rule):
    answers = {other.id: False for other in RULEBOOK.rules}
    answers[rule.id] = True
    screening = assess(RULEBOOK, answers)
    outcome = {
        Meaning.NOT_NOW: Outcome.NOT_NOW,
        Meaning.NEEDS_REVIEW: Outcome.NEEDS_REVIEW,
        Meaning.NOT_SUITABLE: Outcome.NOT_SUITABLE,
    }[rule.means]
    assert screening.outcome is outcome and screening.applying == (rule,)
    text = reasons_text(screening)
    assert text.startswith(f"• {rule.topic}: {rule.explain}")
    if rule.means is Meaning.NOT_NOW:
        assert rule.come_back in text
    assert verdicts_in(text) == []


def test_all_no_means_nothing_rules_it_out_never_suitable():
    screening = assess(RULEBOOK, {rule.id: False for rule in RULEBOOK.rules})
    assert screening.outcome is Outcome.NOTHING_RULES_IT_OUT and screening.applying == ()
    assert "suitable" not in screening.outcome.value


def test_the_most_serious_meaning_wins():
    answers = {r.id: False for r in RULEBOOK.rules}
    answers.update(blood_thinners=True, pregnancy=True)
    assert assess(RULEBOOK, answers).outcome is Outcome.NOT_NOW
    answers["keloid_scars"] = True
    assert assess(RULEBOOK, answers).outcome is Outcome.NOT_SUITABLE


def test_questions_come_in_order_and_skip_what_is_answered():
    assert next_question(RULEBOOK, {}).id == RULEBOOK.rules[0].id
    answered = {r.id: False for r in RULEBOOK.rules[:3]}
    assert next_question(RULEBOOK, answered).id == RULEBOOK.rules[3].id
    assert next_question(RULEBOOK, {r.id: False for r in RULEBOOK.rules}) is None


@pytest.mark.parametrize(
    ("text", "age"),
    [("I'm 16", 16), ("im 34 years old", 34), ("I'm 5 weeks pregnant", None), ("aged 19", 19)],
)
def test_stated_age(text, age):
    assert stated_age(text) == age


def test_someone_elses_condition_answers_nothing(nlp):
    assert answers_from_text(nlp, RULEBOOK, "my mum has lupus and my sister is pregnant") == {}


def test_uncertainty_counts_as_yes_for_safety(nlp):
    assert answers_from_text(nlp, RULEBOOK, "i dont think im pregnant but i might be")["pregnancy"]


def test_a_yes_in_the_same_message_beats_a_no(nlp):
    answers = answers_from_text(nlp, RULEBOOK, "I'm not on warfarin but I do have haemophilia")
    assert answers["blood_thinners"] is True


def test_free_form_condition_questions_find_their_rules(nlp):
    rules = rules_mentioned(RULEBOOK, health_mentions(nlp, "can I get it if I have rosacea?"))
    assert [r.id for r in rules] == ["skin_condition_flare"]
    notes = condition_notes(rules)
    assert notes.startswith("• Eczema, psoriasis or rosacea flare:")
    assert "treatment would wait until the flare has settled" in notes
    assert rules_mentioned(RULEBOOK, health_mentions(nlp, "I'm not on roaccutane")) == []


def write_rules(tmp_path, rules):
    path = tmp_path / "rules.yml"
    path.write_text(yaml.safe_dump({"version": 2, "rules": rules}))
    return path


BASE = {"id": "x", "topic": "X", "ask": "?", "spoken": "?", "explain": "e", "source": ["s"]}


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ([{**BASE, "means": "maybe"}], "unknown meaning 'maybe'"),
        ([{**BASE, "means": "not_now"}], "needs `come_back`"),
        (
            [{**BASE, "means": "needs_review", "recognise": ["unicorn_pox"]}],
            "not in the vocabulary",
        ),
        ([{**BASE, "means": "needs_review", "source": []}], "names its source"),
        ([{**BASE, "means": "needs_review"}, {**BASE, "means": "needs_review"}], "duplicate id"),
        ([{"id": "x", "means": "needs_review"}], "missing"),
    ],
)
def test_rule_file_mistakes_are_clear(tmp_path, rules, message):
    with pytest.raises(RulesError, match=message):
        load_rules(write_rules(tmp_path, rules))


def test_a_clinic_can_add_a_rule_without_code(tmp_path):
    path = write_rules(
        tmp_path,
        [{**BASE, "id": "rosacea_any", "means": "needs_review", "recognise": ["rosacea"]}],
    )
    rulebook = load_rules(path)
    nlp = load_pipeline(str(load_settings().spacy_pipeline))
    assert answers_from_text(nlp, rulebook, "I have rosacea") == {"rosacea_any": True}
    assert rulebook.version == 2
