"""One fix to Rasa 3.6's hot path, applied when the model's custom components are imported.

Rasa checks every action server response with `jsonschema.validate(result, schema)`, which first
validates the *schema itself* against the JSON Schema meta-schema (draft 2020-12, with its
`$dynamicRef`s), on every call. Profiling `make bench` with py-spy showed that check taking 40%
of the Rasa server's time under load. The schema is a constant, so it is checked once here and
the compiled validator reused; each response is still validated in full, and an invalid one
raises the same `ValidationError` with the same message as before.
"""

from __future__ import annotations

import functools
from typing import Any

from jsonschema import ValidationError, exceptions, validators
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL


@functools.lru_cache(maxsize=1)
def _response_validator() -> Any:
    schema = RemoteAction.action_response_format_spec()
    cls = validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    """RemoteAction._validate_action_result with the validator compiled once."""
    error = exceptions.best_match(_response_validator().iter_errors(result))
    if error is None:
        return True
    assert isinstance(error, ValidationError)
    error.message += (
        ". Failed to validate Action server response from API, "
        "make sure your response from the Action endpoint is valid. "
        f"For more information about the format visit {DOCS_BASE_URL}/custom-actions"
    )
    raise error


def apply() -> None:
    """Install the faster check (idempotent)."""
    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]
