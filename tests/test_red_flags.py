"""The deterministic red-flag check, scored on labelled patient messages.

`make test` prints the score per label. Every emergency and urgent message must escalate at its
level; no after-effect, negated or unrelated message may escalate.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from clinic.language.pipeline import load_pipeline
from clinic.safety.evaluation import RED_FLAG_LABELS, load_labelled, score_red_flags
from clinic.safety.red_flags import Level, assess_message, default_rules, load_red_flag_rules
from clinic.settings import load_settings
from tests.conftest import ROOT

SETS = {
    "development": ROOT / "tests" / "safety" / "red_flag_messages.yml",
    "independent": ROOT / "tests" / "safety" / "red_flag_holdout.yml",
}


@pytest.fixture(scope="module")
def nlp():
    return load_pipeline(str(load_settings().spacy_pipeline))


@pytest.mark.parametrize("name", SETS)
def test_labelled_messages_escalate_exactly_when_they_should(nlp, name, capsys):
    messages = load_labelled(SETS[name])
    assert len(messages) >= 150 if name == "development" else len(messages) >= 100
    score = score_red_flags(nlp, messages)
    with capsys.disabled():
        print(f"\nred-flag check, {name} set ({SETS[name].name}, {len(messages)} messages):")
        print("\n".join(score.lines()))
    assert set(score.total) == set(RED_FLAG_LABELS)
    assert not score.wrong, score.wrong


@pytest.mark.parametrize(
    ("text", "level", "flag"),
    [
        ("i cant breathe properly and my lips are swelling", Level.EMERGENCY, "breathing"),
        ("Had it done at 2 and my throat's closing up", Level.EMERGENCY, "airway_swelling"),
        ("I want to end my life", Level.EMERGENCY, "self_harm"),
        ("I've got a plan to kill myself", Level.EMERGENCY, "self_harm"),
        ("there's yellow pus coming out of my cheek", Level.URGENT, "infection_signs"),
        ("the swelling is getting worse every hour", Level.URGENT, "severe_or_worsening_swelling"),
        ("Still bleeding, cant get it to stop", Level.URGENT, "bleeding_that_will_not_stop"),
        (
            "more swollen on day 3 than day 1? Keeps getting worse",
            Level.URGENT,
            "severe_or_worsening_swelling",
        ),
        ("my daughter has a fever since her treatment", Level.URGENT, "infection_signs"),
    ],
)
def test_danger_signs_escalate(nlp, text, level, flag):
    assessment = assess_message(nlp, text)
    assert assessment.level is level and flag in assessment.flags
    assert assessment.reasons  # the patient is told why


@pytest.mark.parametrize(
    "text",
    [
        "no fever, no pus, just a bit red",
        "i'm not going to hurt myself, the form just asked",
        "the redness isnt spreading, its actually fading",
        "will my face swell after the treatment?",
        "what if I get a fever after?",
        "my husband had anaphylaxis to bee stings years ago, can he still have it?",
        "I had a bad reaction to a peel as a teenager",
        "I go to spinning classes, when can I go back?",
        "my bf passed out laughing at my face mask pic",
        "old self harm scars on my forearm, could microneedling help?",
    ],
)
def test_negated_hypothetical_past_and_harmless_do_not_escalate(nlp, text):
    assert not assess_message(nlp, text).escalates


def test_expected_after_effects_are_recognised_not_escalated(nlp):
    assessment = assess_message(nlp, "skin's a bit red and tight today, feels like mild sunburn")
    assert assessment.level is Level.AFTER_EFFECT and not assessment.escalates


def test_rules_file_is_checked(tmp_path):
    path = tmp_path / "red_flags.yml"
    path.write_text(
        yaml.safe_dump(
            {
                "version": 1,
                "flags": [{"id": "x", "level": "after_effect", "signs": ["pain"]}],
                "after_effects": {"signs": []},
            }
        )
    )
    with pytest.raises(ValueError, match="must be emergency or urgent"):
        load_red_flag_rules(path)
    assert default_rules().version >= 1 and any(
        f.level is Level.EMERGENCY for f in default_rules().flags
    )


def test_every_flag_names_its_source_and_reason():
    raw = yaml.safe_load(Path(ROOT / "knowledge" / "red_flags.yml").read_text())
    for flag in raw["flags"]:
        assert flag.get("source"), flag["id"]
        assert flag.get("say"), flag["id"]
