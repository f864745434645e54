"""The log redaction filter (privacy issue, work in progress)."""

from __future__ import annotations

import logging

from clinic.redaction import RedactingFilter, redact


def test_phone_numbers_emails_and_message_bodies_are_masked():
    line = (
        "sender +447400123456 called from 07400 123456, email sam.jones@example.com, "
        "text=I am pregnant and take isotretinoin, channel=web"
    )
    masked = redact(line)
    assert "447400123456" not in masked and "07400 123456" not in masked
    assert "sam.jones@example.com" not in masked
    assert "pregnant" not in masked and "isotretinoin" not in masked
    assert masked.endswith("channel=web")
    assert '"text": [text]' in redact('{"text": "I have herpes", "intent": "inform"}')
    # Conversation ids carry the number: "GET /api/staff/conversations/whatsapp:+447400123456".
    line = "GET /api/staff/conversations/whatsapp:+447400123456 200"
    assert redact(line) == "GET /api/staff/conversations/whatsapp:[phone] 200"


def test_times_dates_and_references_are_left_alone():
    for keep in ["2026-11-24 13:30", "B-9DPRFC", "status 503 after 20 s", "port 5005"]:
        assert redact(keep) == keep


def test_the_filter_rewrites_records_with_their_arguments(caplog):
    logger = logging.getLogger("redaction-test")
    logger.addFilter(RedactingFilter())
    with caplog.at_level(logging.INFO, logger="redaction-test"):
        logger.info("booking for %s on %s", "+44 7400 123456", "Tuesday")
    assert caplog.records[0].getMessage() == "booking for [phone] on Tuesday"
