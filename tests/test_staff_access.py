"""The staff API through the real gateway over HTTP, on SQLite and PostgreSQL: a token per member
of staff (missing, wrong, revoked), every read of patients' records in the audit log, and a
patient's records shown and erased."""

from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import quote

import httpx

from clinic.handoff import request_handoff
from clinic.privacy import audit_entries
from clinic.staff import issue_token, revoke_token
from clinic_channel.tracker_store import ResilientSQLTrackerStore
from tests.test_gateway_api import PHONE, book, first_slot, gateway  # noqa: F401 (fixture)
from tests.test_privacy import DOMAIN, conversation, event_senders, save

E164 = "+447400123456"


def staff_get(stack, path, token=None, **params) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token or stack['token']}"}
    return httpx.get(f"{stack['url']}/api/staff{path}", headers=headers, params=params)


def test_every_staff_route_needs_a_valid_unrevoked_token_of_its_own(gateway):  # noqa: F811
    url = f"{gateway['url']}/api/staff/consultations"
    assert httpx.get(url).status_code == 401
    assert httpx.get(url, headers={"Authorization": "Bearer"}).status_code == 401
    assert httpx.get(url, headers={"Authorization": "Basic abc"}).status_code == 401
    wrong = httpx.get(url, headers={"Authorization": "Bearer stf_not-a-token"})
    assert wrong.status_code == 401 and wrong.headers["www-authenticate"] == "Bearer"
    now = datetime.now(timezone.utc)
    second = issue_token(gateway["database_url"], "Amira Hassan", now)
    assert staff_get(gateway, "/consultations", second).status_code == 200
    revoke_token(gateway["database_url"], "Amira Hassan", now)
    for path in ("/consultations", "/handoffs", "/screenings", "/audit", "/patients"):
        assert staff_get(gateway, path, second, phone=PHONE).status_code == 401, path
    # The other member of staff is not affected.
    assert staff_get(gateway, "/consultations").status_code == 200


def test_every_read_of_patients_records_is_in_the_audit_log(gateway, clinic):  # noqa: F811
    reference = book(gateway, first_slot(gateway)["id"]).json()["reference"]
    request_handoff(
        gateway["database_url"],
        clinic,
        "telegram:77",
        "telegram",
        "patient_request",
        datetime.now(timezone.utc),
    )
    assert staff_get(gateway, "/consultations").status_code == 200
    assert staff_get(gateway, "/handoffs").status_code == 200
    assert staff_get(gateway, "/screenings", conversation_id="telegram:77").status_code == 200
    assert staff_get(gateway, f"/conversations/{quote('telegram:77', safe='')}").status_code == 200
    assert staff_get(gateway, "/patients", phone=PHONE).status_code == 200
    reads = [e for e in reversed(audit_entries(gateway["database_url"])) if e.action == "read"]
    assert {e.actor for e in reads} == {"staff:Test Staff"}
    assert [e.subject for e in reads] == [
        "consultations",
        "handoffs",
        "telegram:77",
        "telegram:77",
        reference,
    ]
    assert reference in reads[0].detail
    # Staff can read the log itself.
    log = staff_get(gateway, "/audit").json()
    assert [e["subject"] for e in log if e["action"] == "read"][-1] == "consultations"


def test_staff_see_and_erase_what_is_kept_about_a_patient(gateway, clinic):  # noqa: F811
    store = ResilientSQLTrackerStore(
        DOMAIN, dialect="sqlite", db=gateway["tracker_database_url"].removeprefix("sqlite:///")
    )
    save(store, conversation("api-chat-1", "I'm pregnant, can I book?"))
    save(store, conversation("telegram:999", "what are your hours"))
    slot = first_slot(gateway)
    body = {"slot_id": slot["id"], "name": "Sam Patel", "phone": PHONE}
    reference = httpx.post(f"{gateway['url']}/api/consultations", json=body).json()["reference"]

    kept = staff_get(gateway, "/patients", phone=PHONE, conversation_id="api-chat-1")
    assert kept.status_code == 200
    assert [c["reference"] for c in kept.json()["consultations"]] == [reference]
    assert [c["conversation_id"] for c in kept.json()["conversations"]] == ["api-chat-1"]
    assert kept.json()["conversations"][0]["events"] == 3

    erase = f"{gateway['url']}/api/staff/patients/erase"
    auth = gateway["auth"]
    assert httpx.post(erase, json={}, headers=auth).status_code == 400
    assert httpx.post(erase, json={"phone": "12"}, headers=auth).status_code == 400
    assert httpx.post(erase, json={"phone": PHONE}).status_code == 401
    done = httpx.post(erase, json={"phone": PHONE, "conversation_id": "api-chat-1"}, headers=auth)
    assert done.status_code == 200
    assert done.json()["counts"]["bookings"] == 1
    assert done.json()["counts"]["conversation_events"] == 3

    assert event_senders(gateway["tracker_database_url"]) == {"telegram:999": 3}
    after = staff_get(gateway, "/patients", phone=PHONE, conversation_id="api-chat-1").json()
    assert after["consultations"] == [] and after["conversations"] == []
    again = httpx.post(erase, json={"phone": PHONE}, headers=auth)
    assert again.status_code == 404
    # The booking is gone for the clinic API too, and its time is free again.
    gone = httpx.get(
        f"{gateway['url']}/api/consultations/{reference}", headers={"X-Patient-Phone": PHONE}
    )
    assert gone.status_code == 404
    assert first_slot(gateway)["id"] == slot["id"]
    entries = audit_entries(gateway["database_url"])
    erased = [e for e in entries if e.action == "erase"]
    assert [(e.actor, e.subject) for e in erased] == [
        ("staff:Test Staff", done.json()["reference"])
    ]
    assert all(E164 not in (e.subject + (e.detail or "")) for e in entries)
