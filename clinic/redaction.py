"""Patients' details out of every log line, in every process (the gateway, Rasa and the action
server): `install()` once at the start of each process, and every log record created from then on
is masked before any handler, formatter or capture sees it.

What is masked, wherever it appears in a record's message, arguments, exception text, stack text
or `extra` fields:
- phone numbers in any writing (E.164, national, grouped with spaces, dots, dashes or brackets,
  compact with 10 to 14 digits, URL-encoded `%2B44...`): `[phone]`; Telegram chat ids in
  conversation ids (`telegram:123456789`): `telegram:[id]`;
- email addresses (also `%40`-encoded): `[email]`;
- message bodies and other patient content after a key: `text=...`, `Body=...`,
  `SpeechResult=...`, `"text": "..."`, `'value': ...`, and the keys Rasa's structured debug lines
  use for the patient's words, entities, slot values, events and tracker states
  (`parse_data_text`, `slot_values`, `rasa_events`, `current_states`...), in JSON, in Python
  reprs and in `key=value` form: the value becomes `[text]`;
- Rasa's own phrasings of user and bot text: `UserUttered(text: ...)`, `BotUttered(text: ...)`
  and `BotUttered('...', ...)`,
  `SlotSet(key: k, value: ...)`, `user text: ...` in tracker states, `Received user message
  '...'`, `Received NLG response: ...`, a categorical slot's value in its warning;
- the exact strings a process knows belong to the conversation at hand (`hiding(...)`: the action
  server hides each action call's sender id, latest message and personal slots, such as the
  booking name), case-insensitively: `[hidden]`.
Harmless structure stays: intent and action names, slot names, HTTP statuses, times, dates,
references (`B-9DPRFC`), ports.

The masking happens in a log-record factory (`logging.setLogRecordFactory`), so it applies
whichever logger or handler a record goes through, including handlers added later (Rasa's,
uvicorn's, pytest's). Records are created only for enabled levels, so only emitted lines pay.
`RedactingFilter` does the same on a handler, for records made some other way.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import re
import traceback
from collections.abc import Callable, Iterable, Iterator
from typing import Any

# ---------------------------------------------------------------- phone numbers, emails, ids

_PLUS = r"(?:\+|%2[Bb])"
_SEP = r"(?:[ \t-]|%20)"
# Digits in groups: +44 7400 123456, +44 (0)7400 123-456, 07400 123456, (0117) 496 0123, or dots
# throughout (06.12.34.56.78). Each is masked only with enough digits for a phone number (below).
_PHONE = re.compile(
    r"(?:(?<=%3A)|(?<=%3a)|(?<![\w.+\-]))(?:"
    rf"(?P<intl_compact>{_PLUS}\d{{7,15}})"
    rf"|(?P<intl>{_PLUS}{_SEP}?\d{{1,4}}(?:{_SEP}?\(0\){_SEP}?\d{{1,6}})?"
    rf"(?:{_SEP}?\(\d{{1,6}}\)|{_SEP}\d{{1,6}})*)"
    rf"|(?P<intl_dots>{_PLUS}\d{{1,4}}(?:\.\d{{1,6}}){{2,5}})"
    rf"|(?P<national>\(?0\d{{1,5}}\)?(?:{_SEP}\(?\d{{1,6}}\)?)+)"
    r"|(?P<national_dots>0\d{1,4}(?:\.\d{2,4}){2,5})"
    r"|(?P<us>\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4})"
    r"|(?P<compact>\d{10,14})"
    r")(?!\w|[:.]\d)"
)
_MIN_DIGITS = {
    "intl_compact": 7,
    "intl": 7,
    "intl_dots": 7,
    "national": 9,
    "national_dots": 9,
    "us": 10,
}
# Starts only where a run of such characters starts: linear time on long runs without an "@".
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+(?:@|%40)[\w-]+(?:\.[\w-]+)+")
_TELEGRAM_ID = re.compile(r"\b(telegram|tg)(:|%3A)-?\d+\b", re.IGNORECASE)


def _phone(match: re.Match) -> str:
    kind = match.lastgroup or "compact"
    digits = sum(c.isdigit() for c in re.sub(r"%[0-9A-Fa-f]{2}", " ", match.group(0)))
    return "[phone]" if digits >= _MIN_DIGITS.get(kind, 10) else match.group(0)


# ---------------------------------------------------------------- content after a key

# Keys whose value is the patient's (or the bot's) words or anything derived from them.
CONTENT_KEYS = (
    # message bodies: our channels, Twilio's form fields, Telegram and Meta payloads
    "text|message|body|speechresult|unstablespeechresult|transcript|caption|value|entities"
    "|metadata|latest_message|events|slots|first_name|last_name|username|from|contacts|profile"
    "|chat_id|wa_id|phone"
    # the clinic's personal slots when a slot dict is printed
    "|booking_name|booking_phone|channel_phone|booking_concern|screening_answer|screening_answers"
    # Rasa's structured (structlog) debug keys that carry the patient's words or slot values
    "|user_text|response_text|parse_data_text|parse_data_entities|slot_values|slot_candidates"
    "|prefilled_slots|prediction_events|tracker_latest_message|rasa_event|rasa_events"
    "|tracker_states|current_states|old_states|states|successes|current_entity|next_entity"
    "|token_text|user_message|json_message|response|locals"
)
# `"text": ...`, `'value': ...`, and `\"text\": ...` inside a JSON string.
_QUOTED_KEY = re.compile(rf"""(?P<q>\\*["'])(?:{CONTENT_KEYS})(?P=q)\s*:\s*(?=\S)""", re.IGNORECASE)
# `text=...`, `Body=...` (form fields, query strings, structlog's console lines).
_EQUALS_KEY = re.compile(rf"(?<![\w\-])(?:{CONTENT_KEYS})=(?!=)", re.IGNORECASE)
# Rasa's reprs and tracker states: `UserUttered(text: ..., intent: ...)`, `SlotSet(key: k,
# value: ...)`, `BotUttered(text: ..., data: ..., metadata: ...)`, `[state 2] user text: ... |`.
_COLON_KEY = re.compile(
    r"(?<![\w\-\"'])(?:text|entities|value|data|metadata|user text|previous action text"
    r"|user entities):[ \t]"
)
# Where an unquoted value ends: the next key, a separator of Rasa's state listing, the end of
# an event's repr, or the end of the line.
_NEXT_KEYS = (
    "intent|entities|use_text_for_featurization|data|metadata|key|value|action|policy"
    "|confidence|timestamp|trigger_date|name"
)
_VALUE_END = re.compile(
    r"[&,;][ \t]*[\w.\-]+=(?!=)"
    rf"|,[ \t]*(?:{_NEXT_KEYS}):[ \t]"
    r"|[ \t]+\|[ \t]"
    r"|[ \t]+[a-z_]+=(?!=)"
    r"|\)(?=[ \t]*(?:$|\n|[\]'\"]|,[ \t]*[A-Z]\w*\())"
    r"|\n",
    re.MULTILINE,
)

# Rasa's phrasings (processor, forms, actions, slots, the SDK) that print content without a key:
# what follows the opening, up to the closing (or the end of the line).
_BETWEEN = [
    ("Received user message '", re.compile(r"' with intent|\n")),
    ("BotUttered('", re.compile(r"', (?:\{|null)|\n")),
    ("is set to a value ('", re.compile(r"'\)|\n")),
]
_TO_END_OF_LINE = re.compile(
    r"((?:Received NLG response|Contents of ignored event|Current tracker state):?[ \t]*)\S.*",
    re.IGNORECASE,
)


def _mask_between(text: str, opening: str, closing: re.Pattern) -> str:
    """Mask what follows each `opening` up to `closing`; linear in the text's length."""
    pieces, position = [], 0
    while (start := text.find(opening, position)) >= 0:
        start += len(opening)
        close = closing.search(text, start)
        end = close.start() if close else len(text)
        pieces += [text[position:start], "[text]" if end > start else ""]
        position = end
    pieces.append(text[position:])
    return "".join(pieces)


def _literal_end(text: str, start: int) -> int:
    """Where the JSON or Python literal (string, list, dict, tuple or bare word) at `start` ends."""
    first = text[start]
    if first == "\\":  # a string inside a JSON string: \"...\"
        escape = re.match(r"\\+[\"']", text[start:])
        if escape:
            closing = text.find(escape.group(0), start + len(escape.group(0)))
            return len(text) if closing < 0 else closing + len(escape.group(0))
    if first in "\"'":
        i = start + 1
        while i < len(text):
            if text[i] == "\\":
                i += 2
                continue
            if text[i] == first:
                return i + 1
            i += 1
        return len(text)
    if first in "[{(":
        depth, quote, i = 0, "", start
        while i < len(text):
            c = text[i]
            if quote:
                if c == "\\":
                    i += 1
                elif c == quote:
                    quote = ""
            elif c in "\"'":
                quote = c
            elif c in "[{(":
                depth += 1
            elif c in "]})":
                depth -= 1
                if depth == 0:
                    return i + 1
            i += 1
        return len(text)
    end = re.compile(r"[^,}\]\n]*").match(text, start)
    return end.end() if end else start


def _free_text_end(text: str, start: int) -> int:
    if start < len(text) and text[start] in "\"'[{(\\":
        return _literal_end(text, start)
    stop = _VALUE_END.search(text, start)
    return stop.start() if stop else len(text)


def _placeholder(value: str) -> str:
    if not value or value in ("null", "None", "''", '""', "[]", "{}", "()"):
        return value
    quote = re.match(r"\\*[\"']", value)
    return f"{quote.group(0)}[text]{quote.group(0)}" if quote else "[text]"


def _mask_values(text: str, key: re.Pattern, value_end: Callable[[str, int], int]) -> str:
    pieces, position, search_from = [], 0, 0
    while found := key.search(text, search_from):
        start = found.end()
        end = value_end(text, start) if start < len(text) else start
        value = text[start:end]
        kept = value.rstrip()
        masked = _placeholder(kept)
        if masked != kept:
            pieces += [text[position:start], masked, value[len(kept) :]]
            position = end
        search_from = max(end, start)
    pieces.append(text[position:])
    return "".join(pieces)


# ---------------------------------------------------------------- values known to the process

_HIDDEN: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar(
    "clinic_redaction_hidden", default=()
)


@contextlib.contextmanager
def hiding(*values: Any) -> Iterator[None]:
    """Within the block (this task or thread only), mask these exact strings in every log line,
    whatever the line's shape: a name, a phone number, a message. Strings shorter than 4
    characters are ignored (they would mask ordinary words)."""
    known = tuple(
        sorted(
            {v.strip() for v in values if isinstance(v, str) and len(v.strip()) >= 4},
            key=len,
            reverse=True,
        )
    )
    token = _HIDDEN.set(_HIDDEN.get() + known)
    try:
        yield
    finally:
        _HIDDEN.reset(token)


def _hide(text: str, values: Iterable[str]) -> str:
    for value in values:
        if value.lower() in text.lower():
            text = re.sub(re.escape(value), "[hidden]", text, flags=re.IGNORECASE)
    return text


# ---------------------------------------------------------------- the whole line


def redact(text: str, hidden: Iterable[str] = ()) -> str:
    """The text with phone numbers, emails, ids, message bodies and known values masked."""
    if not text:
        return text
    text = _hide(text, tuple(hidden) + _HIDDEN.get())
    for opening, closing in _BETWEEN:
        if opening in text:
            text = _mask_between(text, opening, closing)
    text = _TO_END_OF_LINE.sub(r"\1[text]", text)
    text = _mask_values(text, _QUOTED_KEY, _literal_end)
    text = _mask_values(text, _EQUALS_KEY, _free_text_end)
    text = _mask_values(text, _COLON_KEY, _free_text_end)
    text = _EMAIL.sub("[email]", text)
    text = _TELEGRAM_ID.sub(r"\1\2[id]", text)
    return _PHONE.sub(_phone, text)


# ---------------------------------------------------------------- log records

_STANDARD_ATTRIBUTES = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
    "taskName",
    "_clinic_extras_redacted",
}
_TRACEBACKS = logging.Formatter()


