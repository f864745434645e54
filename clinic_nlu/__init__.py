"""Custom Rasa NLU components: thin adapters that run the clinic's own checks inside Rasa.

Importing this package (Rasa does when it loads the model, also in `rasa shell` and `rasa test`)
masks patients' details in every log line of the process (`clinic.redaction`), and applies
`speedups` and `resilience` to the Rasa server.
"""

from clinic import redaction

redaction.install()

from clinic_nlu import resilience, speedups  # noqa: E402 (after the logs are masked)

speedups.apply()
resilience.apply()
