"""The Rasa input channel the gateway talks to: one endpoint for every platform, which tells Rasa
the patient's channel so that responses can vary by channel (`channel: phone` variants).

Rasa imports this package when it starts the server (credentials.yml names the channel, and
endpoints.yml its tracker store), so importing it masks patients' details in every log line of
the Rasa process from then on (`clinic.redaction`); while a message is handled, its text is
masked too, whatever line it turns up in.
"""

from clinic import redaction

redaction.install()


def _hide_messages_in_logs() -> None:
    """Wrap Rasa's message processor (once) so each message is handled inside
    `redaction.hiding(its text)`."""
    from rasa.core.processor import MessageProcessor

    if getattr(MessageProcessor.handle_message, "clinic_hiding", False):
        return
    original = MessageProcessor.handle_message

    async def handle_message(self, message):
        with redaction.hiding(getattr(message, "text", None)):
            return await original(self, message)

    handle_message.clinic_hiding = True  # type: ignore[attr-defined]
    MessageProcessor.handle_message = handle_message


_hide_messages_in_logs()
