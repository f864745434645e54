"""What every channel route needs: the settings, the shared conversation path, the platforms."""

from __future__ import annotations

from fastapi import Request

from gateway.channels.conversation import Conversations
from gateway.channels.outbound import Platform


def conversations(request: Request) -> Conversations:
    """The shared path, created once per process at start-up."""
    return request.app.state.conversations


def platform(request: Request, name: str) -> Platform:
    """A retrying client for one platform, sharing the process's HTTP connection pool."""
    return Platform(name, request.app.state.http)
