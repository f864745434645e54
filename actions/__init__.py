"""Rasa custom actions: thin adapters from the conversation to the clinic core.

The spaCy pipeline with ConText is loaded when the action server starts (it imports this package
first), not in a patient's first health question: loading takes seconds, and under load that is
longer than Rasa waits for an action (ACTION_TIMEOUT_SECONDS).
"""

from actions.context import language_pipeline

language_pipeline()
