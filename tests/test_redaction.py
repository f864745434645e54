"""The log redaction (clinic/redaction.py): what it masks, what it leaves, and that it catches
records whichever logger, handler or formatter they go through, Rasa's own lines included."""

from __future__ import annotations

import json
import logging
import time

import pytest
from rasa.core.policies.policy import Policy
from rasa.shared.core.events import BotUttered, SlotSet, UserUttered
from rasa.utils.log_utils import HumanConsoleRenderer
from structlog.processors import JSONRenderer

from clinic import redaction
from clinic.redaction import RedactingFilter, hiding, redact

NAME = "Philippa Quennell-Drabble"
DETAILS = ["philippa", "quennell", "pregnant", "isotretinoin", "keloid", "cold sore", "7400918461"]


def leaks(text: str) -> list[str]:
    digits = "".join(c for c in text if c.isdigit() or c.isalpha() or c == " ")
    squeezed = digits.replace(" ", "")
    return [d for d in DETAILS if d in text.lower() or (d.isdigit() and d in squeezed)]


@pytest.fixture(autouse=True)
def installed():
    redaction.install()


def test_phone_numbers_emails_and_message_bodies_are_masked():
    line = (
        "sender +447400123456 called from 07400 123456, email sam.jones@example.com, "
        "text=I am pregnant and take isotretinoin, channel=web"
    )
    masked = redact(line)
    assert masked == "sender [phone] called from [phone], email [email], text=[text], channel=web"
    assert redact('{"text": "I have herpes", "intent": "inform"}') == (
        '{"text": "[text]", "intent": "inform"}'
    )
    # Conversation ids carry the number: "GET /api/staff/conversations/whatsapp:+447400123456".
    line = "GET /api/staff/conversations/whatsapp:+447400123456 200"
    assert redact(line) == "GET /api/staff/conversations/whatsapp:[phone] 200"


@pytest.mark.parametrize(
    "phone",
    [
        "+447400918461",
        "+44 7400 918461",
        "+44 (0)7400 918 461",
        "+44-7400-918-461",
        "07400 918461",
        "07400-918-461",
        "07400918461",
        "447400918461",
        "(07400) 918461",
        "0117 496 0123",
        "+1 (415) 555-0134",
        "415-555-0134",
        "06.12.34.56.78",
        "%2B447400918461",
        "whatsapp%3A%2B447400918461",
    ],
)
def test_every_writing_of_a_phone_number_is_masked(phone):
    masked = redact(f"call me on {phone} please")
    assert "[phone]" in masked and not any(c.isdigit() for c in masked.replace("%3A", ":"))


def test_emails_ids_and_form_fields_are_masked():
    assert redact("from philippa.qd@example.org") == "from [email]"
    assert redact("to philippa.qd%40example.org") == "to [email]"
    assert redact("conversation telegram:7391046628 locked") == "conversation telegram:[id] locked"
    form = "Body=I%27m+14+weeks+pregnant&From=%2B447400918461&SpeechResult=cold+sore&CallSid=CA1"
    assert redact(form) == "Body=[text]&From=[text]&SpeechResult=[text]&CallSid=CA1"
    update = {"message": {"chat": {"id": 7391046628}, "from": {"first_name": "Philippa"}}}
    assert redact(json.dumps(update)) == '{"message": [text]}'
    contacts = {"contacts": [{"profile": {"name": NAME}, "wa_id": "447400918461"}], "id": "1"}
    assert redact(json.dumps(contacts)) == '{"contacts": [text], "id": "1"}'


@pytest.mark.parametrize(
    "keep",
    [
        "2026-11-24 13:30",
        "2026-11-22 00:09:23,123",
        "B-9DPRFC and S-4KQ2ZP",
        "status 503 after 20 s",
        "port 5005",
        "http://127.0.0.1:5005/webhooks/rest/webhook",
        "telegram sendMessage: HTTP 503 (attempt 1)",
        "Predicted next action 'utter_faq/pain' with confidence 0.98.",
        "There is a rule for the next action 'screening_form'.",
        "Request next slot 'booking_phone'",
        "probabilities 0.9812 0.0123 0.0021",
        "timestamp 1732200000.123456",
        "update_id 123456789",
        '{"parse_data_intent": {"name": "inform", "confidence": 0.97}, "level": "debug"}',
        "Validating extracted slots: booking_name",
    ],
)
def test_harmless_structure_is_left_alone(keep):
    assert redact(keep) == keep


