"""The pieces that make a message fail whole when something it needs is down (the whole stack's
behaviour is in tests/test_cluster.py): Rasa's action-server call and its tracker store."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.core.tracker_store import FailSafeTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

import clinic_nlu  # noqa: F401  (applies the resilience patch, as Rasa's model loading does)
from clinic_channel.tracker_store import ResilientSQLTrackerStore
from clinic_nlu.resilience import (
    ActionServerUnavailable,
    ServiceUnavailable,
    TrackerStoreUnavailable,
)
from stack.fake_platforms import serve
from tests.conftest import ROOT
from tests.test_rest_channel import free_port

DOMAIN = Domain.load(str(ROOT / "domain"))


@pytest.fixture(scope="module")
def action_server():
    """An action server that rejects validate_* (as a form's validation may), fails with 500 on
    action_complete_booking, and is slow on action_tell_location."""
    app = FastAPI()

    @app.post("/webhook")
    async def webhook(body: dict):
        name = body["next_action"]
        if name.startswith("validate_"):
            return JSONResponse({"action_name": name, "error": "no"}, status_code=400)
        if name == "action_complete_booking":
            return JSONResponse({"error": "boom"}, status_code=500)
        if name == "action_tell_location":
            await asyncio.sleep(3)
        return {"events": [], "responses": [{"text": "fine"}]}

    port = free_port()
    server = serve(app, port)
    yield f"http://127.0.0.1:{port}/webhook"
    server.should_exit = True


def run_action(name: str, url: str):
    tracker = DialogueStateTracker.from_events("s", [ActionExecuted("action_listen")], DOMAIN.slots)
    action = RemoteAction(name, EndpointConfig(url))
    return asyncio.run(
        action.run(
            CollectingOutputChannel(), TemplatedNaturalLanguageGenerator({}), tracker, DOMAIN
        )
    )


def test_an_answering_action_server_is_used_as_before(action_server):
    events = run_action("action_tell_opening_hours", action_server)
    assert [e.text for e in events] == ["fine"]


def test_a_form_rejection_is_still_rasa_s_normal_flow(action_server):
    with pytest.raises(ActionExecutionRejection):
        run_action("validate_booking_form", action_server)


def test_a_failing_refused_or_slow_action_server_gives_up_the_message(action_server, monkeypatch):
    with pytest.raises(ActionServerUnavailable) as failed:
        run_action("action_complete_booking", action_server)
    assert failed.value.action == "action_complete_booking"
    closed = f"http://127.0.0.1:{free_port()}/webhook"
    with pytest.raises(ActionServerUnavailable):
        run_action("action_tell_opening_hours", closed)
    # The time limit replaces Rasa's five minutes (ACTION_TIMEOUT_SECONDS; 1 s here).
    from rasa.core.actions import action as rasa_action

    monkeypatch.setattr(rasa_action, "DEFAULT_REQUEST_TIMEOUT", 1)
    with pytest.raises(ActionServerUnavailable):
        run_action("action_tell_location", action_server)
    # Not an Exception: Rasa's `except Exception` around actions must not swallow it.
    assert not issubclass(ServiceUnavailable, Exception)


def test_a_broken_tracker_database_fails_the_message_instead_of_starting_afresh(tmp_path):
    db = tmp_path / "tracker.db"
    store = FailSafeTrackerStore(ResilientSQLTrackerStore(DOMAIN, dialect="sqlite", db=str(db)))
    tracker = store.init_tracker("patient")
    tracker.update(UserUttered("hello", {"name": "greet", "confidence": 1.0}))
    asyncio.run(store.save(tracker))
    assert asyncio.run(store.retrieve("patient")).latest_message.text == "hello"

    with sqlite3.connect(db) as connection:  # the database breaks under the store
        connection.execute("DROP TABLE events")
    # Rasa's fail-safe wrapper would have returned no conversation (a stranger) and kept the
    # next save in memory only; the resilient store's error goes through it.
    with pytest.raises(TrackerStoreUnavailable):
        asyncio.run(store.retrieve("patient"))
    with pytest.raises(TrackerStoreUnavailable):
        asyncio.run(store.save(tracker))
    assert asyncio.run(store.fallback_tracker_store.retrieve("patient")) is None
