"""Read a conversation back from Rasa's SQL tracker store, for staff picking up a handoff."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

from clinic.store import engine_for


@dataclass(frozen=True)
class Line:
    """One message in a conversation."""

    at: datetime
    speaker: str  # "patient" or "assistant"
    text: str


TRACKER_EVENTS = "events"


def has_tracker_events(engine: Engine) -> bool:
    """Whether Rasa has created its events table in this database yet (it does at its start)."""
    return inspect(engine).has_table(TRACKER_EVENTS)


def conversation_lines(
    tracker_database_url: str, conversation_id: str, limit: int = 200
) -> list[Line]:
    """The last `limit` patient and assistant messages of a conversation, oldest first."""
    query = text(
        "SELECT timestamp, type_name, data FROM events "
        "WHERE sender_id = :sender AND type_name IN ('user', 'bot') "
        "ORDER BY id DESC LIMIT :limit"
    )
    engine = engine_for(tracker_database_url)
    if not has_tracker_events(engine):
        return []
    with engine.connect() as connection:
        rows = connection.execute(query, {"sender": conversation_id, "limit": limit}).all()
    lines = []
    for timestamp, type_name, data in reversed(rows):
        payload = json.loads(data or "{}")
        lines.append(
            Line(
                at=datetime.fromtimestamp(float(timestamp), tz=timezone.utc),
                speaker="patient" if type_name == "user" else "assistant",
                text=payload.get("text") or "",
            )
        )
    return lines
