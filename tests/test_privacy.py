"""Patients' data in the clinic core and Rasa's tracker store, on SQLite and PostgreSQL: what is
kept about a patient, erasing it (the audit entry is all that is left), retention, staff tokens."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from clinic.booking.model import BookingRequest
from clinic.booking.service import booking_service
from clinic.handoff import request_handoff
from clinic.privacy import (
    audit_entries,
    erase_patient,
    patient_records,
    purge,
    write_audit,
)
from clinic.screening.assess import assess
from clinic.screening.records import record_consent, save_screening
from clinic.screening.rules import default_rules
from clinic.staff import StaffError, authenticate, issue_token, revoke_token, staff_members
from clinic.store import (
    AuditEntry,
    BookingRecord,
    Consent,
    Handoff,
    PendingOptions,
    ScreeningRecord,
    SlotClaim,
    StaffMember,
    database_session,
    engine_for,
)
from clinic_channel.tracker_store import ResilientSQLTrackerStore
from tests.conftest import ROOT, local

DOMAIN = Domain.load(str(ROOT / "domain"))
PHONE = "+447400123456"
OTHER_PHONE = "+447700900777"
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def tracker_store(any_database_url, tmp_path, postgres_server):
    """Rasa's tracker store (the clinic's resilient SQL one) beside the clinic database: a
    SQLite file next to a SQLite clinic database, a PostgreSQL database next to a PostgreSQL one."""
    if make_url(any_database_url).get_backend_name() == "sqlite":
        path = tmp_path / "tracker.db"
        store = ResilientSQLTrackerStore(DOMAIN, dialect="sqlite", db=str(path))
        return store, f"sqlite:///{path}"
    import uuid

    url = make_url(postgres_server.create_database(f"tracker_{uuid.uuid4().hex[:10]}"))
    store = ResilientSQLTrackerStore(
        DOMAIN,
        dialect="postgresql",
        host=url.host,
        port=url.port,
        db=url.database,
        username=url.username,
    )
    return store, url.render_as_string(hide_password=False)


def conversation(sender: str, *texts: str, at: datetime = NOW) -> DialogueStateTracker:
    """A conversation with these patient messages, each answered, at the given time."""
    tracker = DialogueStateTracker(sender, DOMAIN.slots)
    stamp = at.timestamp()
    for number, message in enumerate(texts):
        tracker.update(ActionExecuted("action_listen", timestamp=stamp + number))
        tracker.update(UserUttered(message, {"name": "inform"}, timestamp=stamp + number))
        tracker.update(BotUttered("Thanks.", timestamp=stamp + number))
    return tracker


def save(store, tracker) -> None:
    asyncio.run(store.save(tracker))


def event_senders(tracker_url: str) -> dict[str, int]:
    with engine_for(tracker_url).connect() as connection:
        rows = connection.execute(
            text("SELECT sender_id, COUNT(*) FROM events GROUP BY sender_id")
        ).all()
    return dict(rows)


def book(
    database_url,
    clinic,
    phone,
    conversation_id,
    name="Maria Lopez",
    day="2026-11-24 10:00",
    now=NOW,
    concern="acne scars on my cheeks",
):
    """The first free consultation from that time on."""
    service = booking_service(database_url, clinic)
    start = local(clinic, day)
    slot = service.free_slots("consultation", start, start + timedelta(days=1), now, limit=1)[0]
    return service.book(
        BookingRequest(slot.id, name, phone, concern, "telegram", conversation_id), now
    )


def screen(database_url, conversation_id, at=NOW):
    record_consent(database_url, conversation_id, "telegram", True, 1, at)
    rules = default_rules()
    answers = {rule.id: False for rule in rules.rules}
    return save_screening(
        database_url,
        conversation_id,
        "telegram",
        rules.version,
        answers,
        assess(rules, answers),
        at,
    )


def a_patient(database_url, clinic, store, tracker_url):
    """A patient with two conversations (Telegram, then WhatsApp), a booking from each, a
    screening, consent, a handoff and buttons pending; and another patient who must be kept."""
    save(store, conversation("telegram:501", "I'm 14 weeks pregnant", "book me in"))
    save(store, conversation("whatsapp:+447400123456", "can I move my appointment"))
    save(store, conversation("telegram:999", "what does it cost"))
    first = book(database_url, clinic, PHONE, "telegram:501")
    book(database_url, clinic, PHONE, "whatsapp:+447400123456", day="2026-11-25 10:00")
    kept = book(database_url, clinic, OTHER_PHONE, "telegram:999", name="Other Person")
    screen(database_url, "telegram:501")
    screen(database_url, "telegram:999")
    request_handoff(database_url, clinic, "telegram:501", "telegram", "urgent", NOW, detail="x")
    with database_session(database_url) as session:
        session.add(PendingOptions(conversation_id="telegram:501", payloads="[]", updated_at=NOW))
    write_audit(database_url, "staff:Jo", "read", "telegram:501", NOW)
    write_audit(database_url, "staff:Jo", "read", first.reference, NOW)
    return first, kept


def counts(database_url) -> dict[str, int]:
    with database_session(database_url) as session:
        return {
            model.__tablename__: session.execute(select(func.count()).select_from(model)).scalar()
            for model in (
                BookingRecord,
                SlotClaim,
                ScreeningRecord,
                Consent,
                Handoff,
                PendingOptions,
            )
        }


def test_what_is_kept_covers_every_conversation_of_the_phone(
    any_database_url, clinic, tracker_store
):
    store, tracker_url = tracker_store
    first, _kept = a_patient(any_database_url, clinic, store, tracker_url)
    records = patient_records(any_database_url, tracker_url, ["telegram:501"], PHONE)
    assert records.conversation_ids == ["telegram:501", "whatsapp:+447400123456"]
    assert records.counts() == {
        "conversations": 2,
        "consents": 1,
        "screenings": 1,
        "bookings": 2,
        "handoffs": 1,
    }
    assert {c.conversation_id: c.events for c in records.conversations} == {
        "telegram:501": 6,
        "whatsapp:+447400123456": 3,
    }
    # Without the phone, only what this conversation itself holds.
    alone = patient_records(any_database_url, tracker_url, ["telegram:501"])
    assert [b.reference for b in alone.bookings] == [first.reference]


def test_erasing_leaves_nothing_of_the_patient_but_the_audit_entry(
    any_database_url, clinic, tracker_store
):
    store, tracker_url = tracker_store
    first, kept = a_patient(any_database_url, clinic, store, tracker_url)
    before = counts(any_database_url)
    erasure = erase_patient(any_database_url, tracker_url, "staff:Jo", NOW, ["telegram:501"], PHONE)
    assert erasure.counts == {
        "bookings": 2,
        "screenings": 1,
        "consents": 1,
        "handoffs": 1,
        "conversation_events": 9,
    }
    after = counts(any_database_url)
    assert after["bookings"] == before["bookings"] - 2 == 1
    assert after["slot_claims"] == 2  # the other patient's 30-minute consultation
    assert after["screenings"] == 1 and after["consents"] == 1 and after["handoffs"] == 0
    assert after["pending_options"] == 0
    assert event_senders(tracker_url) == {"telegram:999": 3}
    with database_session(any_database_url) as session:
        remaining = session.execute(select(BookingRecord)).scalars().all()
        assert [b.reference for b in remaining] == [kept.reference]
        entries = session.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars().all()
    # The earlier reads are re-labelled: nothing in the log names the patient any more.
    assert [(e.action, e.subject) for e in entries] == [
        ("read", f"erased:{erasure.reference}"),
        ("read", f"erased:{erasure.reference}"),
        ("erase", erasure.reference),
    ]
    assert json.loads(entries[-1].detail)["bookings"] == 2
    everything = json.dumps([(e.actor, e.subject, e.detail) for e in entries])
    for identifier in ("telegram:501", "+447400123456", "7400123456", first.reference, "Maria"):
        assert identifier not in everything
    # The freed time can be booked again.
    again = book(any_database_url, clinic, OTHER_PHONE, "telegram:1000")
    assert again.slot.start == first.slot.start


def test_the_tracker_store_deletes_the_conversation_that_asked_instead_of_saving_it(
    any_database_url, tracker_store
):
    store, tracker_url = tracker_store
    tracker = conversation("telegram:501", "my name is Maria", "delete my data")
    save(store, tracker)
    save(store, conversation("whatsapp:+447400123456", "hello"))
    save(store, conversation("telegram:999", "hello"))
    tracker.update(
        SlotSet(
            "data_erased", {"reference": "D-TEST01", "conversations": ["whatsapp:+447400123456"]}
        )
    )
    tracker.update(BotUttered("Done: I've deleted this conversation."))
    save(store, tracker)
    assert event_senders(tracker_url) == {"telegram:999": 3}
    assert asyncio.run(store.retrieve("telegram:501")) is None
    # The next message starts a new conversation, which is saved as usual.
    save(store, conversation("telegram:501", "hello again"))
    assert event_senders(tracker_url)["telegram:501"] == 3
    # An erasure in an earlier turn does not erase the turns after it.
    later = conversation("telegram:501", "hello again", "and again")
    later.events.insert(2, SlotSet("data_erased", {"reference": "D-OLD"}))
    save(store, later)
    assert event_senders(tracker_url)["telegram:501"] == 7


def test_retention_removes_old_records_and_trims_old_bookings(
    any_database_url, clinic, tracker_store
):
    store, tracker_url = tracker_store
    long_ago = NOW - timedelta(days=400)
    save(store, conversation("telegram:old", "I take isotretinoin", at=long_ago))
    save(store, conversation("telegram:new", "hello"))
    screen(any_database_url, "telegram:old", at=long_ago)
    screen(any_database_url, "telegram:new")
    request_handoff(any_database_url, clinic, "telegram:old", "telegram", "urgent", long_ago)
    old = book(
        any_database_url,
        clinic,
        PHONE,
        "telegram:old",
        name="Old Patient",
        day="2025-10-21 10:00",
        now=long_ago,
        concern="rosacea",
    )
    new = book(any_database_url, clinic, OTHER_PHONE, "telegram:new")

    dry = purge(any_database_url, tracker_url, 365, NOW, dry_run=True)
    assert dry.counts["conversations"] == 1 and dry.counts["screenings"] == 1
    assert event_senders(tracker_url).keys() == {"telegram:old", "telegram:new"}

    done = purge(any_database_url, tracker_url, 365, NOW)
    assert done.counts == {**dry.counts}
    assert done.counts["consents"] == 1 and done.counts["handoffs"] == 1
    assert done.counts["bookings_trimmed"] == 1
    assert event_senders(tracker_url).keys() == {"telegram:new"}
    with database_session(any_database_url) as session:
        screenings = session.execute(select(ScreeningRecord.conversation_id)).scalars().all()
        consents = session.execute(select(Consent.conversation_id)).scalars().all()
        bookings = {b.reference: b for b in session.execute(select(BookingRecord)).scalars()}
        handoffs = session.execute(select(func.count(Handoff.id))).scalar()
    assert screenings == ["telegram:new"] and consents == ["telegram:new"] and handoffs == 0
    trimmed = bookings[old.reference]
    assert (trimmed.concern, trimmed.conversation_id, trimmed.screening_reference) == (None,) * 3
    assert (trimmed.patient_name, trimmed.phone, trimmed.status) == (
        "Old Patient",
        PHONE,
        "confirmed",
    )
    assert bookings[new.reference].concern == "acne scars on my cheeks"
    assert audit_entries(any_database_url)[0].action == "purge"
    # A second run the same day finds nothing more.
    assert not any(purge(any_database_url, tracker_url, 365, NOW).counts.values())


def test_staff_tokens_are_hashed_checked_and_revocable(any_database_url):
    token = issue_token(any_database_url, "Jo Reilly", NOW)
    assert token.startswith("stf_") and len(token) > 40
    with database_session(any_database_url) as session:
        stored = session.execute(select(StaffMember)).scalar_one()
    assert token not in (stored.token_hash, stored.name) and len(stored.token_hash) == 64
    assert authenticate(any_database_url, token, NOW).name == "Jo Reilly"
    assert authenticate(any_database_url, token + "x", NOW) is None
    assert authenticate(any_database_url, "stf_" + "A" * 43, NOW) is None
    assert authenticate(any_database_url, "", NOW) is None
    with pytest.raises(StaffError):
        issue_token(any_database_url, "Jo  Reilly", NOW)
    revoke_token(any_database_url, "Jo Reilly", NOW)
    assert authenticate(any_database_url, token, NOW) is None
    with pytest.raises(StaffError):
        revoke_token(any_database_url, "Nobody", NOW)
    assert [m.revoked_at is not None for m in staff_members(any_database_url)] == [True]
    assert [(e.action, e.subject) for e in reversed(audit_entries(any_database_url))] == [
        ("token-issued", "staff:Jo Reilly"),
        ("token-revoked", "staff:Jo Reilly"),
    ]


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "clinic", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )


def test_the_command_line_purges_and_manages_staff_tokens(database_url, tmp_path, clinic):
    tracker_url = f"sqlite:///{tmp_path / 'tracker.db'}"
    store = ResilientSQLTrackerStore(DOMAIN, dialect="sqlite", db=str(tmp_path / "tracker.db"))
    save(
        store,
        conversation(
            "telegram:old", "I'm pregnant", at=datetime.now(timezone.utc) - timedelta(days=30)
        ),
    )
    save(store, conversation("telegram:new", "hello", at=datetime.now(timezone.utc)))
    env = {"DATABASE_URL": database_url, "TRACKER_DATABASE_URL": tracker_url}

    dry = run_cli("purge", "--days", "7", "--dry-run", env=env)
    assert dry.returncode == 0 and "would remove 1 conversations" in dry.stdout
    assert event_senders(tracker_url).keys() == {"telegram:old", "telegram:new"}
    done = run_cli("purge", "--days", "7", env=env)
    assert done.returncode == 0 and "removed 1 conversations" in done.stdout
    assert event_senders(tracker_url).keys() == {"telegram:new"}
    # clinic.yml's period (365 days) keeps the rest.
    assert "removed 0 conversations" in run_cli("purge", env=env).stdout
    assert run_cli("purge", "--days", "0", env=env).returncode == 2

    issued = run_cli("staff", "add", "Jo Reilly", env=env)
    token = issued.stdout.strip().splitlines()[-1]
    assert issued.returncode == 0 and token.startswith("stf_")
    assert authenticate(database_url, token, NOW).name == "Jo Reilly"
    assert run_cli("staff", "add", "Jo Reilly", env=env).returncode == 1
    assert "Jo Reilly" in run_cli("staff", "list", env=env).stdout
    assert run_cli("staff", "revoke", "Jo Reilly", env=env).returncode == 0
    assert authenticate(database_url, token, NOW) is None
    assert "revoked" in run_cli("staff", "list", env=env).stdout
    log = run_cli("audit", env=env).stdout
    assert "token-issued" in log and "token-revoked" in log and "purge" in log
    assert token not in log
