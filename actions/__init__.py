"""Rasa custom actions: thin adapters from the conversation to the clinic core.

Importing the package (the action server does first) masks patients' details in every log line
of the process (`clinic.redaction`); while an action runs, the conversation's latest message
and personal slots (the booking name, phone number, concern) are masked too, whatever line they
turn up in.

The spaCy pipeline with ConText is loaded when the action server starts, not in a patient's
first health question: loading takes seconds, and under load that is longer than Rasa waits for
an action (ACTION_TIMEOUT_SECONDS).
"""

from clinic import redaction

redaction.install()

# The slots that hold what patients tell about themselves (a name, a number, their concern).
PERSONAL_SLOTS = ("booking_name", "booking_phone", "channel_phone", "booking_concern")


def _conversation_values(action_call: dict) -> list[str]:
    """The strings of this action call that belong to the patient: the latest message, the
    personal slots, and each word of the booking name."""
    tracker = action_call.get("tracker") or {}
    slots = tracker.get("slots") or {}
    latest = tracker.get("latest_message") or {}
    values = [latest.get("text")]
    values += [slots.get(name) for name in PERSONAL_SLOTS]
    name = slots.get("booking_name")
    if isinstance(name, str):
        values += name.replace("-", " ").split()
    return [v for v in values if isinstance(v, str)]


def _hide_conversations_in_logs() -> None:
    """Wrap the SDK's executor (once) so each action runs inside `redaction.hiding(...)`."""
    from rasa_sdk.executor import ActionExecutor

    if getattr(ActionExecutor.run, "clinic_hiding", False):
        return
    original = ActionExecutor.run

    async def run(self, action_call):
        values = _conversation_values(action_call) if isinstance(action_call, dict) else []
        with redaction.hiding(*values):
            return await original(self, action_call)

    run.clinic_hiding = True  # type: ignore[attr-defined]
    ActionExecutor.run = run


_hide_conversations_in_logs()

from actions.context import language_pipeline  # noqa: E402 (after the logs are masked)

language_pipeline()
