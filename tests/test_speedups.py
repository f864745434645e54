"""The faster action-response check accepts and refuses exactly what Rasa's own check does."""

from __future__ import annotations

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction

from clinic_nlu import speedups

VALID = [
    {"events": [], "responses": []},
    {"events": [{"event": "slot", "name": "booking_name", "value": "Sam"}], "responses": []},
    {"responses": [{"text": "hi", "buttons": [{"title": "Yes", "payload": "/affirm"}]}]},
    {},
]
INVALID = [
    {"events": "not a list"},
    {"events": [{"name": "booking_name"}]},  # an event without its type
    {"events": [{"event": "slot"}], "responses": "nope"},
    [],
]


def original_check(result) -> str | None:
    """Rasa 3.6's own check: jsonschema.validate against the response schema."""
    try:
        jsonschema.validate(result, RemoteAction.action_response_format_spec())
    except jsonschema.ValidationError as error:
        return error.message
    return None


def test_the_patch_is_installed_when_the_components_are_imported():
    assert RemoteAction._validate_action_result is speedups._validate_action_result


@pytest.mark.parametrize("result", VALID)
def test_valid_responses_pass(result):
    assert original_check(result) is None
    assert speedups._validate_action_result(None, result) is True


@pytest.mark.parametrize("result", INVALID)
def test_invalid_responses_raise_the_same_error(result):
    expected = original_check(result)
    assert expected is not None
    with pytest.raises(jsonschema.ValidationError) as raised:
        speedups._validate_action_result(None, result)
    assert raised.value.message.startswith(expected + ". Failed to validate Action server")
