"""Handoff records: when the patient hears back, no duplicates, staff listing and resolving."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from clinic.handoff import list_handoffs, request_handoff, resolve_handoff
from clinic.references import ALPHABET
from tests.conftest import local


def test_open_clinic_promises_a_reply_within_the_clinic_minutes(clinic, database_url):
    now = local(clinic, "2026-11-23 10:00")
    receipt = request_handoff(database_url, clinic, "patient-1", "telegram", "patient_request", now)
    assert receipt.clinic_open and not receipt.already_waiting
    assert receipt.reply_by == now + timedelta(minutes=clinic.handoff.reply_within_minutes)
    assert re.fullmatch(rf"H-[{ALPHABET}]{{6}}", receipt.reference)
    [record] = list_handoffs(database_url)
    assert (record.reference, record.conversation_id, record.channel, record.reason) == (
        receipt.reference,
        "patient-1",
        "telegram",
        "patient_request",
    )
    assert record.created_at == now and record.status == "open"


def test_reply_is_never_promised_after_closing(clinic, database_url):
    now = local(clinic, "2026-11-23 17:50")
    receipt = request_handoff(database_url, clinic, "patient-2", "rest", "patient_request", now)
    assert receipt.reply_by == local(clinic, "2026-11-23 18:00")


def test_closed_clinic_replies_at_the_next_opening(clinic, database_url):
    now = local(clinic, "2026-11-28 16:00")  # Saturday afternoon
    receipt = request_handoff(database_url, clinic, "patient-3", "whatsapp", "patient_request", now)
    assert not receipt.clinic_open
    assert receipt.reply_by == local(clinic, "2026-11-30 09:00")


def test_asking_twice_does_not_queue_twice(clinic, database_url):
    now = local(clinic, "2026-11-23 10:00")
    first = request_handoff(database_url, clinic, "patient-4", "rest", "patient_request", now)
    again = request_handoff(
        database_url, clinic, "patient-4", "rest", "patient_request", now + timedelta(minutes=2)
    )
    assert again.already_waiting and again.reference == first.reference
    assert len(list_handoffs(database_url)) == 1


def test_staff_resolve_a_handoff_and_a_new_request_opens_another(clinic, database_url):
    now = local(clinic, "2026-11-23 10:00")
    first = request_handoff(database_url, clinic, "patient-5", "rest", "patient_request", now)
    assert resolve_handoff(database_url, first.reference.lower(), now)
    assert not resolve_handoff(database_url, first.reference, now)  # already resolved
    assert list_handoffs(database_url) == []
    second = request_handoff(database_url, clinic, "patient-5", "rest", "patient_request", now)
    assert second.reference != first.reference and not second.already_waiting
    assert len(list_handoffs(database_url, status=None)) == 2


def test_unknown_reason_is_refused(clinic, database_url):
    with pytest.raises(ValueError, match="unknown handoff reason"):
        request_handoff(
            database_url, clinic, "p", "rest", "bored", local(clinic, "2026-11-23 10:00")
        )
    assert list_handoffs(database_url, status=None) == []
