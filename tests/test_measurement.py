"""The measuring instruments themselves: the load client behind `make bench` (against a small
REST server on loopback that answers like Rasa's), its memory readings, its targets, and the
floors of `make evaluate`'s summary. If these were wrong, every number in the README would be."""

from __future__ import annotations

import asyncio
import os
import signal
import statistics
import subprocess
import sys
from collections import defaultdict

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from bench import channels, report
from bench.load import run_load
from bench.procs import rss_bytes, run_timed
from bench.scenarios import Step, steps
from scripts.evaluate import floors_missed, summary_markdown
from stack.fake_platforms import serve
from tests.test_rest_channel import free_port

DELAY = 0.02  # every reply of the stand-in server takes at least this long


@pytest.fixture(scope="module")
def fake_rasa():
    """A stand-in for Rasa's REST channel that records what each sender said. It offers two
    buttons, says "Reference" on the third "no", and fails with 500 on "boom"."""
    said: dict[str, list[str]] = defaultdict(list)
    app = FastAPI()

    @app.post("/webhooks/rest/webhook")
    async def webhook(request: Request):
        body = await request.json()
        said[body["sender"]].append(body["message"])
        await asyncio.sleep(DELAY)
        if body["message"] == "boom":
            return JSONResponse({"error": "boom"}, status_code=500)
        noes = said[body["sender"]].count("no")
        text = "Reference ABC" if noes == 3 else f"you said {body['message']}"
        buttons = [{"title": "X", "payload": "/x"}, {"title": "Y", "payload": "/y"}]
        return [{"recipient_id": body["sender"], "text": text, "buttons": buttons}]

    port = free_port()
    server = serve(app, port)
    yield f"http://127.0.0.1:{port}", said
    server.should_exit = True


def load(url: str, scripts, concurrency: int, prefix: str, max_messages: int):
    send = channels.rest(channels.Target(rasa=url))
    return asyncio.run(
        run_load(
            "t", send, scripts, concurrency, 30, sender_prefix=prefix, max_messages=max_messages
        )
    )


def test_every_message_sent_is_timed_once_and_options_are_chosen_from_the_last_reply(fake_rasa):
    url, said = fake_rasa
    run = load(url, [steps("hello", "tell me more", "@2")], 4, "a", 40)
    ours = {s: m for s, m in said.items() if s.startswith("a")}
    sent = sum(len(m) for m in ours.values())
    assert run.errors == 0
    assert len(run.latencies) == sent >= 40
    assert run.conversations == len(ours)
    # "@2" became the second button's payload of the reply before it.
    complete = [m for m in ours.values() if len(m) == 3]
    assert complete and all(m == ["hello", "tell me more", "/y"] for m in complete)
    summary = run.summary()
    assert summary["p50_ms"] <= summary["p95_ms"] <= summary["p99_ms"]
    # Timed from request to complete reply: never less than the server's own delay.
    assert min(run.latencies) >= DELAY
    assert summary["p50_ms"] == pytest.approx(
        1000 * statistics.quantiles(run.latencies, n=100, method="inclusive")[49], abs=0.06
    )


def test_an_error_is_counted_by_kind_and_ends_its_conversation(fake_rasa):
    url, said = fake_rasa
    run = load(url, [steps("hello", "boom", "never sent")], 2, "b", 20)
    ours = {s: m for s, m in said.items() if s.startswith("b")}
    assert run.errors == sum(m.count("boom") for m in ours.values()) > 0
    assert run.error_kinds == {"BadReply: HTTP 500": run.errors}
    assert not any("never sent" in m for m in ours.values())
    # Failed messages are not in the latencies: only the answered ones are.
    assert len(run.latencies) == sum(m.count("hello") for m in ours.values())


def test_a_repeated_step_stops_at_the_reply_it_waits_for(fake_rasa):
    url, said = fake_rasa
    script = [Step("start"), Step("no", repeat=10, until="Reference"), Step("thanks")]
    load(url, [script], 1, "c", 5)
    (messages,) = [m for s, m in said.items() if s.startswith("c")]
    assert messages == ["start", "no", "no", "no", "thanks"]