@pytest.mark.parametrize(
    "piece",
    ["x", "+1-", "a.", " ", "1", "BotUttered('", "Received user message '", '"text": [', "text: "],
)
def test_long_lines_a_patient_could_write_are_masked_in_linear_time(piece):
    started = time.monotonic()
    redact(piece * (100_000 // len(piece)))
    assert time.monotonic() - started < 1.0


def test_rasa_event_reprs_keep_their_structure_and_lose_their_content():
    entities = [
        {"entity": "CONDITION", "value": "pregnant", "start": 9, "end": 17},
        {"entity": "MEDICATION", "value": "isotretinoin", "start": 30, "end": 42},
    ]
    user = UserUttered(
        "I'm 14 weeks pregnant and on isotretinoin (keloid too)",
        intent={"name": "inform", "confidence": 0.9},
        entities=entities,
    )
    assert redact(str(user)) == (
        "UserUttered(text: [text], intent: inform, entities: [text], "
        "use_text_for_featurization: None)"
    )
    slot = SlotSet("booking_name", NAME)
    assert redact(repr(slot)) == "SlotSet(key: booking_name, value: [text])"
    events = repr([slot, SlotSet("booking_phone", "+447400918461")])
    assert redact(events) == (
        "[SlotSet(key: booking_name, value: [text]), SlotSet(key: booking_phone, value: [text])]"
    )
    bot = BotUttered(f"Thanks {NAME}", {"buttons": [{"title": "Yes"}]}, {"utter_action": "x"})
    for shown in (str(bot), repr(bot)):
        assert not leaks(redact(shown)) and "BotUttered(" in redact(shown)
    states = [
        {"user": {"text": "I have a cold sore on my lip"}, "prev_action": {"action_name": "x"}},
        {"user": {"intent": "inform"}, "prev_action": {"action_name": "action_listen"}},
    ]
    formatted = redact(Policy.format_tracker_states(states))
    assert "user text: [text] | previous action name: x" in formatted
    assert "user intent: inform | previous action name: action_listen" in formatted


def rasa_debug_lines() -> list[str]:
    """Rasa's structured debug lines as its JSON renderer (no terminal) and its console renderer
    (a terminal) print them, with the keys Rasa uses (processor, forms, policies)."""
    user = UserUttered(f"I'm {NAME}, 14 weeks pregnant", intent={"name": "inform"})
    events = [
        {
            "event": "processor.message.parse",
            "parse_data_text": f"I'm {NAME}, I take isotretinoin",
            "parse_data_intent": {"name": "inform", "confidence": 0.9},
            "parse_data_entities": [{"entity": "MEDICATION", "value": "isotretinoin"}],
        },
        {"event": "processor.slots.log", "slot_values": [f"booking_name: {NAME}"]},
        {"event": "processor.actions.log", "action_name": "x", "rasa_events": [str(user)]},
        {"event": "forms.slots.validate", "slot_candidates": {"booking_phone": "07400 918461"}},
        {"event": "forms.validation.required", "tracker_latest_message": {"text": "keloid"}},
        {"event": "rule_policy.actions.find", "current_states": "user text: cold sore"},
        {"event": "rest.message.received.failure", "text": "I have a cold sore"},
    ]
    lines = []
    for event in events:
        lines.append(JSONRenderer(default=repr)(None, "debug", {**event, "level": "debug"}))
        lines.append(HumanConsoleRenderer(colors=False)(None, "debug", dict(event)))
    return lines


def test_rasa_debug_lines_through_rasas_loggers_come_out_masked(caplog):
    lines = rasa_debug_lines()
    assert all(leaks(line) for line in lines)  # the lines do carry the details
    caplog.set_level(logging.DEBUG)
    for line in lines:
        logging.getLogger("rasa.core.processor").debug(line)
    logging.getLogger("rasa.core.actions.forms").debug(
        "The execution of 'action_extract_slots' resulted in these events: %s",
        "\n".join(repr(e) for e in [SlotSet("booking_name", NAME), SlotSet("x", "keloid")]),
    )
    logging.getLogger("rasa_sdk.executor").debug(
        "Contents of ignored event: '%s'", {"event": "slot", "value": "isotretinoin"}
    )
    logging.getLogger("rasa.shared.core.slots").warning(
        "Categorical slot 'x' is set to a value ('pregnant') that is not in the domain."
    )
    assert len(caplog.records) == len(lines) + 3
    assert leaks(caplog.text) == []
    assert "processor.message.parse" in caplog.text and "'action_extract_slots'" in caplog.text


def test_the_filter_rewrites_records_with_their_arguments(caplog):
    logger = logging.getLogger("redaction-test")
    logger.addFilter(RedactingFilter())
    with caplog.at_level(logging.INFO, logger="redaction-test"):
        logger.info("booking for %s on %s", "+44 7400 123456", "Tuesday")
    assert caplog.records[0].getMessage() == "booking for [phone] on Tuesday"


def test_records_are_masked_whichever_logger_made_them_and_keep_usable_arguments(caplog):
    caplog.set_level(logging.DEBUG)
    logging.getLogger("any.library").info("sent %s to %d chats", "Body=I'm pregnant", 3)
    [record] = caplog.records
    assert record.getMessage() == "sent Body=[text] to 3 chats" and record.args[1] == 3
    # A key in the format string and its value in an argument: the whole line is masked.
    logging.getLogger("any.library").info("text=%s", "I take isotretinoin")
    assert caplog.records[1].getMessage() == "text=[text]"


def test_uvicorn_access_lines_keep_their_arguments_for_its_formatter(caplog, monkeypatch):
    from uvicorn.logging import AccessFormatter

    access = logging.getLogger("uvicorn.access")
    # A uvicorn configured earlier in the same test run stops "uvicorn" propagating to the root,
    # where caplog listens: listen on the access logger itself.
    monkeypatch.setattr(access, "handlers", [*access.handlers, caplog.handler])
    monkeypatch.setattr(access, "disabled", False)
    caplog.set_level(logging.INFO, logger="uvicorn.access")
    access.info(
        '%s - "%s %s HTTP/%s" %d',
        "127.0.0.1:5000",
        "GET",
        "/api/staff/conversations/whatsapp:+447400918461?text=cold+sore",
        "1.1",
        200,
    )
    [record] = {id(r): r for r in caplog.records}.values()  # once, by either path
    line = AccessFormatter("%(client_addr)s %(request_line)s %(status_code)s").format(record)
    assert line == (
        "127.0.0.1:5000 GET /api/staff/conversations/whatsapp:[phone]?text=[text] HTTP/1.1 200 OK"
    )


def test_sanic_access_extras_and_exceptions_are_masked(caplog):
    caplog.set_level(logging.DEBUG)
    request = "GET http://127.0.0.1:5005/conversations/phone:+447400918461/tracker"
    logging.getLogger("sanic.access").info("", extra={"request": request, "status": 200})
    [access] = caplog.records
    formatted = logging.Formatter("%(request)s %(message)s %(status)d").format(access)
    assert formatted == "GET http://127.0.0.1:5005/conversations/phone:[phone]/tracker  200"
    number = "07400 918461"
    with hiding(NAME):
        try:
            raise ValueError(f"no booking for {NAME} on {number}: check it")
        except ValueError:
            logging.getLogger("gateway.channels.conversation").exception("booking lookup failed")
    assert leaks(caplog.text) == [] and "ValueError: no booking for [hidden] on [phone]" in (
        caplog.text
    )
    stack = logging.getLogger("x")
    stack.warning("where it was: %s", "text=keloid", stack_info=True)
    assert leaks(caplog.text) == []


def test_values_the_process_knows_are_hidden_inside_the_block_only(caplog):
    caplog.set_level(logging.INFO)
    with hiding(NAME, "Philippa", "Quennell", "yes", None):
        logging.getLogger("clinic").info("a booking for Philippa QUENNELL and yes")
    logging.getLogger("clinic").info("later: Philippa")
    first, second = (r.getMessage() for r in caplog.records)
    assert first == "a booking for [hidden] [hidden] and yes"  # short words are not hidden
    assert second == "later: Philippa"


def test_install_is_idempotent():
    factory = logging.getLogRecordFactory()
    redaction.install()
    redaction.install()
    assert logging.getLogRecordFactory() is factory and redaction.installed()


def test_every_process_installs_it_when_its_packages_are_imported():
    from rasa.core.processor import MessageProcessor
    from rasa_sdk.executor import ActionExecutor

    import actions
    import clinic_channel
    import clinic_nlu
    import gateway

    assert gateway and clinic_nlu and redaction.installed()
    assert getattr(ActionExecutor.run, "clinic_hiding", False)
    assert getattr(MessageProcessor.handle_message, "clinic_hiding", False) and clinic_channel
    values = actions._conversation_values(
        {
            "sender_id": "whatsapp:+447400918461",
            "tracker": {
                "latest_message": {"text": "I've had keloid scars"},
                "slots": {"booking_name": NAME, "booking_phone": "+447400918461", "x": "y"},
            },
        }
    )
    assert set(values) == {
        "I've had keloid scars",
        NAME,
        "+447400918461",
        "Philippa",
        "Quennell",
        "Drabble",
    }


async def test_the_action_server_hides_the_conversation_while_an_action_runs(caplog):
    from rasa_sdk import Action
    from rasa_sdk.executor import ActionExecutor

    import actions  # noqa: F401 (wraps the executor)

    class Chatty(Action):
        def name(self) -> str:
            return "action_chatty_test"

        def run(self, dispatcher, tracker, domain):
            logging.getLogger("actions.test").warning(
                "stored %s, said %r", tracker.get_slot("booking_name"), tracker.latest_message
            )
            return []

    executor = ActionExecutor()
    executor.register_action(Chatty)
    tracker = {
        "sender_id": "rest-1",
        "slots": {"booking_name": NAME},
        "latest_message": {"text": "I take isotretinoin", "intent": {"name": "inform"}},
        "events": [],
        "active_loop": {},
        "paused": False,
        "latest_event_time": None,
        "followup_action": None,
        "latest_action_name": None,
    }
    caplog.set_level(logging.WARNING)
    await executor.run({"next_action": "action_chatty_test", "tracker": tracker, "domain": {}})
    assert "stored [hidden]" in caplog.text and leaks(caplog.text) == []
