"""The one-page quality summary: NLU on held-out messages, the conversation tests, the red-flag
check on both labelled sets, and deferral coverage over every response.

Run by `make evaluate` after the NLU evaluation and the conversation tests have written their
reports to results/. Writes results/summary.md and results/evaluation.json, and exits 1 when a
floor is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import datetime, timezone
from pathlib import Path

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RED_FLAG_SETS = {
    "development": ROOT / "tests" / "safety" / "red_flag_messages.yml",
    "independent": ROOT / "tests" / "safety" / "red_flag_holdout.yml",
}


def conversation_results(folder: Path) -> dict:
    """Correct and total conversations from `rasa test core`'s story report."""
    report = json.loads((folder / "story_report.json").read_text())
    counts = report["conversation_accuracy"]
    return {
        "correct": counts["correct"],
        "total": counts["total"],
        "action_accuracy": report["accuracy"],
        "actions": int(report["weighted avg"]["support"]),
    }


def safety_results() -> dict:
    """Red-flag scores on both sets and the response audit."""
    from rasa.shared.core.domain import Domain

    from clinic.language.pipeline import load_pipeline
    from clinic.safety.evaluation import (
        RED_FLAG_LABELS,
        check_responses,
        load_labelled,
        score_red_flags,
        seed_names,
    )
    from clinic.settings import load_settings

    nlp = load_pipeline(str(load_settings().spacy_pipeline))
    red_flags = {}
    for name, path in RED_FLAG_SETS.items():
        score = score_red_flags(nlp, load_labelled(path))
        red_flags[name] = {
            "file": str(path.relative_to(ROOT)),
            "correct": score.correct,
            "total": score.messages,
            "per_label": {
                label: [score.right[label], score.total[label]] for label in RED_FLAG_LABELS
            },
            "misses": [{"label": g, "got": p, "text": t} for g, p, t in score.wrong],
        }
    checks = check_responses(
        Domain.load(str(ROOT / "domain")).responses, seed_names(ROOT / "knowledge" / "seeds")
    )
    treatment = [c for c in checks if c.about_treatment]
    return {
        "red_flags": red_flags,
        "responses": {
            "variants": len(checks),
            "about_treatment": len(treatment),
            "deferring": sum(c.defers for c in treatment),
            "verdicts": [f"{c.name}[{c.index}]" for c in checks if c.verdicts],
            "unsourced": [f"{c.name}[{c.index}]" for c in checks if not c.sources],
            "not_deferring": [f"{c.name}[{c.index}]" for c in treatment if not c.defers],
        },
    }


def floors_missed(nlu: dict, conversations: dict, safety: dict, min_macro_f1: float) -> list[str]:
    """Every floor the project sets, and which are missed."""
    missed = []
    if nlu["macro_f1"] < min_macro_f1:
        missed.append(f"NLU macro-F1 {nlu['macro_f1']:.3f} < {min_macro_f1:.2f}")
    if conversations["correct"] != conversations["total"]:
        failed = conversations["total"] - conversations["correct"]
        missed.append(f"{failed} conversation test(s) failed")
    for name, score in safety["red_flags"].items():
        if score["correct"] != score["total"]:
            missed.append(f"red-flag {name} set: {score['total'] - score['correct']} miss(es)")
    responses = safety["responses"]
    if responses["not_deferring"]:
        missed.append(f"answers without a deferral: {', '.join(responses['not_deferring'])}")
    if responses["verdicts"]:
        missed.append(f"responses giving a verdict: {', '.join(responses['verdicts'])}")
    if responses["unsourced"]:
        missed.append(f"responses without a source: {', '.join(responses['unsourced'])}")
    return missed


def summary_markdown(
    nlu: dict, conversations: dict, safety: dict, missed: list[str], min_macro_f1: float
) -> str:
    """The one-page summary."""
    worst = sorted(nlu["labels"].items(), key=lambda item: item[1]["f1"])[:8]
    responses = safety["responses"]
    lines = [
        "# Quality summary",
        "",
        f"Made by `make evaluate` on {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC.",
        "",
        "| check | result | floor |",
        "| --- | --- | --- |",
        f"| NLU, {nlu['messages']} held-out messages, {len(nlu['labels'])} labels | "
        f"macro-F1 {nlu['macro_f1']:.3f}, weighted-F1 {nlu['weighted_f1']:.3f}, "
        f"accuracy {nlu['accuracy']:.3f} | macro-F1 {min_macro_f1:.2f} |",
        f"| conversation tests | {conversations['correct']} / {conversations['total']} "
        f"conversations, {conversations['actions']} predicted actions, accuracy "
        f"{conversations['action_accuracy']:.3f} | all |",
    ]
    for name, score in safety["red_flags"].items():
        per = ", ".join(f"{label} {r}/{t}" for label, (r, t) in score["per_label"].items())
        lines.append(
            f"| red-flag check, {name} set | {score['correct']} / {score['total']} ({per}) | all |"
        )
    lines += [
        f"| deferral to a professional | {responses['deferring']} / "
        f"{responses['about_treatment']} answers about the treatment "
        f"(of {responses['variants']} response variants) | all |",
        f'| verdicts ("you are suitable") | {len(responses["verdicts"])} | 0 |',
        "",
        "## Weakest NLU labels",
        "",
        "| label | precision | recall | F1 | n |",
        "| --- | --- | --- | --- | --- |",
        *(
            f"| {label} | {row['precision']:.2f} | {row['recall']:.2f} | {row['f1']:.2f} "
            f"| {row['support']} |"
            for label, row in worst
        ),
        "",
        "Per-label scores: `results/nlu/report.json`; misclassified messages: "
        "`results/nlu/errors.json`; confusion matrix: `results/nlu/confusion_matrix.png`; "
        "conversation tests: `results/conversations/`.",
        "",
        "## Verdict",
        "",
        "All floors met."
        if not missed
        else "Floors missed:\n\n" + "\n".join(f"- {m}" for m in missed),
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=ROOT / "results")
    parser.add_argument("--min-macro-f1", type=float, default=0.90)
    args = parser.parse_args()

    nlu = json.loads((args.results / "nlu" / "report.json").read_text())
    conversations = conversation_results(args.results / "conversations")
    safety = safety_results()
    missed = floors_missed(nlu, conversations, safety, args.min_macro_f1)
    summary = summary_markdown(nlu, conversations, safety, missed, args.min_macro_f1)
    (args.results / "summary.md").write_text(summary)
    evaluation = {
        "nlu": {k: nlu[k] for k in ("messages", "accuracy", "macro_f1", "weighted_f1")},
        "conversations": conversations,
        **safety,
        "floors_missed": missed,
    }
    (args.results / "evaluation.json").write_text(json.dumps(evaluation, indent=2))
    print(summary)
    print(f"wrote {args.results}/summary.md and evaluation.json")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
