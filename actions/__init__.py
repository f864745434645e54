"""Rasa custom actions: thin adapters from the conversation to the clinic core."""
