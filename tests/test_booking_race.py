"""50 patients booking at once, through the conversation, for a clinic with 10 free times: the
production profile (two Rasa servers and two action servers on PostgreSQL and Redis)."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from datetime import datetime, timedelta, timezone

import httpx
import pytest
import yaml
from sqlalchemy import create_engine, text

from clinic.profile import load_clinic
from stack.cluster import Cluster
from tests.conftest import ROOT

MODEL = ROOT / "models" / "current.tar.gz"
PATIENTS, FREE = 50, 10
TAKEN = "Sorry, someone has just booked that time."


def ten_slot_clinic(path, day) -> None:
    """The clinic's file with one practitioner, open 13:00 to 18:00 on one day only: ten
    half-hour consultations."""
    clinic = yaml.safe_load((ROOT / "clinic.yml").read_text())
    weekday = day.strftime("%A").lower()
    clinic["opening_hours"] = {
        d: (["13:00-18:00"] if d == weekday else [])
        for d in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    }
    clinic["practitioners"] = clinic["practitioners"][:1]
    clinic["closures"] = [
        {"date": (day + timedelta(days=7 * k)).isoformat(), "reason": "Closed"} for k in (1, 2, 3)
    ]
    path.write_text(yaml.safe_dump(clinic, sort_keys=False))


@pytest.fixture(scope="module")
def race(tmp_path_factory):
    assert MODEL.exists(), "no trained model: `make test` trains it first"
    directory = tmp_path_factory.mktemp("race")
    clinic_tz = load_clinic(ROOT / "clinic.yml").tz
    day = datetime.now(timezone.utc).astimezone(clinic_tz).date() + timedelta(days=3)
    ten_slot_clinic(directory / "clinic.yml", day)
    cluster = Cluster.on_free_ports(
        directory, extra_actions_env={"CLINIC_FILE": str(directory / "clinic.yml")}
    )
    with open(directory / "cluster.log", "w") as log:
        cluster.start(log=log)
        yield cluster, day
        cluster.stop()


FIRST = ["Ana", "Ben", "Cara", "Dev", "Elif", "Finn", "Gita", "Hugo", "Iris", "Jon"]
LAST = ["Adams", "Brook", "Chen", "Dunn", "Evans"]


def name_of(i: int) -> str:
    return f"{FIRST[i % len(FIRST)]} {LAST[i // len(FIRST) % len(LAST)]}"


async def book(client: httpx.AsyncClient, url: str, i: int, day) -> dict:
    """One patient: asks for the afternoon, takes one of the times offered, confirms; when the
    time has gone, takes the next time offered, until booked or nothing is left."""
    sender = f"race-{i:03d}"
    log: dict = {"sender": sender, "taken": 0, "offered_after_taken": [], "booked": None}

    async def say(message: str) -> tuple[str, list[dict]]:
        response = await client.post(url, json={"sender": sender, "message": message})
        response.raise_for_status()
        replies = response.json()
        assert replies, f"{sender}: no reply to {message!r}"
        said = "\n".join(r.get("text") or "" for r in replies)
        assert not said.startswith("Sorry, I can't answer just now"), said
        return said, [b for r in replies for b in r.get("buttons", [])]

    assert "full name" in (await say("I'd like to book a consultation please"))[0]
    assert "phone number" in (await say(name_of(i)))[0]
    assert "When would suit you?" in (await say(f"07400 {100000 + i}"))[0]
    said, buttons = await say(f"{day.day} {day:%B} afternoon")
    times = [b for b in buttons if b["payload"] != "another time"]
    assert times, said
    said, _ = await say(times[i % len(times)]["payload"])
    assert "talk about at the consultation" in said
    assert "health check now" in (await say("acne scars"))[0]
    said, _ = await say("not now")
    for _ in range(FREE + 2):
        assert said.startswith("Please check:"), said
        said, buttons = await say("yes")
        if said.startswith("You're booked."):
            log["booked"] = re.search(r"reference is (B-\w{6})", said).group(1)
            return log
        assert TAKEN in said, said
        log["taken"] += 1
        times = [b for b in buttons if b["payload"] != "another time"]
        log["offered_after_taken"].append(len(times))
        if not times:
            assert re.search(r"no (other )?free times", said), said
            return log
        said, _ = await say(times[0]["payload"])
    raise AssertionError(f"{sender} never finished")


def test_50_patients_race_for_10_free_times(race):
    cluster, day = race
    url = f"http://127.0.0.1:{cluster.rasa_port}/webhooks/rest/webhook"

    async def everyone():
        limits = httpx.Limits(max_connections=PATIENTS + 5)
        async with httpx.AsyncClient(timeout=120, limits=limits) as client:
            return await asyncio.gather(*(book(client, url, i, day) for i in range(PATIENTS)))

    logs = asyncio.run(everyone())  # any lost message or wrong reply raises here
    winners = [log for log in logs if log["booked"]]
    losers = [log for log in logs if not log["booked"]]
    assert len(winners) == FREE and len(losers) == PATIENTS - FREE
    # Every patient who lost a time was told so and offered the times still free (the last
    # ones to lose, none: then they were asked about another day).
    assert all(log["taken"] >= 1 for log in losers)
    assert sum(1 for log in logs for n in log["offered_after_taken"] if n > 0) > 0

    engine = create_engine(cluster.clinic_url)
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT reference, start_at FROM bookings WHERE status = 'confirmed'")
        ).all()
    engine.dispose()
    assert sorted(r.reference for r in rows) == sorted(log["booked"] for log in winners)
    slots = Counter(r.start_at for r in rows)
    assert len(slots) == FREE and set(slots.values()) == {1}  # ten times, none twice
