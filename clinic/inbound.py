"""Platform deliveries: each message id is handled once; long button payloads get short tokens;
options offered on channels without buttons can be chosen by number."""

from __future__ import annotations

import json
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from clinic.store import ButtonPayload, InboundMessage, PendingOptions, database_session


def first_delivery(database_url: str, channel: str, message_id: str, now: datetime) -> bool:
    """Record a platform message id; False if it was already handled (a replay or a retry).

    The unique constraint decides, so two gateways receiving the same retry handle it once."""
    try:
        with database_session(database_url) as session:
            session.add(
                InboundMessage(channel=channel, message_id=message_id[:128], received_at=now)
            )
        return True
    except IntegrityError:
        return False


def token_for_payload(database_url: str, payload: str, now: datetime) -> str:
    """A short token standing for a long button payload."""
    token = secrets.token_urlsafe(12)
    with database_session(database_url) as session:
        session.add(ButtonPayload(token=token, payload=payload, created_at=now))
    return token


def payload_for_token(database_url: str, token: str) -> str | None:
    """The payload a token stands for, if any."""
    with database_session(database_url) as session:
        return session.execute(
            select(ButtonPayload.payload).where(ButtonPayload.token == token)
        ).scalar_one_or_none()


def remember_options(
    database_url: str, conversation_id: str, payloads: list[str], now: datetime
) -> None:
    """Keep the options just offered (numbered on SMS, keypad on the phone line)."""
    with database_session(database_url) as session:
        row = session.get(PendingOptions, conversation_id)
        if row is None:
            session.add(
                PendingOptions(
                    conversation_id=conversation_id, payloads=json.dumps(payloads), updated_at=now
                )
            )
        else:
            row.payloads, row.updated_at = json.dumps(payloads), now


def option_for(database_url: str, conversation_id: str, number: int) -> str | None:
    """The payload of option `number` (from 1) last offered in a conversation, if any."""
    with database_session(database_url) as session:
        row = session.get(PendingOptions, conversation_id)
        payloads = json.loads(row.payloads) if row else []
    return payloads[number - 1] if 1 <= number <= len(payloads) else None
