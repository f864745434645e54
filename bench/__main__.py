"""`make bench`: speed and memory of the whole stack, beside the stock `rasa init` assistant
trained and measured in the same run on the same machine.

    python -m bench [--seconds 20] [--skip-training] [--out results]

1. Trains both assistants from scratch (timed, peak memory sampled).
2. Starts our stack from the embedded defaults (SQLite, no outside accounts) with a fake
   Telegram/Meta/Twilio on loopback, times start to ready, warms up.
3. Drives conversations (FAQ questions, a health check, a booking) through Rasa's REST channel
   and through the gateway as each platform would (the phone line's TwiML turns included) at
   1 and 20 simultaneous conversations, then saturates the REST channel.
4. Reads each process's resident memory, stops, and does the same for the stock assistant.
5. Prints a table and the targets, writes results/bench.json and results/bench.png.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from bench import channels, report
from bench.load import run_load
from bench.procs import rss_bytes, run_timed
from bench.scenarios import FAQ, MIX, PHONE, STOCK
from stack.postgres import free_port
from stack.processes import (
    BIN,
    QUIET_ENV,
    RASA_ENV,
    ROOT,
    ProcessGroup,
    Service,
    action_server,
    gateway_server,
    rasa_server,
    write_endpoints,
)

MB = 1024 * 1024
WORK = ROOT / "build" / "bench"
SATURATION = 40
PREFIXES = iter(range(10, 100))


def train(name: str, cwd: Path, args: list[str]) -> dict:
    """`rasa train` from scratch, timed, with its peak memory."""
    print(f"training {name} (full `rasa train --force`)...", flush=True)
    timed = run_timed(
        [str(BIN / "rasa"), "train", "--force", *args],
        cwd=cwd,
        env={**os.environ, **QUIET_ENV},
        log=WORK / f"train-{name}.log",
    )
    if timed.returncode != 0:
        raise SystemExit(f"training {name} failed: see {WORK / f'train-{name}.log'}")
    print(f"  {timed.seconds:.0f} s, peak {timed.peak_rss_bytes / MB:.0f} MB", flush=True)
    return {
        "train_seconds": round(timed.seconds, 1),
        "train_peak_mb": round(timed.peak_rss_bytes / MB),
    }


# Warming up: the first messages of each shape make TensorFlow trace its graphs (seconds each).
# Every script of the mix is run to its end (about 120 messages) before anything is measured.
WARM_UP_MESSAGES, WARM_UP_SECONDS = 120, 120.0


def measure(
    assistant: str,
    path: str,
    send,
    scripts,
    concurrency: int,
    seconds: float,
    begin=None,
    max_messages: int | None = None,
) -> dict:
    """One load run, summarised and printed."""
    prefix = f"{next(PREFIXES)}"
    run = asyncio.run(
        run_load(
            path,
            send,
            scripts,
            concurrency,
            seconds,
            sender_prefix=prefix,
            begin=begin,
            max_messages=max_messages,
        )
    )
    summary = {"assistant": assistant, **run.summary()}
    print(
        f"  {assistant:6} {path:10} @{concurrency:<3} {summary['messages']:5d} msgs "
        f"{summary['errors']} err  p50 {summary['p50_ms']:7.1f}  p95 {summary['p95_ms']:7.1f} ms"
        f"  {summary['throughput_per_s']:6.1f}/s",
        flush=True,
    )
    return summary


def memory(group: ProcessGroup) -> dict[str, float]:
    """Resident memory of each running service (with its children), in MB."""
    return {s.name: round(rss_bytes(s.process.pid) / MB, 1) for s in group.services if s.process}


def bench_ours(model: Path, seconds: float, runs: list[dict]) -> dict:
    """Start our stack, warm it up, measure every path."""
    tmp = Path(tempfile.mkdtemp(prefix="ours-", dir=WORK))
    ports = {name: free_port() for name in ("rasa", "actions", "gateway", "fake")}
    database_url = f"sqlite:///{tmp / 'clinic.db'}"
    from clinic.store import upgrade_database

    upgrade_database(database_url)
    endpoints = write_endpoints(tmp / "endpoints.yml", ports["actions"], tmp / "tracker.db")
    target = channels.Target(
        rasa=f"http://127.0.0.1:{ports['rasa']}",
        gateway=f"http://127.0.0.1:{ports['gateway']}",
        fake=f"http://127.0.0.1:{ports['fake']}",
    )
    fake = Service(
        "fake",
        [sys.executable, "-m", "stack.fake_platforms", str(ports["fake"])],
        f"{target.fake}/_sent/none/none",
    )
    actions = action_server(ports["actions"])
    actions.env["DATABASE_URL"] = database_url
    gateway = gateway_server(
        ports["gateway"],
        {
            "DATABASE_URL": database_url,
            "TRACKER_DATABASE_URL": f"sqlite:///{tmp / 'tracker.db'}",
            "RASA_URL": target.rasa,
            "PUBLIC_BASE_URL": target.gateway,
            "RATE_LIMIT_PER_MINUTE": "1000000",
            "RATE_LIMIT_PER_IP_PER_MINUTE": "1000000",
            "TELEGRAM_BOT_TOKEN": "1:bench",
            "TELEGRAM_SECRET_TOKEN": target.telegram_secret,
            "TELEGRAM_API_BASE": f"{target.fake}/telegram",
            "WHATSAPP_VERIFY_TOKEN": "bench",
            "WHATSAPP_APP_SECRET": target.meta_secret,
            "WHATSAPP_ACCESS_TOKEN": "bench",
            "WHATSAPP_PHONE_NUMBER_ID": "1",
            "WHATSAPP_API_BASE": f"{target.fake}/graph",
            "TWILIO_ACCOUNT_SID": "ACbench",
            "TWILIO_AUTH_TOKEN": target.twilio_token,
            "TWILIO_API_BASE": f"{target.fake}/twilio",
        },
    )
    rasa = rasa_server(model, ports["rasa"], endpoints)
    # The fake platforms are the outside world: started first, not part of our stack's timing.
    outside = ProcessGroup([fake], log=(tmp / "fake.log").open("w"))
    outside.start()
    group = ProcessGroup([actions, rasa, gateway], log=(tmp / "stack.log").open("w"))
    print("starting our stack (actions, Rasa, gateway)...", flush=True)
    group.start()
    result: dict = {"ready_seconds": {k: round(v, 1) for k, v in group.ready_after.items()}}
    try:
        rest = channels.rest(target)
        print("warming up...", flush=True)
        warm = measure(
            "ours", "warm-up", rest, MIX, 2, WARM_UP_SECONDS, max_messages=WARM_UP_MESSAGES
        )
        assert warm["errors"] == 0, "errors while warming up: see the stack log"
        result["rss_mb_after_warm_up"] = memory(group)

        for concurrency in (1, 20):
            runs.append(measure("ours", "rest", rest, MIX, concurrency, seconds))
        runs.append(measure("ours", "rest-faq-only", rest, [FAQ], 1, seconds))
        for name, adapter in (
            ("widget", channels.widget),
            ("telegram", channels.telegram),
            ("whatsapp", channels.whatsapp),
            ("sms", channels.sms),
        ):
            for concurrency in (1, 20):
                runs.append(measure("ours", name, adapter(target), MIX, concurrency, seconds))
        send, begin = channels.phone(target)
        for concurrency in (1, 10, 20):
            runs.append(measure("ours", "phone", send, [PHONE], concurrency, seconds, begin))
        runs.append(measure("ours", "rest", rest, MIX, SATURATION, seconds))
        result["rss_mb"] = memory(group)
    finally:
        group.stop()
        outside.stop()
    return result


def bench_stock(model: Path, project: Path, seconds: float, runs: list[dict]) -> dict:
    """Start the stock assistant's Rasa server and measure its REST channel."""
    port = free_port()
    rasa = Service(
        "rasa",
        [
            str(BIN / "rasa"),
            "run",
            "--model",
            str(model),
            "--interface",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        f"http://127.0.0.1:{port}/",
        # The same server settings as ours: the comparison is of the assistants.
        env=dict(RASA_ENV),
    )
    # `rasa run` reads the stock project's credentials.yml and endpoints.yml from its folder.
    rasa.cwd = project
    group = ProcessGroup([rasa], log=(WORK / "stock-stack.log").open("w"))
    print("starting the stock assistant...", flush=True)
    group.start()
    result: dict = {"ready_seconds": {"rasa": round(group.ready_after["rasa"], 1)}}
    try:
        target = channels.Target(rasa=f"http://127.0.0.1:{port}")
        rest = channels.rest(target)
        warm = measure(
            "stock", "warm-up", rest, STOCK, 2, WARM_UP_SECONDS, max_messages=WARM_UP_MESSAGES
        )
        assert warm["errors"] == 0, "errors while warming up the stock assistant"
        for concurrency in (1, 20):
            runs.append(measure("stock", "rest", rest, STOCK, concurrency, seconds))
        runs.append(measure("stock", "rest", rest, STOCK, SATURATION, seconds))
        result["rss_mb"] = {"rasa": round(rss_bytes(rasa.process.pid) / MB, 1)}
    finally:
        group.stop()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20, help="length of each load run")
    parser.add_argument(
        "--skip-training",
        action="store_true",
        help="use models/current.tar.gz and a cached stock model instead of training both",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "results")
    args = parser.parse_args()
    import rasa

    stock_source = Path(rasa.__file__).parent / "cli" / "initial_project"
    WORK.mkdir(parents=True, exist_ok=True)
    args.out.mkdir(parents=True, exist_ok=True)
    ours: dict = {}
    stock: dict = {}

    stock_project = WORK / "stock"
    stock_model = stock_project / "models" / "stock.tar.gz"
    our_model = ROOT / "models" / "current.tar.gz"
    if not stock_project.exists():
        shutil.copytree(stock_source, stock_project)
    if args.skip_training:
        if not stock_model.exists():
            stock.update(train("stock", stock_project, ["--fixed-model-name", "stock"]))
    else:
        ours.update(
            train(
                "ours",
                ROOT,
                [
                    "--config",
                    "config.yml",
                    "--domain",
                    "domain",
                    "--data",
                    "data",
                    "--out",
                    str(WORK / "models"),
                    "--fixed-model-name",
                    "ours",
                ],
            )
        )
        our_model = WORK / "models" / "ours.tar.gz"
        stock.update(train("stock", stock_project, ["--fixed-model-name", "stock"]))

    runs: list[dict] = []
    ours.update(bench_ours(our_model, args.seconds, runs))
    stock.update(bench_stock(stock_model, stock_project, args.seconds, runs))
    rest_1 = report.find(runs, "ours", "rest", 1)["p50_ms"]
    result = {
        "made": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": "make bench",
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "seconds_per_run": args.seconds,
        "saturation_concurrency": SATURATION,
        "runs": runs,
        "ours": ours,
        "stock": stock,
        "ratios": {
            "p50_rest_1": round(rest_1 / report.find(runs, "stock", "rest", 1)["p50_ms"], 2),
            "p50_rest_faq_only_1": round(
                report.find(runs, "ours", "rest-faq-only", 1)["p50_ms"]
                / report.find(runs, "stock", "rest", 1)["p50_ms"],
                2,
            ),
            "rasa_rss": round(ours["rss_mb"]["rasa"] / stock["rss_mb"]["rasa"], 2),
        },
    }
    result["targets"] = report.targets(result)
    (args.out / "bench.json").write_text(json.dumps(result, indent=2))
    report.plot(result, args.out / "bench.png")
    print()
    print(report.summary_text(result))
    print(f"\nwrote {args.out / 'bench.json'} and {args.out / 'bench.png'}")
    saturation_errors = sum(r["errors"] for r in runs)
    return 1 if saturation_errors else 0


if __name__ == "__main__":
    sys.exit(main())
