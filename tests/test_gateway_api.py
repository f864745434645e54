"""The clinic API and staff API through the real gateway over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import socket
from datetime import datetime, timezone
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from clinic.handoff import request_handoff
from clinic.staff import issue_token
from clinic.store import BookingRecord, SlotClaim, database_session
from stack.processes import ProcessGroup, gateway_server
from tests.conftest import local

PHONE = "07400 123456"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def gateway(any_database_url, tmp_path):
    """The gateway process on a free port, with its own database and a staff member's token."""
    token = issue_token(any_database_url, "Test Staff", datetime.now(timezone.utc))
    port = free_port()
    service = gateway_server(
        port,
        {
            "DATABASE_URL": any_database_url,
            "RASA_URL": f"http://127.0.0.1:{free_port()}",  # nothing there: health says so
            "TRACKER_DATABASE_URL": f"sqlite:///{tmp_path / 'tracker.db'}",
        },
    )
    with Path(tmp_path / "gateway.log").open("w") as log, ProcessGroup([service], log=log):
        yield {
            "url": f"http://127.0.0.1:{port}",
            "database_url": any_database_url,
            "tracker_database_url": f"sqlite:///{tmp_path / 'tracker.db'}",
            "token": token,
            "auth": {"Authorization": f"Bearer {token}"},
        }


def first_slot(gateway, kind="consultation") -> dict:
    response = httpx.get(f"{gateway['url']}/api/slots", params={"type": kind, "limit": 3})
    assert response.status_code == 200
    return response.json()["slots"][0]


def book(gateway, slot_id, **extra) -> httpx.Response:
    body = {"slot_id": slot_id, "name": "Sam Patel", "phone": PHONE, **extra}
    headers = extra.pop("headers", None) if "headers" in extra else None
    return httpx.post(f"{gateway['url']}/api/consultations", json=body, headers=headers)


def test_health_reports_the_database_and_rasa(gateway):
    body = httpx.get(f"{gateway['url']}/health").json()
    assert body == {"status": "ok", "database": "ok", "rasa": "unreachable"}


def test_openapi_declares_every_model(gateway):
    spec = httpx.get(f"{gateway['url']}/openapi.json").json()
    assert {
        "ConsultationIn",
        "ConsultationOut",
        "SlotsOut",
        "MoveIn",
        "PhoneIn",
        "HandoffOut",
        "ScreeningOut",
        "ConversationOut",
        "HealthOut",
        "ErrorOut",
    } <= set(spec["components"]["schemas"])
    assert httpx.get(f"{gateway['url']}/docs").status_code == 200


def test_book_read_move_and_cancel_with_the_phone_as_proof(gateway):
    slot = first_slot(gateway)
    created = book(gateway, slot["id"], concern="acne scars on my cheeks")
    assert created.status_code == 201, created.text
    booking = created.json()
    assert booking["phone"] == "+447400123456" and booking["start"] == slot["start"]
    reference = booking["reference"]

    read = httpx.get(
        f"{gateway['url']}/api/consultations/{reference}", headers={"X-Patient-Phone": PHONE}
    )
    assert read.status_code == 200 and read.json()["label"] == slot["label"]
    wrong = httpx.get(
        f"{gateway['url']}/api/consultations/{reference}",
        headers={"X-Patient-Phone": "07400 123457"},
    )
    assert (
        wrong.status_code == 404
        and wrong.json()["detail"] == "no booking with that reference and phone number"
    )

    later = httpx.get(f"{gateway['url']}/api/slots", params={"limit": 5}).json()["slots"][-1]
    moved = httpx.post(
        f"{gateway['url']}/api/consultations/{reference}/move",
        json={"phone": PHONE, "slot_id": later["id"]},
    )
    assert moved.status_code == 200 and moved.json()["start"] == later["start"]

    cancelled = httpx.post(
        f"{gateway['url']}/api/consultations/{reference}/cancel", json={"phone": PHONE}
    )
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"slot_id": "x", "name": "Sam"}, "phone: field required"),
        (
            {"slot_id": "consultation.ahassan.20261124T1400Z", "name": "Sam", "phone": "hello"},
            "phone: that doesn't contain a phone number",
        ),
        (
            {"slot_id": "nonsense", "name": "Sam Patel", "phone": PHONE},
            "'nonsense' is not a slot id",
        ),
        (
            {"slot_id": "consultation.ahassan.20200101T1000Z", "name": "Sam Patel", "phone": PHONE},
            "that time is in the past",
        ),
        (
            {"slot_id": "x", "name": "12345", "phone": PHONE},
            "name: a name has letters and no digits",
        ),
    ],
)
def test_bad_requests_get_a_clear_400_and_change_nothing(gateway, body, detail):
    response = httpx.post(f"{gateway['url']}/api/consultations", json=body)
    assert response.status_code == 400 and detail in response.json()["detail"]
    with database_session(gateway["database_url"]) as session:
        assert session.execute(select(func.count(BookingRecord.id))).scalar() == 0


