"""When a patient would like to come, from their own words, in the clinic's time zone.

"next Tuesday afternoon", "tomorrow at 3", "the 14th", "any morning next week", "asap",
"Friday 10am", "24 November", "half 2 on Thursday". Explicit dates go through `dateparser`;
the everyday phrases it does not handle (weekdays, parts of the day, "next week") are read here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import dateparser

from clinic.facts import clock
from clinic.profile import WEEKDAYS, ClinicProfile

PARTS_OF_DAY = {
    "morning": (time(0, 0), time(12, 0)),
    "lunchtime": (time(11, 30), time(14, 0)),
    "lunch": (time(11, 30), time(14, 0)),
    "afternoon": (time(12, 0), time(17, 0)),
    "evening": (time(17, 0), time(23, 59)),
    "after work": (time(17, 0), time(23, 59)),
    "tonight": (time(17, 0), time(23, 59)),
}
DAY_NAMES = {
    "mon": 0,
    "monday": 0,
    "tue": 1,
    "tues": 1,
    "tuesday": 1,
    "wed": 2,
    "weds": 2,
    "wednesday": 2,
    "thu": 3,
    "thur": 3,
    "thurs": 3,
    "thursday": 3,
    "fri": 4,
    "friday": 4,
    "sat": 5,
    "saturday": 5,
    "sun": 6,
    "sunday": 6,
}
ANY_TIME = re.compile(
    r"\b(asap|as soon as (possible|poss|you can)|soonest|earliest|first (available|free)|"
    r"any ?time|whenever|any day|don'?t mind|dont mind|no preference|flexible)\b"
)
CLOCK = re.compile(
    r"\b(?:at\s+)?(?P<hour>\d{1,2})(?:[:.](?P<minute>\d{2}))?\s*(?P<ampm>am|pm|a\.m\.|p\.m\.)?"
    r"(?=\s|$|,)"
)
HALF_PAST = re.compile(r"\bhalf (past )?(?P<hour>\d{1,2})\b")
EXPLICIT_CLOCK = re.compile(r"\bat \d{1,2}([:.]\d{2})?\b|\b\d{1,2}([:.]\d{2})?\s*(am|pm)\b")
PAST = re.compile(
    r"\b(yesterday|ago|last (week|night|month|monday|tuesday|wednesday|thursday|friday|"
    r"saturday|sunday))\b"
)
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


class WhenError(ValueError):
    """The words do not give a usable time; the message says why, for the patient."""


@dataclass(frozen=True)
class Preference:
    """A window of days, optionally a part of the day, optionally a target time."""

    first_day: date
    last_day: date
    within: tuple[time, time] | None = None
    near: datetime | None = None
    described: str = ""

    def window(self, profile: ClinicProfile) -> tuple[datetime, datetime]:
        """The window as aware datetimes in the clinic's time zone."""
        return (
            datetime.combine(self.first_day, time(0, 0), tzinfo=profile.tz),
            datetime.combine(self.last_day, time(23, 59), tzinfo=profile.tz),
        )


def _hour_24(hour: int, ampm: str | None) -> int:
    """A spoken hour to the 24-hour clock: "3" means 3pm at a clinic, "10" means 10am."""
    if ampm:
        pm = ampm.startswith("p")
        return (hour % 12) + (12 if pm else 0)
    if hour <= 7:
        return hour + 12
    return hour


def _clock_time(text: str) -> time | None:
    """An explicit time in the text ("at 3", "3.30pm", "15:00", "half 2", "noon")."""
    if re.search(r"\b(noon|midday|12 ?noon)\b", text):
        return time(12, 0)
    half = HALF_PAST.search(text)
    if half:
        return time(_hour_24(int(half.group("hour")), None), 30)
    for match in CLOCK.finditer(text):
        hour, minute, ampm = int(match.group("hour")), match.group("minute"), match.group("ampm")
        following = text[match.end() :].lstrip()
        if following.startswith(("st", "nd", "rd", "th")) or following.startswith(MONTHS):
            continue  # "3rd", "14 november": a date, not a time
        if not ampm and not minute and not match.group(0).strip().startswith("at"):
            continue  # a bare number is not a time unless it says "at 3" or "3pm"
        if hour > 23 or (minute and int(minute) > 59):
            continue
        return time(_hour_24(hour, ampm) if hour <= 12 else hour, int(minute or 0))
    return None


def _weekday_after(today: date, weekday: int, skip_today: bool) -> date:
    ahead = (weekday - today.weekday()) % 7
    if ahead == 0 and skip_today:
        ahead = 7
    return today + timedelta(days=ahead)


