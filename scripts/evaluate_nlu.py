"""Score the trained model's NLU on held-out patient messages it never saw in training.

Each message's label is what the patient would get: the intent, or for a treatment question the
full retrieval intent (`faq/pain`) picked by the ResponseSelector. A message that falls back
(`nlu_fallback`) counts as wrong. Prints per-label precision, recall and F1, writes
`report.json`, `errors.json` and a confusion matrix to --out, and exits 1 below --min-macro-f1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from pathlib import Path

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def predicted_label(parse: dict) -> str:
    """The label a parse result amounts to: intent, or `faq/<key>` for retrieval intents."""
    intent = (parse.get("intent") or {}).get("name") or "none"
    selector = parse.get("response_selector", {}).get(intent)
    if selector:
        key = selector.get("response", {}).get("intent_response_key")
        if key:
            return key
    return intent


def load_examples(path: Path) -> list[tuple[str, str]]:
    """(text, gold label) pairs from a Rasa NLU YAML file."""
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(path))
    examples = []
    for message in data.intent_examples:
        label = message.get("intent_response_key") or message.get("intent")
        examples.append((message.get("text"), label))
    return examples


async def parse_all(model: Path, texts: list[str]) -> list[dict]:
    """Parse every text with the model's NLU pipeline."""
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    return [await agent.parse_message(text) for text in texts]


def write_confusion_matrix(
    gold: list[str], predicted: list[str], labels: list[str], path: Path
) -> None:
    """A confusion-matrix image (rows: gold label, columns: prediction)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    from sklearn.metrics import confusion_matrix

    matrix = confusion_matrix(gold, predicted, labels=labels)
    size = max(8, len(labels) * 0.32)
    fig, ax = plt.subplots(figsize=(size, size))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=7)
    ax.set_yticks(range(len(labels)), labels, fontsize=7)
    for (row, col), count in np.ndenumerate(matrix):
        if count:
            ax.text(
                col,
                row,
                str(count),
                ha="center",
                va="center",
                fontsize=6,
                color="white" if count > matrix.max() / 2 else "black",
            )
    ax.set_xlabel("predicted")
    ax.set_ylabel("held-out label")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> int:
    """Evaluate, print and write the report; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=Path("results/nlu"))
    parser.add_argument("--min-macro-f1", type=float, default=0.90)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    import structlog

    # Rasa's structured logs print every parsed message at debug level; patients' words stay out.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))

    from sklearn.metrics import precision_recall_fscore_support

    examples = load_examples(args.data)
    texts, gold = [t for t, _ in examples], [g for _, g in examples]
    parses = asyncio.run(parse_all(args.model, texts))
    predicted = [predicted_label(p) for p in parses]

    labels = sorted(set(gold))
    precision, recall, f1, support = precision_recall_fscore_support(
        gold, predicted, labels=labels, zero_division=0
    )
    macro_f1 = float(f1.mean())
    weighted_f1 = float((f1 * support).sum() / support.sum())
    accuracy = sum(g == p for g, p in zip(gold, predicted, strict=True)) / len(gold)

    print(f"\nNLU on {args.data} ({len(gold)} held-out messages, {len(labels)} labels)\n")
    print(f"{'label':28} {'precision':>9} {'recall':>7} {'f1':>6} {'n':>4}")
    for row in zip(labels, precision, recall, f1, support, strict=True):
        label, p, r, f, n = row
        flag = "  <" if f < args.min_macro_f1 else ""
        print(f"{label:28} {p:9.2f} {r:7.2f} {f:6.2f} {n:4d}{flag}")
    print(
        f"\naccuracy {accuracy:.3f}   macro-F1 {macro_f1:.3f}   weighted-F1 {weighted_f1:.3f}"
        f"   (floor: macro-F1 {args.min_macro_f1:.2f})"
    )

    args.out.mkdir(parents=True, exist_ok=True)
    report = {
        "data": str(args.data),
        "messages": len(gold),
        "accuracy": accuracy,
        "macro_f1": macro_f1,
        "weighted_f1": weighted_f1,
        "floor_macro_f1": args.min_macro_f1,
        "labels": {
            label: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(n)}
            for label, p, r, f, n in zip(labels, precision, recall, f1, support, strict=True)
        },
    }
    (args.out / "report.json").write_text(json.dumps(report, indent=2))
    errors = [
        {
            "text": t,
            "label": g,
            "predicted": p,
            "confidence": round(float((parse.get("intent") or {}).get("confidence") or 0), 3),
        }
        for t, g, p, parse in zip(texts, gold, predicted, parses, strict=True)
        if g != p
    ]
    (args.out / "errors.json").write_text(json.dumps(errors, indent=2, ensure_ascii=False))
    all_labels = sorted(set(gold) | set(predicted))
    write_confusion_matrix(gold, predicted, all_labels, args.out / "confusion_matrix.png")
    print(f"wrote {args.out}/report.json, errors.json ({len(errors)} errors), confusion_matrix.png")

    if macro_f1 < args.min_macro_f1:
        print(
            f"FAIL: macro-F1 {macro_f1:.3f} is below the floor {args.min_macro_f1:.2f}",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
