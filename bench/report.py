"""The benchmark's table, targets and plot."""

from __future__ import annotations

from pathlib import Path

MB = 1024 * 1024


def latency_table(runs: list[dict]) -> str:
    """One row per measured run."""
    header = (
        f"{'assistant':9} {'path':22} {'conc':>4} {'msgs':>6} {'err':>4} "
        f"{'msg/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}"
    )
    rows = [header, "-" * len(header)]
    for r in runs:
        rows.append(
            f"{r['assistant']:9} {r['name']:22} {r['concurrency']:4d} {r['messages']:6d} "
            f"{r['errors']:4d} {r['throughput_per_s']:7.1f} {r['p50_ms']:8.1f} "
            f"{r['p95_ms']:8.1f} {r['p99_ms']:8.1f}"
        )
    return "\n".join(rows)


def find(runs: list[dict], assistant: str, name: str, concurrency: int) -> dict:
    """One run by assistant, path and concurrency."""
    return next(
        r
        for r in runs
        if r["assistant"] == assistant and r["name"] == name and r["concurrency"] == concurrency
    )


def targets(result: dict) -> list[dict]:
    """The issue's targets for this 2-core machine, each with the measured value."""
    runs, ours = result["runs"], result["ours"]
    saturation = find(runs, "ours", "rest", result["saturation_concurrency"])
    checks = [
        (
            "phone line turn p95 at 10 calls (ms)",
            find(runs, "ours", "phone", 10)["p95_ms"],
            "<=",
            300,
        ),
        (
            "Rasa REST p95 at 1 conversation (ms)",
            find(runs, "ours", "rest", 1)["p95_ms"],
            "<=",
            100,
        ),
        ("Rasa REST throughput at saturation (msg/s)", saturation["throughput_per_s"], ">=", 40),
        ("errors at saturation", saturation["errors"], "<=", 0),
        ("p50 per message, ours / stock", result["ratios"]["p50_rest_1"], "<=", 1.5),
        ("Rasa server memory (MB)", ours["rss_mb"]["rasa"], "<=", 1536),
    ]
    if ours.get("train_seconds") is not None:
        checks.append(("full rasa train (s)", ours["train_seconds"], "<=", 300))
    out = []
    for what, value, op, limit in checks:
        met = value <= limit if op == "<=" else value >= limit
        out.append({"target": what, "value": value, "op": op, "limit": limit, "met": met})
    return out


def summary_text(result: dict) -> str:
    """Everything printed at the end of a run."""
    ours, stock = result["ours"], result["stock"]
    lines = [
        latency_table(result["runs"]),
        "",
        f"{'':28} {'ours':>10} {'stock':>10} {'ratio':>7}",
    ]

    def row(label: str, a: float | None, b: float | None, fmt: str = "{:10.1f}") -> None:
        if a is None or b is None:
            return
        ratio = f"{a / b:7.2f}" if b else "      -"
        lines.append(f"{label:28} {fmt.format(a)} {fmt.format(b)} {ratio}")

    row("Rasa server RSS (MB)", ours["rss_mb"]["rasa"], stock["rss_mb"]["rasa"])
    row("start to ready, Rasa (s)", ours["ready_seconds"]["rasa"], stock["ready_seconds"]["rasa"])
    row("full training (s)", ours.get("train_seconds"), stock.get("train_seconds"))
    row("training peak RSS (MB)", ours.get("train_peak_mb"), stock.get("train_peak_mb"))
    row(
        "REST p50 at 1 (ms)",
        find(result["runs"], "ours", "rest", 1)["p50_ms"],
        find(result["runs"], "stock", "rest", 1)["p50_ms"],
    )
    lines.append(
        "other processes (MB): "
        + ", ".join(f"{k} {v:.0f}" for k, v in ours["rss_mb"].items() if k != "rasa")
    )
    lines += ["", "targets:"]
    for t in result["targets"]:
        mark = "met   " if t["met"] else "MISSED"
        lines.append(f"  {mark} {t['target']}: {t['value']} (target {t['op']} {t['limit']})")
    return "\n".join(lines)


def plot(result: dict, path: Path) -> None:
    """p50 and p95 per path and concurrency, ours beside the stock assistant."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = result["runs"]
    labels = [f"{r['assistant']}\n{r['name']}\n@{r['concurrency']}" for r in runs]
    fig, ax = plt.subplots(figsize=(max(8, len(runs) * 0.8), 5))
    x = range(len(runs))
    ax.bar([i - 0.2 for i in x], [r["p50_ms"] for r in runs], width=0.4, label="p50")
    ax.bar([i + 0.2 for i in x], [r["p95_ms"] for r in runs], width=0.4, label="p95")
    ax.set_xticks(list(x), labels, fontsize=7)
    ax.set_ylabel("ms per message")
    ax.set_yscale("log")
    ax.set_title("Latency per message (make bench)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
