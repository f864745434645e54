"""Phone numbers normalised to E.164 in the clinic's region."""

from __future__ import annotations

import pytest

from clinic.booking.phones import (
    InvalidPhone,
    normalise_phone,
    phone_for_reading,
    phone_for_speaking,
)

# phonenumbers' own example numbers: valid, and not anybody's.
UK_MOBILE = "+447400123456"


@pytest.mark.parametrize(
    "text", ["07400 123456", "+44 7400 123456", "0044 7400 123456", "07400-123-456"]
)
def test_uk_numbers_in_any_format(text):
    assert normalise_phone(text, "GB") == UK_MOBILE


def test_foreign_numbers_keep_their_country():
    assert normalise_phone("+1 201 555 0123", "GB") == "+12015550123"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("hello", "doesn't contain a phone number"),
        ("12345", "isn't a valid"),
        ("0740012345678901", "too"),
    ],
)
def test_impossible_numbers_say_why(text, reason):
    with pytest.raises(InvalidPhone, match=reason):
        normalise_phone(text, "GB")


def test_read_back():
    assert phone_for_reading(UK_MOBILE) == "+44 7400 123456"
    assert phone_for_speaking(UK_MOBILE) == "0 7 4 0 0, 1 2 3 4 5 6"
