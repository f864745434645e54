"""`make bench`: speed and memory, against the stock Rasa assistant."""