def _redact_argument(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, bytes):
        return redact(value.decode("utf-8", "replace"))
    try:
        text = str(value)
    except Exception:  # an object that cannot even print itself carries nothing to log
        return "[unprintable]"
    masked = redact(text)
    return value if masked == text else masked


def scrub(record: logging.LogRecord) -> logging.LogRecord:
    """Mask the record's message (keeping `args` usable where formatters read them, as
    uvicorn's access formatter does), its exception and stack text. Idempotent."""
    if record.name == "py.warnings" and isinstance(record.args, tuple) and record.args:
        record.args = (str(record.args[0]).rstrip("\n"), *record.args[1:])  # one line, not two
    try:
        message = logging.LogRecord.getMessage(record)
    except Exception:  # a bad format string: logging reports it later; mask what we have
        message = str(record.msg)
    masked = redact(message)
    if masked != message:
        args = record.args
        if args and isinstance(record.msg, str):
            if isinstance(args, dict):
                args = {k: _redact_argument(v) for k, v in args.items()}
            else:
                args = tuple(_redact_argument(a) for a in args)
            try:
                candidate = record.msg % args
            except Exception:
                candidate = None
            if candidate is not None and redact(candidate) == candidate:
                record.args = args
            else:
                record.msg, record.args = masked, ()
        else:
            record.msg, record.args = masked, ()
    if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
        try:
            record.exc_text = _TRACEBACKS.formatException(record.exc_info)
        except Exception:
            record.exc_text = "".join(traceback.format_exception_only(*record.exc_info[:2]))
    if record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    return record


