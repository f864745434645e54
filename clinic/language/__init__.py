"""The clinic's spaCy pipeline, built from the vocabulary, shared by Rasa and the core."""
