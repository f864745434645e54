"""Custom Rasa NLU components: thin adapters that run the clinic's own checks inside Rasa.

Importing this package (Rasa does when it loads the model) also applies `speedups`.
"""

from clinic_nlu import speedups

speedups.apply()
