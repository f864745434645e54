"""Patients' details out of every log line: a logging filter for the gateway, Rasa and the action
server (work in progress for the privacy issue; not yet installed on the processes).

What is masked, wherever it appears in a record's message or arguments:
- phone numbers (E.164 or national, with spaces, dots or dashes): `[phone]`;
- email addresses: `[email]`;
- anything after `text=`, `message=`, `"text":` or `'text':` up to the end of the value: `[text]`
  (Rasa's debug lines print the patient's words that way);
- names given to the filter (the clinic's patients are not known to it, so the callers pass what
  they know, e.g. the booking name of the conversation at hand).
"""

from __future__ import annotations

import logging
import re

# International or national numbers, written compact (+447400123456) or in groups
# (+44 7400 123456, 07400 123456, 0117-496-0123).
PHONE = re.compile(
    r"(?<![\w.+-])(?:"
    r"(?:\+\d{1,3}[\s.-]?|0)\d{2,6}(?:[\s.-]\d{2,6}){1,3}"
    r"|\+?\d{10,15}"
    r")(?![\w:])"
)
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
TEXT_FIELD = re.compile(
    r"""(?P<key>\b(?:text|message|SpeechResult|Body)\b\s*[=:]\s*|["'](?:text|message)["']\s*:\s*)"""
    r"""(?P<value>"[^"]*"|'[^']*'|[^,)}\]\n]*)""",
    re.IGNORECASE,
)


def redact(text: str) -> str:
    """The text with phone numbers, emails and message bodies masked."""
    text = TEXT_FIELD.sub(lambda m: f"{m.group('key')}[text]", text)
    text = EMAIL.sub("[email]", text)
    return PHONE.sub("[phone]", text)


class RedactingFilter(logging.Filter):
    """Rewrites each record's message (its arguments applied) with `redact`."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = str(record.msg)
        record.msg, record.args = redact(message), None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def install(*loggers: logging.Logger) -> RedactingFilter:
    """Put the filter on every handler of the loggers (the root logger by default), once."""
    redacting = RedactingFilter()
    for target in loggers or (logging.getLogger(),):
        for handler in target.handlers:
            if not any(isinstance(f, RedactingFilter) for f in handler.filters):
                handler.addFilter(redacting)
    return redacting
