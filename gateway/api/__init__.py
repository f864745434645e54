"""The gateway's HTTP API: one module per resource in `routes/`, models in `models.py`."""