def test_malformed_json_is_a_400(gateway):
    response = httpx.post(
        f"{gateway['url']}/api/consultations",
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400


def test_a_retried_request_with_the_same_key_books_once(gateway):
    slot = first_slot(gateway)
    body = {"slot_id": slot["id"], "name": "Sam Patel", "phone": PHONE}
    headers = {"Idempotency-Key": "a1b2c3"}
    first = httpx.post(f"{gateway['url']}/api/consultations", json=body, headers=headers)
    again = httpx.post(f"{gateway['url']}/api/consultations", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json()["reference"] == again.json()["reference"]
    with database_session(gateway["database_url"]) as session:
        assert session.execute(select(func.count(BookingRecord.id))).scalar() == 1


def test_fifty_simultaneous_requests_for_one_slot_book_exactly_once(gateway):
    slot = first_slot(gateway, "treatment")

    async def race() -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=50)
        async with httpx.AsyncClient(base_url=gateway["url"], limits=limits, timeout=60) as client:
            return await asyncio.gather(
                *(
                    client.post(
                        "/api/consultations",
                        json={
                            "slot_id": slot["id"],
                            "name": f"Patient {chr(65 + n % 26)}{chr(65 + n // 26)}",
                            "phone": f"07400 1234{n:02d}",
                        },
                    )
                    for n in range(50)
                )
            )

    responses = asyncio.run(race())
    codes = sorted(r.status_code for r in responses)
    assert 400 not in codes, responses[0].json()
    assert codes == [201] + [409] * 49, codes
    assert {r.json()["detail"] for r in responses if r.status_code == 409} == {
        "someone has just booked that time"
    }
    with database_session(gateway["database_url"]) as session:
        assert session.execute(select(func.count(BookingRecord.id))).scalar() == 1
        assert session.execute(select(func.count(SlotClaim.id))).scalar() == 4  # 60 minutes


def test_the_staff_api_needs_the_token(gateway, clinic):
    slot = first_slot(gateway)
    reference = book(gateway, slot["id"]).json()["reference"]
    url = f"{gateway['url']}/api/staff/consultations"
    assert httpx.get(url).status_code == 401
    assert httpx.get(url, headers={"Authorization": "Bearer wrong"}).status_code == 401
    listed = httpx.get(url, headers=gateway["auth"])
    assert listed.status_code == 200 and [b["reference"] for b in listed.json()] == [reference]


def test_staff_see_handoffs_with_a_link_to_the_conversation(gateway, clinic):
    request_handoff(
        gateway["database_url"],
        clinic,
        "whatsapp:+447400123456",
        "whatsapp",
        "urgent",
        local(clinic, "2026-11-23 10:00"),
        detail="infection_signs",
    )
    handoffs = httpx.get(f"{gateway['url']}/api/staff/handoffs", headers=gateway["auth"]).json()
    assert [(h["reason"], h["detail"], h["conversation_url"]) for h in handoffs] == [
        ("urgent", "infection_signs", "/api/staff/conversations/whatsapp%3A%2B447400123456")
    ]
