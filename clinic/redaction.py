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

# International (+44 7400 123456) or national (07400 123456) numbers: 9 to 14 more digits.
PHONE = re.compile(r"(?<![\w.:+-])(?:\+\d|0)(?:[\s.-]?\d){8,14}(?![\w:])")
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


def install(logger: logging.Logger | None = None) -> RedactingFilter:
    """Put the filter on every handler of the logger (the root logger by default)."""
    target = logger or logging.getLogger()
    redacting = RedactingFilter()
    for handler in target.handlers:
        handler.addFilter(redacting)
    return redacting
