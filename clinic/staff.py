"""Staff tokens for the staff API: one per member of staff, kept only as a SHA-256 hash.

    python -m clinic staff add "Jo Reilly"     # prints the token once
    python -m clinic staff list
    python -m clinic staff revoke "Jo Reilly"

A token is 32 random bytes (URL-safe base64 after a `stf_` prefix); the database holds its hash,
so a copy of the database does not let anyone in. Issuing and revoking are written to the audit
log.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from clinic.privacy import write_audit
from clinic.store import StaffMember, database_session

PREFIX = "stf_"


class StaffError(ValueError):
    """A staff name already taken, or unknown."""


def token_hash(token: str) -> str:
    """The SHA-256 of a token, as stored."""
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(database_url: str, name: str, now: datetime, by: str = "cli") -> str:
    """A new token for a new member of staff; only its hash is kept."""
    name = " ".join(name.split())
    if not name or len(name) > 120:
        raise StaffError("a staff name needs 1 to 120 characters")
    token = PREFIX + secrets.token_urlsafe(32)
    try:
        with database_session(database_url) as session:
            session.add(StaffMember(name=name, token_hash=token_hash(token), created_at=now))
    except IntegrityError as error:
        raise StaffError(f"there is already a member of staff called {name!r}") from error
    write_audit(database_url, by, "token-issued", f"staff:{name}", now)
    return token


def revoke_token(database_url: str, name: str, now: datetime, by: str = "cli") -> None:
    """Revoke a member of staff's token (it stops working at once)."""
    with database_session(database_url) as session:
        member = session.execute(
            select(StaffMember).where(StaffMember.name == " ".join(name.split()))
        ).scalar_one_or_none()
        if member is None:
            raise StaffError(f"no member of staff called {name!r}")
        if member.revoked_at is None:
            member.revoked_at = now
    write_audit(database_url, by, "token-revoked", f"staff:{member.name}", now)


def staff_members(database_url: str) -> list[StaffMember]:
    """Every member of staff ever issued a token, by name."""
    with database_session(database_url) as session:
        return list(session.execute(select(StaffMember).order_by(StaffMember.name)).scalars())


def authenticate(database_url: str, token: str, now: datetime) -> StaffMember | None:
    """The member of staff this token belongs to, if it is theirs and not revoked."""
    if not token.startswith(PREFIX):
        return None
    with database_session(database_url) as session:
        member = session.execute(
            select(StaffMember).where(StaffMember.token_hash == token_hash(token))
        ).scalar_one_or_none()
        if member is None or member.revoked_at is not None:
            return None
        member.last_used_at = now
        return member
