"""The clinic's facts as readable text: hours, address, prices, team, contacts.

The sentences around these facts are responses in the Rasa domain (reviewed content); this module
only turns the clinic file's data into the values those responses show.
"""

from __future__ import annotations

from datetime import datetime, time
from decimal import Decimal

from clinic.profile import WEEKDAYS, ClinicProfile

CURRENCY_SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$", "AUD": "A$", "CAD": "C$", "NZD": "NZ$"}


def clock(value: time) -> str:
    """A time as people say it: 9am, 1:30pm, 12pm."""
    hour = value.hour % 12 or 12
    suffix = "am" if value.hour < 12 else "pm"
    return f"{hour}{suffix}" if value.minute == 0 else f"{hour}:{value.minute:02d}{suffix}"


def _day_hours(profile: ClinicProfile, day: str) -> str:
    intervals = profile.opening_hours[day]
    if not intervals:
        return "closed"
    return ", ".join(f"{clock(i.start)} to {clock(i.end)}" for i in intervals)


def opening_hours_text(profile: ClinicProfile) -> str:
    """The weekly opening hours, one line per run of days with the same hours."""
    lines: list[str] = []
    run_start = 0
    for index in range(1, len(WEEKDAYS) + 1):
        same = index < len(WEEKDAYS) and _day_hours(profile, WEEKDAYS[index]) == _day_hours(
            profile, WEEKDAYS[run_start]
        )
        if same:
            continue
        first, last = WEEKDAYS[run_start].title(), WEEKDAYS[index - 1].title()
        days = first if run_start == index - 1 else f"{first} to {last}"
        lines.append(f"• {days}: {_day_hours(profile, WEEKDAYS[run_start])}")
        run_start = index
    return "\n".join(lines)


def when_text(
    profile: ClinicProfile, moment: datetime, now: datetime, always_date: bool = False
) -> str:
    """A moment in the clinic's time zone: 'today at 2pm', 'Monday at 9am', or with
    `always_date` (for appointments) 'Tuesday 24 November at 2pm'."""
    local, today = moment.astimezone(profile.tz), now.astimezone(profile.tz).date()
    if always_date:
        return f"{local:%A} {local.day} {local:%B} at {clock(local.time())}"
    days_ahead = (local.date() - today).days
    if days_ahead == 0:
        return f"today at {clock(local.time())}"
    if days_ahead == 1:
        return f"tomorrow at {clock(local.time())}"
    if days_ahead < 7:
        return f"{local.strftime('%A')} at {clock(local.time())}"
    return f"{local.strftime('%A')} {local.day} {local.strftime('%B')} at {clock(local.time())}"


def open_now_text(profile: ClinicProfile, now: datetime) -> str:
    """Whether the clinic is open right now, and until when or from when."""
    closes = profile.closes_at(now)
    if closes is not None:
        return f"We're open now, until {clock(closes.astimezone(profile.tz).time())}."
    local = now.astimezone(profile.tz)
    closure = profile.closure_on(local.date())
    reason = f" ({closure.reason})" if closure else ""
    opens = profile.next_opening(now)
    if opens is None:
        return f"We're closed right now{reason}."
    return f"We're closed right now{reason}; we open {when_text(profile, opens, now)}."


def upcoming_closures_text(profile: ClinicProfile, now: datetime, days: int = 45) -> str:
    """Holiday closures in the coming weeks, or an empty string."""
    today = now.astimezone(profile.tz).date()
    soon = [c for c in profile.closures if 0 <= (c.date - today).days <= days]
    if not soon:
        return ""
    listed = ", ".join(
        f"{c.date.strftime('%A')} {c.date.day} {c.date:%B} ({c.reason})" for c in soon
    )
    return f"Closed on {listed}."


def address_text(profile: ClinicProfile) -> str:
    """The postal address on one line."""
    return ", ".join(profile.address.lines)


def money(profile: ClinicProfile, amount: Decimal) -> str:
    """An amount in the clinic's currency: £220, £12.50, or 'free' for zero."""
    if amount == 0:
        return "free"
    symbol = CURRENCY_SYMBOLS.get(profile.prices.currency)
    number = f"{amount:,.0f}" if amount == amount.to_integral_value() else f"{amount:,.2f}"
    return f"{symbol}{number}" if symbol else f"{number} {profile.prices.currency}"


def price_list_text(profile: ClinicProfile) -> str:
    """The published price list, one line per item."""
    lines = []
    for item in profile.prices.items:
        amount = (
            money(profile, item.price)
            if item.price is not None
            else f"from {money(profile, item.from_price)}"
        )
        note = f" ({item.note})" if item.note else ""
        lines.append(f"• {item.name}: {amount}{note}")
    if profile.prices.note:
        lines.append(profile.prices.note)
    return "\n".join(lines) if lines else "Our prices are given at your consultation."


def price_summary_spoken(profile: ClinicProfile) -> str:
    """Two prices to say on the phone: the first item and the lowest treatment price."""
    items = profile.prices.items
    if not items:
        return "Our prices are given at your consultation."

    def amount(item) -> str:
        return (
            money(profile, item.price)
            if item.price is not None
            else f"from {money(profile, item.from_price)}"
        )

    first = f"{items[0].name} is {amount(items[0])}."
    paid = [i for i in items[1:] if (i.price or i.from_price or 0) > 0]
    if not paid:
        return first
    cheapest = min(paid, key=lambda i: i.price if i.price is not None else i.from_price)
    return f"{first} {cheapest.name} is {amount(cheapest)}."


def practitioners_text(profile: ClinicProfile) -> str:
    """The clinical team, one line each."""
    if not profile.practitioners:
        return "Our qualified practitioners."
    return "\n".join(f"• {p.name}, {p.role}" for p in profile.practitioners)


def consultation_types_text(profile: ClinicProfile) -> str:
    """What can be booked and how long each takes."""
    return "\n".join(
        f"• {c.name} ({c.minutes} minutes): {c.description}".rstrip(": ")
        for c in profile.consultation_types
    )
