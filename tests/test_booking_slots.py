"""Free-slot search: opening and closing edges, closures, notice, the clock changes, past times."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

import pytest
import yaml

from clinic.booking.model import BLOCK, Slot, SlotUnavailable
from clinic.booking.slots import free_slots, slot_for, starts_on, why_not_bookable
from clinic.profile import load_clinic
from tests.conftest import ROOT, local


def local_times(clinic, slots):
    return [s.start.astimezone(clinic.tz).strftime("%a %d %H:%M") for s in slots]


def test_starts_respect_opening_and_closing_edges(clinic):
    monday = local(clinic, "2026-11-23 00:00").date()
    starts = [s.astimezone(clinic.tz).time() for s in starts_on(clinic, monday, "consultation")]
    assert starts[0] == time(9, 0) and starts[-1] == time(17, 30)  # 30 minutes fit before 6pm
    treatment = [s.astimezone(clinic.tz).time() for s in starts_on(clinic, monday, "treatment")]
    assert treatment[-1] == time(17, 0)  # a 60-minute treatment must end by closing


def test_the_lunch_break_is_not_bookable(clinic):
    wednesday = local(clinic, "2026-11-25 00:00").date()
    starts = {s.astimezone(clinic.tz).time() for s in starts_on(clinic, wednesday, "treatment")}
    assert time(12, 0) in starts and time(12, 30) not in starts and time(13, 0) not in starts
    assert time(14, 0) in starts and time(19, 0) in starts and time(19, 30) not in starts


def test_closure_days_and_sundays_offer_nothing(clinic):
    now = local(clinic, "2026-12-20 10:00")
    found = free_slots(
        clinic,
        set(),
        "consultation",
        local(clinic, "2026-12-25 00:00"),
        local(clinic, "2026-12-27 23:00"),
        now,
        limit=20,
    )
    assert found == []  # Christmas, Boxing Day (closures) and a Sunday
    slot = Slot(
        "consultation",
        "ahassan",
        local(clinic, "2026-12-25 10:00").astimezone(timezone.utc),
        local(clinic, "2026-12-25 10:30").astimezone(timezone.utc),
    )
    assert (
        why_not_bookable(clinic, slot, now)
        == "the clinic is closed on Friday 25 December (Christmas Day)"
    )


def test_past_and_short_notice_times_are_refused(clinic):
    now = local(clinic, "2026-11-23 10:10")
    found = free_slots(
        clinic,
        set(),
        "consultation",
        local(clinic, "2026-11-23 00:00"),
        local(clinic, "2026-11-23 23:00"),
        now,
        limit=2,
    )
    assert local_times(clinic, found) == ["Mon 23 12:30", "Mon 23 13:00"]  # two hours' notice
    past = found[0].id.replace("1230Z", "0900Z")
    with pytest.raises(SlotUnavailable, match="in the past"):
        slot_for(clinic, past, now)
    soon = found[0].id.replace("1230Z", "1130Z")
    with pytest.raises(SlotUnavailable, match="2 hours' notice"):
        slot_for(clinic, soon, now)


def test_outside_hours_gives_the_days_hours(clinic):
    with pytest.raises(SlotUnavailable, match=r"outside our hours on Mondays \(9am to 6pm\)"):
        slot_for(clinic, "consultation.ahassan.20261130T1900Z", local(clinic, "2026-11-23 10:00"))
    with pytest.raises(SlotUnavailable, match="closed on Sundays"):
        slot_for(clinic, "consultation.ahassan.20261129T1000Z", local(clinic, "2026-11-23 10:00"))


def test_taken_blocks_move_to_the_next_practitioner_then_the_next_time(clinic):
    now = local(clinic, "2026-11-20 10:00")
    nine = local(clinic, "2026-11-23 09:00").astimezone(timezone.utc)
    taken = {("ahassan", nine), ("ahassan", nine + BLOCK), ("jreilly", nine)}
    found = free_slots(
        clinic,
        taken,
        "consultation",
        local(clinic, "2026-11-23 00:00"),
        local(clinic, "2026-11-23 23:00"),
        now,
        limit=2,
    )
    # 9:00 is taken for both; at 9:30 the first practitioner in the clinic file is free again.
    assert [(s.practitioner_id, s.start.astimezone(clinic.tz).time()) for s in found] == [
        ("ahassan", time(9, 30)),
        ("ahassan", time(10, 0)),
    ]


def test_nearest_to_a_requested_time_first(clinic):
    now = local(clinic, "2026-11-20 10:00")
    found = free_slots(
        clinic,
        set(),
        "consultation",
        local(clinic, "2026-11-24 00:00"),
        local(clinic, "2026-11-24 23:00"),
        now,
        limit=3,
        near=local(clinic, "2026-11-24 15:10"),
    )
    assert local_times(clinic, found) == ["Tue 24 15:00", "Tue 24 15:30", "Tue 24 14:30"]


def test_part_of_day(clinic):
    now = local(clinic, "2026-11-20 10:00")
    found = free_slots(
        clinic,
        set(),
        "consultation",
        local(clinic, "2026-11-24 00:00"),
        local(clinic, "2026-11-24 23:00"),
        now,
        limit=1,
        within=(time(12), time(17)),
    )
    assert local_times(clinic, found) == ["Tue 24 12:00"]


@pytest.fixture
def sunday_clinic(tmp_path):
    """The clinic, open on Sundays 00:00-04:00: across the night the clocks change."""
    data = yaml.safe_load((ROOT / "clinic.yml").read_text())
    data["opening_hours"]["sunday"] = ["00:00-04:00"]
    path = tmp_path / "clinic.yml"
    path.write_text(yaml.safe_dump(data))
    return load_clinic(path)


def test_clocks_going_forward_skip_the_missing_hour(sunday_clinic):
    clinic = sunday_clinic  # 29 March 2026: 01:00 GMT becomes 02:00 BST
    day = datetime(2026, 3, 29).date()
    starts = [
        s.astimezone(clinic.tz).strftime("%H:%M %Z") for s in starts_on(clinic, day, "consultation")
    ]
    assert starts == ["00:00 GMT", "00:30 GMT", "02:00 BST", "02:30 BST", "03:00 BST", "03:30 BST"]
    assert all(
        b - a >= timedelta(minutes=30)
        for a, b in zip(
            list(starts_on(clinic, day, "consultation")),
            list(starts_on(clinic, day, "consultation"))[1:],
            strict=False,
        )
    )


def test_clocks_going_back_keep_appointments_in_real_time(sunday_clinic):
    clinic = sunday_clinic  # 25 October 2026: 02:00 BST becomes 01:00 GMT
    day = datetime(2026, 10, 25).date()
    starts = list(starts_on(clinic, day, "consultation"))
    utc = [s.strftime("%H:%M") for s in starts]
    assert utc[:4] == [
        "23:00",
        "23:30",
        "00:00",
        "00:30",
    ]  # midnight BST is 23:00 UTC the day before
    assert len(set(starts)) == len(starts)
    last = starts[-1]
    assert last + timedelta(minutes=30) <= datetime(
        2026, 10, 25, 4, 0, tzinfo=clinic.tz
    ).astimezone(timezone.utc)