def test_memory_is_read_for_a_process_and_its_children(tmp_path):
    hold = "import time; b = bytearray(300 * 1024 * 1024); b[::4096] = b'x' * len(b[::4096]); "
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import subprocess, sys; subprocess.run([sys.executable, '-c', "
            + repr(hold + "print('ready', flush=True); time.sleep(30)")
            + "])",
        ],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert parent.stdout.readline().strip() == "ready"
        # The parent itself holds little: the 300 MB are its child's.
        assert rss_bytes(parent.pid) >= 300 * 1024 * 1024
    finally:
        os.killpg(parent.pid, signal.SIGKILL)
        parent.wait()
    timed = run_timed(
        [sys.executable, "-c", hold + "time.sleep(1)"], tmp_path, {}, tmp_path / "log"
    )
    assert timed.returncode == 0 and timed.seconds >= 1
    assert timed.peak_rss_bytes >= 300 * 1024 * 1024


def bench_result(**changes) -> dict:
    """A bench.json with every target met, changed as asked."""
    runs = [
        {"assistant": "ours", "name": "phone", "concurrency": 10, "p95_ms": 250.0},
        {"assistant": "ours", "name": "rest", "concurrency": 1, "p95_ms": 90.0},
        {"assistant": "ours", "name": "rest", "concurrency": 40, "throughput_per_s": 45.0,
         "errors": 0},
    ]  # fmt: skip
    result = {
        "runs": runs,
        "saturation_concurrency": 40,
        "ours": {"rss_mb": {"rasa": 1400.0}, "train_seconds": 250.0},
        "ratios": {"p50_rest_1": 1.4},
    }
    for key, value in changes.items():
        if key == "errors":
            runs[2]["errors"] = value
        elif key == "ratio":
            result["ratios"]["p50_rest_1"] = value
        else:
            result["ours"][key] = value
    return result


def test_the_targets_are_judged_against_the_issue_limits():
    assert all(t["met"] for t in report.targets(bench_result()))
    missed = {
        t["target"]
        for t in report.targets(bench_result(errors=1, ratio=1.6, train_seconds=301.0))
        if not t["met"]
    }
    assert missed == {
        "errors at saturation",
        "p50 per message, ours / stock",
        "full rasa train (s)",
    }
    # Without training in the run, there is no training target to judge.
    no_training = bench_result()
    del no_training["ours"]["train_seconds"]
    assert "full rasa train (s)" not in {t["target"] for t in report.targets(no_training)}


def evaluation(**changes):
    nlu = {
        "messages": 10,
        "accuracy": 0.95,
        "macro_f1": 0.93,
        "weighted_f1": 0.94,
        "labels": {"greet": {"precision": 1.0, "recall": 0.9, "f1": 0.95, "support": 10}},
    }
    conversations = {"correct": 3, "total": 3, "actions": 30, "action_accuracy": 1.0}
    safety = {
        "red_flags": {
            "development": {"correct": 5, "total": 5, "per_label": {"emergency": (5, 5)}}
        },
        "responses": {
            "deferring": 4,
            "about_treatment": 4,
            "variants": 9,
            "not_deferring": [],
            "verdicts": [],
            "unsourced": [],
        },
    }
    nlu.update(changes.get("nlu", {}))
    conversations.update(changes.get("conversations", {}))
    safety["responses"].update(changes.get("responses", {}))
    return nlu, conversations, safety


def test_the_summary_passes_only_when_every_floor_is_met():
    nlu, conversations, safety = evaluation()
    assert floors_missed(nlu, conversations, safety, 0.90) == []
    assert "All floors met." in summary_markdown(nlu, conversations, safety, [], 0.90)

    nlu, conversations, safety = evaluation(
        nlu={"macro_f1": 0.85},
        conversations={"correct": 2},
        responses={"not_deferring": ["utter_pain"], "verdicts": ["utter_ok"]},
    )
    missed = floors_missed(nlu, conversations, safety, 0.90)
    assert missed == [
        "NLU macro-F1 0.850 < 0.90",
        "1 conversation test(s) failed",
        "answers without a deferral: utter_pain",
        "responses giving a verdict: utter_ok",
    ]
    page = summary_markdown(nlu, conversations, safety, missed, 0.90)
    assert "Floors missed:" in page and "- NLU macro-F1 0.850 < 0.90" in page
    assert "| greet | 1.00 | 0.90 | 0.95 | 10 |" in page
