"""Build the clinic's spaCy pipeline from the vocabulary and save it where Rasa loads it.

    python -m clinic.language.build --vocabulary knowledge/vocabulary.yml \
        --out build/spacy/clinic_en

With `--base blank` (the default) the pipeline is a blank English tokenizer, a sentencizer, a
lookup lemmatizer (spacy-lookups-data) and an entity ruler: nothing is downloaded. With
`--base en_core_web_md` (if that package, 3.4.x, is installed) the ruler is added in front of the
pretrained pipeline's own entity recogniser instead, and Rasa gets its word vectors too.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import spacy

from clinic.language.vocabulary import load_vocabulary, ruler_patterns

RULER_CONFIG = {"phrase_matcher_attr": "LOWER", "overwrite_ents": True}


def build_pipeline(vocabulary: Path, base: str = "blank") -> spacy.language.Language:
    """A spaCy pipeline with the clinic vocabulary as an entity ruler."""
    if base == "blank":
        nlp = spacy.blank("en")
        nlp.add_pipe("sentencizer")
        nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
        ruler = nlp.add_pipe("entity_ruler", config=RULER_CONFIG)
        nlp.initialize()
    else:
        nlp = spacy.load(base)
        anchor = {"before": "ner"} if "ner" in nlp.pipe_names else {}
        ruler = nlp.add_pipe("entity_ruler", config=RULER_CONFIG, **anchor)
    ruler.add_patterns(ruler_patterns(load_vocabulary(vocabulary)))
    nlp.meta["name"] = "clinic_en"
    nlp.meta["version"] = "1.0.0"
    nlp.meta["description"] = f"Microneedling clinic vocabulary on a {base} English base"
    return nlp


def main(argv: list[str] | None = None) -> int:
    """Command-line entry: build and save the pipeline."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vocabulary", type=Path, default=Path("knowledge/vocabulary.yml"))
    parser.add_argument("--out", type=Path, default=Path("build/spacy/clinic_en"))
    parser.add_argument("--base", default="blank", help="'blank' or an installed spaCy 3.4 package")
    args = parser.parse_args(argv)
    try:
        nlp = build_pipeline(args.vocabulary, args.base)
    except OSError as error:
        print(f"error: cannot load spaCy base {args.base!r}: {error}", file=sys.stderr)
        return 1
    tmp = args.out.with_name(args.out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    nlp.to_disk(tmp)
    shutil.rmtree(args.out, ignore_errors=True)
    tmp.rename(args.out)
    labels = nlp.get_pipe("entity_ruler").labels
    print(f"spaCy pipeline {args.out}: {', '.join(nlp.pipe_names)}; {len(labels)} entity labels")
    return 0


if __name__ == "__main__":
    sys.exit(main())