def _days(text: str, today: date, profile: ClinicProfile) -> tuple[date, date] | None:
    """The range of days the words name, or None if they name none."""
    if re.search(r"\b(day after tomorrow)\b", text):
        day = today + timedelta(days=2)
        return day, day
    if re.search(r"\b(tomorrow|tmrw|tmr|tomoz|tomorow|2moro)\b", text):
        day = today + timedelta(days=1)
        return day, day
    if re.search(r"\b(today|tonight|this (morning|afternoon|evening))\b", text):
        return today, today
    next_week = today + timedelta(days=7 - today.weekday())
    if re.search(r"\bnext weekend\b", text):
        saturday = next_week + timedelta(days=5)
        return saturday, saturday + timedelta(days=1)
    if re.search(r"\b(this |the )?weekend\b", text):
        saturday = _weekday_after(today, 5, skip_today=False)
        return saturday, saturday + timedelta(days=1)
    if re.search(r"\bnext week\b", text):
        return next_week, next_week + timedelta(days=6)
    if re.search(r"\bthis week\b", text):
        return today, today + timedelta(days=6 - today.weekday())
    in_weeks = re.search(r"\bin (a|one|two|2|three|3) weeks?\b", text)
    if in_weeks:
        weeks = {"a": 1, "one": 1, "two": 2, "2": 2, "three": 3, "3": 3}[in_weeks.group(1)]
        start = today + timedelta(weeks=weeks)
        return start, start + timedelta(days=6)
    for word in re.findall(r"[a-z]+", text):
        if word in DAY_NAMES:
            skip = bool(re.search(rf"\bnext {word}\b", text))
            day = _weekday_after(today, DAY_NAMES[word], skip_today=skip)
            return day, day
    day_of_month = re.search(r"\b(?:the )?(\d{1,2})(st|nd|rd|th)\b(?! of [a-z])(?! [a-z]{3})", text)
    if day_of_month:
        number = int(day_of_month.group(1))
        for months_ahead in range(0, 3):
            year, month = today.year, today.month + months_ahead
            year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
            try:
                candidate = date(year, month, number)
            except ValueError:
                continue
            if candidate >= today:
                return candidate, candidate
        raise WhenError(f"there is no {number}{day_of_month.group(2)} in the coming months")
    return _explicit_date(text, today, profile)


def _explicit_date(text: str, today: date, profile: ClinicProfile) -> tuple[date, date] | None:
    """A calendar date written out ("24 November", "24/11", "3rd of December")."""
    if not (re.search(r"\d{1,2}\s*/\s*\d{1,2}", text) or any(m in text for m in MONTHS)):
        return None
    stripped = HALF_PAST.sub(" ", EXPLICIT_CLOCK.sub(" ", text))
    stripped = re.sub(
        r"\b(at|on|for|the|of|please|pls|in|morning|afternoon|evening)\b", " ", stripped
    )
    parsed = dateparser.parse(
        stripped,
        languages=["en"],
        settings={
            "DATE_ORDER": "DMY",
            "PREFER_DATES_FROM": "future",
            "TIMEZONE": profile.time_zone,
            "RELATIVE_BASE": datetime.combine(today, time(12, 0)),
            "REQUIRE_PARTS": ["day", "month"],
        },
    )
    if parsed is None:
        return None
    day = parsed.date()
    this_year = day.replace(year=today.year) if not (day.month == 2 and day.day == 29) else day
    if day < today or (day.year > today.year and 0 < (today - this_year).days <= 90):
        # "14 November" a week after it: a date that has just passed, not one next year
        passed = this_year if day.year > today.year else day
        raise WhenError(f"{passed:%A} {passed.day} {passed:%B} has already passed")
    return day, day


def parse_preference(text: str, profile: ClinicProfile, now: datetime) -> Preference:
    """When the patient would like to come; WhenError (with the reason) if it cannot be used."""
    words = " ".join(re.sub(r"[^\w:/.' ]", " ", text.lower()).split())
    local_now = now.astimezone(profile.tz)
    today = local_now.date()
    if PAST.search(words):
        raise WhenError("that's in the past")
    within = next(
        (span for name, span in PARTS_OF_DAY.items() if re.search(rf"\b{name}\b", words)), None
    )
    at = _clock_time(words)
    days = _days(words, today, profile)
    if days is None:
        if ANY_TIME.search(words) or within or at:
            days = (today, today + timedelta(days=14))
        else:
            raise WhenError("I couldn't find a day or a time in that")
    first, last = days
    near = None
    if at is not None:
        near = datetime.combine(first, at, tzinfo=profile.tz)
        if near < local_now:
            if first == last:
                raise WhenError(f"{clock(at)} today has already passed")
            near += timedelta(days=1)  # "at 11" with no day: the next 11am
    if last < today or (
        last == today
        and within
        and datetime.combine(today, within[1], tzinfo=profile.tz) <= local_now
    ):
        raise WhenError("that time has already passed")
    described = _describe(first, last, within, at, today)
    return Preference(first, last, within, near, described)


def _describe(first: date, last: date, within, at: time | None, today: date) -> str:
    """The preference in words, for the read-back ("Tuesday 24 November, in the afternoon")."""
    if first == last:
        day = "today" if first == today else f"{first:%A} {first.day} {first:%B}"
    else:
        day = f"{first:%A} {first.day} {first:%B} to {last:%A} {last.day} {last:%B}"
    if at is not None:
        return f"{day}, around {clock(at)}"
    if within:
        part = next(name for name, span in PARTS_OF_DAY.items() if span == within)
        return f"{day}, in the {part}"
    return day


def weekday_name(index: int) -> str:
    """Monday, Tuesday, ... from 0 to 6."""
    return WEEKDAYS[index].title()
