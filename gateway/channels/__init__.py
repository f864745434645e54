"""The platforms patients write or call from, one module each, over one shared path
(`conversation.py`): verify, drop replays, rate-limit, ask Rasa, render, send."""
