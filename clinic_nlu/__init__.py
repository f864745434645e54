"""Custom Rasa NLU components: thin adapters that run the clinic's own checks inside Rasa."""
