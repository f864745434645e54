"""The clinic core: plain Python that knows the clinic, its patients' safety and its records.

Nothing here imports Rasa or FastAPI; the Rasa actions and the gateway are thin adapters over it.
"""