def _scrub_extras(record: logging.LogRecord) -> None:
    """`extra={...}` fields are set on a record after the factory made it (Sanic's access log
    puts the request line there): they are masked the first time the message is read."""
    if record.__dict__.get("_clinic_extras_redacted"):
        return
    record.__dict__["_clinic_extras_redacted"] = True
    for key, value in list(record.__dict__.items()):
        if key not in _STANDARD_ATTRIBUTES and isinstance(value, str):
            record.__dict__[key] = redact(value)


class RedactedLogRecord(logging.LogRecord):
    """A record whose `extra` fields are masked before any formatter reads them (every
    formatter reads the message first)."""

    def getMessage(self) -> str:  # noqa: N802 (logging's name)
        _scrub_extras(self)
        return super().getMessage()


class RedactingFilter(logging.Filter):
    """Masks each record a handler (or logger) sees: message, arguments, exception, extras."""

    def filter(self, record: logging.LogRecord) -> bool:
        scrub(record)
        _scrub_extras(record)
        return True


def _redacting_factory(previous: Callable[..., logging.LogRecord]) -> Callable[..., Any]:
    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        if type(record) is logging.LogRecord:
            record.__class__ = RedactedLogRecord
        return scrub(record)

    factory.clinic_redacting = True  # type: ignore[attr-defined]
    return factory


def install() -> None:
    """Mask every log record this process creates from now on; warnings (Rasa reports some
    slot values as warnings) go through logging, and so through the mask, too. Calling it
    again does nothing."""
    current = logging.getLogRecordFactory()
    if not getattr(current, "clinic_redacting", False):
        logging.setLogRecordFactory(_redacting_factory(current))
    logging.captureWarnings(True)


def installed() -> bool:
    """Whether `install()` has run in this process."""
    return bool(getattr(logging.getLogRecordFactory(), "clinic_redacting", False))
