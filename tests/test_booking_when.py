"""Preferred times in patients' words, in the clinic's time zone."""

from __future__ import annotations

from datetime import date, time

import pytest

from clinic.booking.when import WhenError, parse_preference
from tests.conftest import local

NOW = "2026-11-21 15:00"  # a Saturday afternoon


@pytest.mark.parametrize(
    ("text", "first", "last", "within", "near"),
    [
        (
            "next Tuesday afternoon",
            date(2026, 11, 24),
            date(2026, 11, 24),
            (time(12), time(17)),
            None,
        ),
        ("tomorrow at 3", date(2026, 11, 22), date(2026, 11, 22), None, "2026-11-22 15:00"),
        ("the 14th", date(2026, 12, 14), date(2026, 12, 14), None, None),
        (
            "any morning next week",
            date(2026, 11, 23),
            date(2026, 11, 29),
            (time(0), time(12)),
            None,
        ),
        ("asap please", date(2026, 11, 21), date(2026, 12, 5), None, None),
        ("Friday 10am", date(2026, 11, 27), date(2026, 11, 27), None, "2026-11-27 10:00"),
        (
            "um could i do half 2 on thursday",
            date(2026, 11, 26),
            date(2026, 11, 26),
            None,
            "2026-11-26 14:30",
        ),
        ("24 November", date(2026, 11, 24), date(2026, 11, 24), None, None),
        ("30/11 in the morning", date(2026, 11, 30), date(2026, 11, 30), (time(0), time(12)), None),
        (
            "the 3rd of december at 10am",
            date(2026, 12, 3),
            date(2026, 12, 3),
            None,
            "2026-12-03 10:00",
        ),
        (
            "wednesday evening",
            date(2026, 11, 25),
            date(2026, 11, 25),
            (time(17), time(23, 59)),
            None,
        ),
    ],
)
def test_phrases(clinic, text, first, last, within, near):
    preference = parse_preference(text, clinic, local(clinic, NOW))
    assert (preference.first_day, preference.last_day, preference.within) == (first, last, within)
    assert preference.near == (local(clinic, near) if near else None)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("yesterday", "in the past"),
        ("14 november", "Saturday 14 November has already passed"),
        ("today at 10am", "10am today has already passed"),
        ("i dont know", "couldn't find a day or a time"),
    ],
)
def test_unusable_phrases_say_why(clinic, text, reason):
    with pytest.raises(WhenError, match=reason):
        parse_preference(text, clinic, local(clinic, NOW))


def test_described_for_the_read_back(clinic):
    preference = parse_preference("tomorrow at 3", clinic, local(clinic, NOW))
    assert preference.described == "Sunday 22 November, around 3pm"
