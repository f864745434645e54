"""Custom Rasa NLU components: thin adapters that run the clinic's own checks inside Rasa.

Importing this package (Rasa does when it loads the model) also applies `speedups` and
`resilience` to the Rasa server.
"""

from clinic_nlu import resilience, speedups

speedups.apply()
resilience.apply()
