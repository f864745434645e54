"""Which appointment times the clinic can offer: opening hours, closures, notice, the clock
changes, and who is already booked."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, datetime, time, timedelta, timezone

from clinic.booking.model import Slot, SlotId, SlotUnavailable
from clinic.facts import clock
from clinic.profile import WEEKDAYS, ClinicProfile

Taken = set[tuple[str, datetime]]  # (practitioner id, UTC block start)


def _exists(local: datetime) -> bool:
    """Whether a local wall-clock time exists (not in the gap when the clocks go forward)."""
    round_trip = local.astimezone(timezone.utc).astimezone(local.tzinfo)
    return round_trip.replace(tzinfo=None) == local.replace(tzinfo=None)


def starts_on(profile: ClinicProfile, day: date, consultation_type: str) -> Iterator[datetime]:
    """Appointment start times on a local day, in order: on the clinic's step, inside an opening
    period with room for the whole appointment, skipping times the clocks jump over."""
    minutes = profile.consultation_type(consultation_type).minutes
    step = timedelta(minutes=profile.booking.slot_step_minutes)
    for opens, closes in profile.opening_intervals(day):
        local = opens
        while True:
            if _exists(local):
                start = local.astimezone(timezone.utc)
                if start + timedelta(minutes=minutes) > closes.astimezone(timezone.utc):
                    break
                yield start
            local = (datetime.combine(day, local.time()) + step).replace(tzinfo=profile.tz)
            if local.date() != day:
                break


def earliest_bookable(profile: ClinicProfile, now: datetime) -> datetime:
    """The earliest start a patient can book now (the clinic's minimum notice)."""
    return now.astimezone(timezone.utc) + timedelta(minutes=profile.booking.minimum_notice_minutes)


def slot_for(profile: ClinicProfile, slot_id: str, now: datetime) -> Slot:
    """The slot an id names, if the clinic could offer it now (ignoring who has booked it);
    SlotUnavailable with the reason otherwise."""
    parsed = SlotId.parse(slot_id)
    try:
        consultation = profile.consultation_type(parsed.consultation_type)
        practitioner = profile.practitioner(parsed.practitioner_id)
    except KeyError as error:
        raise SlotUnavailable(
            f"unknown consultation type or practitioner in {slot_id!r}"
        ) from error
    if not practitioner.sees_type(consultation.id):
        raise SlotUnavailable(f"{practitioner.name} does not see {consultation.name} appointments")
    slot = Slot(
        consultation.id,
        practitioner.id,
        parsed.start,
        parsed.start + timedelta(minutes=consultation.minutes),
    )
    problem = why_not_bookable(profile, slot, now)
    if problem:
        raise SlotUnavailable(problem)
    return slot


def why_not_bookable(profile: ClinicProfile, slot: Slot, now: datetime) -> str | None:
    """Why the clinic could not offer this slot now, in words for the patient; None if it can."""
    local = slot.start.astimezone(profile.tz)
    if slot.start <= now:
        return "that time is in the past"
    if slot.start < earliest_bookable(profile, now):
        hours = profile.booking.minimum_notice_minutes / 60
        return f"we need at least {hours:g} hours' notice to book"
    if slot.start > now + timedelta(days=profile.booking.horizon_days):
        return f"we only book up to {profile.booking.horizon_days} days ahead"
    closure = profile.closure_on(local.date())
    if closure:
        return f"the clinic is closed on {local:%A} {local.day} {local:%B} ({closure.reason})"
    if slot.start not in set(starts_on(profile, local.date(), slot.consultation_type)):
        return outside_hours_reason(profile, local)
    return None


def outside_hours_reason(profile: ClinicProfile, local: datetime) -> str:
    """Why a local time is not an appointment time: the day's hours in words."""
    day = WEEKDAYS[local.weekday()]
    intervals = profile.opening_hours[day]
    if not intervals:
        return f"the clinic is closed on {day.title()}s"
    hours = ", ".join(f"{clock(i.start)} to {clock(i.end)}" for i in intervals)
    return f"that is outside our hours on {day.title()}s ({hours})"


def free_slots(
    profile: ClinicProfile,
    taken: Taken,
    consultation_type: str,
    window_start: datetime,
    window_end: datetime,
    now: datetime,
    limit: int = 3,
    within: tuple[time, time] | None = None,
    near: datetime | None = None,
) -> list[Slot]:
    """Up to `limit` free slots between two times: one per start time, with the first free
    practitioner (in the clinic file's order); only local times of day `within`, if given;
    nearest to `near` first if given, else earliest first."""
    minutes = profile.consultation_type(consultation_type).minutes
    practitioners = [p for p in profile.practitioners if p.sees_type(consultation_type)]
    earliest = max(window_start.astimezone(timezone.utc), earliest_bookable(profile, now))
    latest = min(
        window_end.astimezone(timezone.utc), now + timedelta(days=profile.booking.horizon_days)
    )
    found: list[Slot] = []
    for day in _days(earliest.astimezone(profile.tz).date(), latest.astimezone(profile.tz).date()):
        for start in starts_on(profile, day, consultation_type):
            if not earliest <= start <= latest:
                continue
            local_time = start.astimezone(profile.tz).time()
            if within and not within[0] <= local_time < within[1]:
                continue
            end = start + timedelta(minutes=minutes)
            for practitioner in practitioners:
                slot = Slot(consultation_type, practitioner.id, start, end)
                if not any((practitioner.id, block) in taken for block in slot.blocks()):
                    found.append(slot)
                    break
        if near is None and len(found) >= limit:
            break
    if near is not None:
        found.sort(key=lambda slot: abs(slot.start - near))
    return found[:limit]


def _days(first: date, last: date) -> Iterable[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)
