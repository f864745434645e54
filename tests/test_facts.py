"""The clinic's facts as text: hours grouped by day, open-now, money, prices and team."""

from __future__ import annotations

from datetime import time
from decimal import Decimal

import pytest

from clinic import facts
from tests.conftest import local


def test_opening_hours_group_consecutive_days_with_the_same_hours(clinic):
    assert facts.opening_hours_text(clinic).splitlines() == [
        "• Monday to Tuesday: 9am to 6pm",
        "• Wednesday: 9am to 1pm, 2pm to 8pm",
        "• Thursday: 9am to 6pm",
        "• Friday: 9am to 5pm",
        "• Saturday: 10am to 2pm",
        "• Sunday: closed",
    ]


@pytest.mark.parametrize(
    ("value", "spoken"),
    [(time(9), "9am"), (time(12), "12pm"), (time(0), "12am"), (time(13, 30), "1:30pm")],
)
def test_clock(value, spoken):
    assert facts.clock(value) == spoken


def test_open_now_text(clinic):
    assert facts.open_now_text(clinic, local(clinic, "2026-11-23 10:00")) == (
        "We're open now, until 6pm."
    )
    assert facts.open_now_text(clinic, local(clinic, "2026-11-23 19:00")) == (
        "We're closed right now; we open tomorrow at 9am."
    )
    assert facts.open_now_text(clinic, local(clinic, "2026-12-25 10:00")) == (
        "We're closed right now (Christmas Day); we open Monday at 9am."
    )


def test_upcoming_closures(clinic):
    text = facts.upcoming_closures_text(clinic, local(clinic, "2026-12-01 10:00"))
    assert text == (
        "Closed on Friday 25 December (Christmas Day), Saturday 26 December (Boxing Day), "
        "Friday 1 January (New Year's Day)."
    )
    # Only the coming weeks: from mid-November, New Year is too far ahead to mention.
    assert "January" not in facts.upcoming_closures_text(clinic, local(clinic, "2026-11-15 10:00"))
    assert facts.upcoming_closures_text(clinic, local(clinic, "2026-06-01 10:00")) == ""


def test_money_and_price_list(clinic):
    assert facts.money(clinic, Decimal("220")) == "£220"
    assert facts.money(clinic, Decimal("12.5")) == "£12.50"
    assert facts.money(clinic, Decimal("0")) == "free"
    lines = facts.price_list_text(clinic).splitlines()
    assert "• Skin consultation: free (needed before a first treatment)" in lines
    assert "• Microneedling, face: £220" in lines
    assert "• Microneedling for stretch marks or scars, per area: from £250" in lines
    assert lines[-1].startswith("Prices include")


def test_practitioners_and_consultation_types(clinic):
    assert "• Dr Amira Hassan, Aesthetic doctor" in facts.practitioners_text(clinic)
    assert "• Skin consultation (30 minutes)" in facts.consultation_types_text(clinic)
