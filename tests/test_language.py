"""The project's spaCy pipeline: built from the vocabulary, canonical ids, ConText on top."""

from __future__ import annotations

import pytest
import yaml

from clinic.language.build import build_pipeline
from clinic.language.pipeline import load_pipeline
from clinic.language.vocabulary import VocabularyError, load_vocabulary
from clinic.settings import load_settings
from tests.conftest import ROOT

VOCABULARY = ROOT / "knowledge" / "vocabulary.yml"


@pytest.fixture(scope="module")
def nlp():
    """The pipeline `make` built, with medspaCy's ConText added as the core uses it."""
    return load_pipeline(str(load_settings().spacy_pipeline))


def entities(doc):
    return [(ent.label_, ent.ent_id_) for ent in doc.ents]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "im on roaccutane and had a cold sore last month",
            [("MEDICATION", "isotretinoin"), ("CONDITION", "cold_sores")],
        ),
        (
            "Does DERMAPEN help with my acne scars?",
            [("TREATMENT", "microneedling"), ("SKIN_CONCERN", "acne_scars")],
        ),
        ("um so i take warfarin is that ok", [("MEDICATION", "blood_thinners")]),
        (
            "pregnent and breast feeding",
            [("CONDITION", "pregnancy"), ("CONDITION", "breastfeeding")],
        ),
        (
            "can you do stretch marks on my tummy",
            [("SKIN_CONCERN", "stretch_marks"), ("BODY_AREA", "abdomen")],
        ),
        ("what's the weather like in leeds", []),
    ],
)
def test_vocabulary_entities_with_canonical_ids(nlp, text, expected):
    assert entities(nlp(text)) == expected


def test_lookup_lemmas_come_from_spacy_lookups_data(nlp):
    assert [t.lemma_ for t in nlp("it hurts and my scars were bleeding")] == [
        "it",
        "hurt",
        "and",
        "my",
        "scar",
        "be",
        "bleed",
    ]


def test_context_marks_negated_conditions(nlp):
    doc = nlp("I am not pregnant and have no cold sores")
    assert [(e.ent_id_, e._.is_negated) for e in doc.ents] == [
        ("pregnancy", True),
        ("cold_sores", True),
    ]


def test_context_keeps_affirmed_conditions(nlp):
    [ent] = nlp("I'm pregnant, can I still have it?").ents
    assert ent.ent_id_ == "pregnancy" and not ent._.is_negated


def test_context_marks_hypotheticals(nlp):
    [ent] = nlp("what if I were pregnant").ents
    assert ent.ent_id_ == "pregnancy" and ent._.is_hypothetical and not ent._.is_negated


def test_pipeline_rasa_loads_has_no_medspacy_component():
    """Rasa's SpacyNLP loads the saved pipeline without importing medspaCy."""
    config = (load_settings().spacy_pipeline / "config.cfg").read_text()
    assert "medspacy" not in config
    assert "entity_ruler" in config and "lemmatizer" in config


def test_build_from_vocabulary_file(tmp_path):
    path = tmp_path / "vocabulary.yml"
    path.write_text(
        yaml.safe_dump(
            {
                "labels": {"CONDITION": "conditions"},
                "terms": [
                    {"id": "rosacea", "label": "CONDITION", "phrases": ["Rosacea", "rosacia"]}
                ],
            }
        )
    )
    nlp = build_pipeline(path)
    assert [(e.label_, e.ent_id_) for e in nlp("my rosacia is bad").ents] == [
        ("CONDITION", "rosacea")
    ]


@pytest.mark.parametrize(
    ("terms", "message"),
    [
        ([{"id": "a", "label": "NOPE", "phrases": ["x"]}], "unknown label"),
        (
            [
                {"id": "a", "label": "CONDITION", "phrases": ["x"]},
                {"id": "a", "label": "CONDITION", "phrases": ["y"]},
            ],
            "duplicate id",
        ),
        (
            [
                {"id": "a", "label": "CONDITION", "phrases": ["x"]},
                {"id": "b", "label": "CONDITION", "phrases": ["X"]},
            ],
            "under both 'a' and 'b'",
        ),
        ([{"id": "a", "label": "CONDITION"}], "needs id, label and phrases"),
    ],
)
def test_vocabulary_errors_are_clear(tmp_path, terms, message):
    path = tmp_path / "vocabulary.yml"
    path.write_text(yaml.safe_dump({"labels": {"CONDITION": "c"}, "terms": terms}))
    with pytest.raises(VocabularyError, match=message):
        load_vocabulary(path)


def test_shipped_vocabulary_is_valid():
    terms = load_vocabulary(VOCABULARY)
    labels = {t.label for t in terms}
    assert labels == {
        "CONDITION",
        "MEDICATION",
        "SYMPTOM",
        "BODY_AREA",
        "SKIN_CONCERN",
        "TREATMENT",
        "RISK",
        "IDIOM",
    }
    assert len(terms) >= 120
