"""When the action server cannot run an action, give up the whole message instead of going on.

Rasa catches every error of an action, logs it and carries on predicting without the action's
events: the patient gets a half answer (or none) and the conversation goes on in a state that
never happened, a booking form without its validation, say. Here a failed action-server call
(refused, 5xx, timed out) becomes `ActionServerUnavailable`, which Rasa's `except Exception` does
not catch: the message ends before anything of it is saved, the lock is released, it leaves
Rasa's agent as `MessageGivenUp`, and the gateway's input channel answers 503, so the gateway
gives the patient the clinic's number (on the phone line, the front desk). When the action
server is back, the patient's next message carries on from the last saved turn. Nothing
half-written is left: the tracker is saved only at the end of a message, and the booking actions
are idempotent per conversation.

Every call to the action server also gets a time limit (`ACTION_TIMEOUT_SECONDS`, default 10)
instead of Rasa's five minutes.
"""

from __future__ import annotations

import asyncio
import logging
import os

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT_SECONDS = 10.0


class ServiceUnavailable(BaseException):
    """Something the message needs is down; the message is given up as a whole.

    A BaseException on purpose: Rasa catches `Exception` from actions (and goes on without their
    events) and from the tracker store (and goes on with an empty conversation in memory)."""


class ActionServerUnavailable(ServiceUnavailable):
    """The action server could not run an action."""

    def __init__(self, action: str) -> None:
        super().__init__(action)
        self.action = action


class TrackerStoreUnavailable(ServiceUnavailable):
    """The conversation could not be read or saved."""


class MessageGivenUp(RuntimeError):
    """What leaves Rasa's agent when a message was given up: an ordinary error again, so every
    input channel answers it as a failure (the gateway's with 503, Rasa's REST one with 500)."""


def timeout_seconds() -> float:
    try:
        return float(os.environ.get("ACTION_TIMEOUT_SECONDS", DEFAULT_TIMEOUT_SECONDS))
    except ValueError:
        return DEFAULT_TIMEOUT_SECONDS


def apply() -> None:
    """Wrap Rasa's RemoteAction.run and Agent.handle_message (once per process), and shorten
    the action server's time limit."""
    from rasa.core.actions import action as rasa_action
    from rasa.core.agent import Agent
    from rasa.shared.exceptions import RasaException

    rasa_action.DEFAULT_REQUEST_TIMEOUT = timeout_seconds()
    remote = rasa_action.RemoteAction
    if getattr(remote.run, "_clinic_resilient", False):
        return
    original = remote.run
    original_handle = Agent.handle_message

    async def handle_message(self, message):
        # Outside the processor and the conversation's lock (released by now).
        try:
            return await original_handle(self, message)
        except ServiceUnavailable as unavailable:
            raise MessageGivenUp(type(unavailable).__name__) from unavailable

    async def run(self, output_channel, nlg, tracker, domain):
        try:
            return await original(self, output_channel, nlg, tracker, domain)
        except rasa_action.ActionExecutionRejection:
            raise  # a form's validation said no: Rasa's normal flow
        except (RasaException, asyncio.TimeoutError) as error:
            logger.error(
                "action server could not run %s (%s): the message is given up",
                self.name(),
                type(error).__name__,
            )
            raise ActionServerUnavailable(self.name()) from error

    run._clinic_resilient = True  # type: ignore[attr-defined]
    remote.run = run
    Agent.handle_message = handle_message
