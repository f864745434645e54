"""Patients' phone numbers: normalised to E.164 in the clinic's region, read back clearly."""

from __future__ import annotations

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat


class InvalidPhone(ValueError):
    """Not a phone number the clinic can call; the message says why, for the patient."""


def normalise_phone(text: str, default_region: str) -> str:
    """A phone number in E.164 (+447700900456), read in the clinic's region when it has no +."""
    candidate = (text or "").strip()
    if not any(ch.isdigit() for ch in candidate):
        raise InvalidPhone("that doesn't contain a phone number")
    if candidate.startswith("00"):
        candidate = "+" + candidate[2:]
    try:
        number = phonenumbers.parse(candidate, default_region)
    except NumberParseException as error:
        raise InvalidPhone("that doesn't look like a phone number") from error
    if not phonenumbers.is_possible_number(number):
        raise InvalidPhone("that number has too few or too many digits")
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone("that isn't a valid phone number")
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def phone_for_reading(e164: str) -> str:
    """The number in international format for a read-back: +44 7700 900456."""
    return phonenumbers.format_number(phonenumbers.parse(e164), PhoneNumberFormat.INTERNATIONAL)


def phone_for_speaking(e164: str) -> str:
    """The number digit by digit in groups, for the phone line: "0 7 7 0 0, 9 0 0, 4 5 6"."""
    national = phonenumbers.format_number(phonenumbers.parse(e164), PhoneNumberFormat.NATIONAL)
    groups = national.replace("(", "").replace(")", "").replace("-", " ").split()
    return ", ".join(" ".join(group) for group in groups)


def last_digits(e164: str, count: int = 4) -> str:
    """The last digits, to confirm a number without reading it all out."""
    return e164[-count:]
