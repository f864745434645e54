"""Rasa's SQL tracker store, made to fail whole when the database is down and to ride out a restart.

Rasa wraps every tracker store in a fail-safe one: when the database cannot be read it carries on
with an empty conversation in memory, and when it cannot be written it keeps the conversation in
memory only. A patient in the middle of a booking would be greeted as a stranger, and what they
said would be lost at the next restart. Here a database error becomes `TrackerStoreUnavailable`,
which the fail-safe wrapper does not catch: the message is given up before anything is saved, the
gateway gives the patient the clinic's number, and the next message after the database is back
carries on from the last saved turn.

When the patient asks to delete their data, the turn that erased it is not saved: the
conversation's events are deleted instead (see `erasure_in_latest_turn`).

Rasa's engine also hands out pooled connections without checking them, so after PostgreSQL
restarts the first message on each stale connection would fail. Here every connection is checked
before use (`pool_pre_ping`) and connecting gives up after a few seconds.

    tracker_store:
      type: clinic_channel.tracker_store.ResilientSQLTrackerStore
      dialect: postgresql        (or sqlite)
      ...                        (the same settings as Rasa's `type: SQL`)
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.exc import SQLAlchemyError

from clinic_nlu.resilience import TrackerStoreUnavailable

CONNECT_TIMEOUT_SECONDS = 5
# Set by action_erase_data (actions/privacy.py) when the patient's data has been erased.
ERASED_SLOT = "data_erased"


class ResilientSQLTrackerStore(SQLTrackerStore):
    """SQLTrackerStore that fails whole, with PostgreSQL connections checked before use."""

    def __init__(self, domain: Domain | None = None, **kwargs: Any) -> None:
        super().__init__(domain, **kwargs)
        url = self.engine.url
        if url.get_backend_name() != "postgresql":
            return
        options = create_engine_kwargs(url)
        connect_args = options.pop("connect_args", {})
        connect_args["connect_timeout"] = CONNECT_TIMEOUT_SECONDS
        self.engine.dispose()
        self.engine = sa.create_engine(
            url, pool_pre_ping=True, connect_args=connect_args, **options
        )
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        with _unavailable_on_database_error():
            return await super().retrieve(sender_id)

    async def retrieve_full_tracker(self, conversation_id: str) -> DialogueStateTracker | None:
        with _unavailable_on_database_error():
            return await super().retrieve_full_tracker(conversation_id)

    async def save(self, tracker: DialogueStateTracker) -> None:
        with _unavailable_on_database_error():
            erased = erasure_in_latest_turn(tracker)
            if erased is None:
                await super().save(tracker)
                return
            # "Delete my data": the conversation's events (and those of the patient's other
            # conversations) are removed instead of saved. Rasa would otherwise write the whole
            # conversation back, since the table no longer holds any of it.
            conversations = {tracker.sender_id, *erased.get("conversations", ())}
            with self.session_scope() as session:
                session.query(self.SQLEvent).filter(
                    self.SQLEvent.sender_id.in_(sorted(conversations))
                ).delete(synchronize_session=False)
                session.commit()


def erasure_in_latest_turn(tracker: DialogueStateTracker) -> dict | None:
    """The `data_erased` slot's value if an action set it since the patient's last message."""
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            return None
        if isinstance(event, SlotSet) and event.key == ERASED_SLOT and event.value:
            return event.value if isinstance(event.value, dict) else {}
    return None


@contextlib.contextmanager
def _unavailable_on_database_error() -> Iterator[None]:
    """A database error leaves as TrackerStoreUnavailable, past Rasa's fail-safe wrapper."""
    try:
        yield
    except SQLAlchemyError as error:
        raise TrackerStoreUnavailable(type(error).__name__) from error
