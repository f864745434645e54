"""The clinic file: validation with clear errors, and opening times around every edge."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from clinic.profile import ClinicFileError, load_clinic
from tests.conftest import ROOT, local


def write_clinic(tmp_path: Path, **changes) -> Path:
    data = yaml.safe_load((ROOT / "clinic.yml").read_text())
    data.update(changes)
    path = tmp_path / "clinic.yml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_shipped_clinic_file_loads(clinic):
    assert clinic.name == "Lumen Skin Clinic"
    assert clinic.tz.key == "Europe/London"
    assert [c.id for c in clinic.consultation_types] == ["consultation", "treatment", "review"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"time_zone": "Europe/Atlantis"}, "time_zone: unknown time zone"),
        ({"opening_hours": {"monday": ["18:00-09:00"]}}, "ends before it starts"),
        ({"opening_hours": {"monday": ["09:00-13:00", "12:00-18:00"]}}, "overlap"),
        ({"opening_hours": {"funday": ["09:00-10:00"]}}, "unknown weekday"),
        ({"opening_hours": {"monday": ["nine to five"]}}, "not an interval"),
        ({"phones": {"front_desk": "+44 117 496 0123"}}, "phones.after_hours: field required"),
        (
            {"prices": {"currency": "GBP", "items": [{"name": "x"}]}},
            "exactly one of `price` or `from`",
        ),
        ({"colour": "#ffffff"}, "colour: extra fields not permitted"),
    ],
)
def test_invalid_clinic_file_names_the_problem(tmp_path, changes, message):
    with pytest.raises(ClinicFileError, match=message):
        load_clinic(write_clinic(tmp_path, **changes))


def test_missing_and_malformed_files_are_clear(tmp_path):
    with pytest.raises(ClinicFileError, match="not found"):
        load_clinic(tmp_path / "nope.yml")
    broken = tmp_path / "broken.yml"
    broken.write_text("name: [unclosed")
    with pytest.raises(ClinicFileError, match="not valid YAML"):
        load_clinic(broken)


@pytest.mark.parametrize(
    ("moment", "is_open"),
    [
        ("2026-11-23 08:59", False),  # Monday, a minute before opening
        ("2026-11-23 09:00", True),  # opening is inclusive
        ("2026-11-23 17:59", True),
        ("2026-11-23 18:00", False),  # closing is exclusive
        ("2026-11-25 13:30", False),  # Wednesday lunch break
        ("2026-11-25 19:30", True),  # Wednesday late opening
        ("2026-11-28 13:00", True),  # Saturday morning
        ("2026-11-29 11:00", False),  # Sunday
        ("2026-12-25 11:00", False),  # Christmas Day is a Friday but a closure
    ],
)
def test_is_open(clinic, moment, is_open):
    assert clinic.is_open(local(clinic, moment)) is is_open


def test_next_opening_skips_sunday_and_closures(clinic):
    assert clinic.next_opening(local(clinic, "2026-11-28 15:00")) == local(
        clinic, "2026-11-30 09:00"
    )
    # Thursday 24 Dec 2026 after hours: Friday 25 and Saturday 26 are closures, Sunday closed.
    assert clinic.next_opening(local(clinic, "2026-12-24 19:00")) == local(
        clinic, "2026-12-28 09:00"
    )
    assert clinic.next_opening(local(clinic, "2026-11-25 13:15")) == local(
        clinic, "2026-11-25 14:00"
    )


def test_times_are_compared_in_the_clinic_time_zone(clinic):
    from datetime import datetime, timezone

    # 08:30 UTC in summer is 09:30 in London (BST): open.
    assert clinic.is_open(datetime(2027, 6, 7, 8, 30, tzinfo=timezone.utc))
    # 08:30 UTC in winter is 08:30 in London (GMT): closed.
    assert not clinic.is_open(datetime(2026, 12, 7, 8, 30, tzinfo=timezone.utc))


def test_next_opening_across_the_clocks_going_forward(clinic):
    # Clocks go forward on Sunday 28 March 2027: Monday opens at 09:00 BST (08:00 UTC).
    opening = clinic.next_opening(local(clinic, "2027-03-27 15:00"))
    assert opening == local(clinic, "2027-03-29 09:00")
    assert opening.utcoffset().total_seconds() == 3600
