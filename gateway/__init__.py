"""The gateway: the only process that faces the internet. The clinic API, the platform webhooks
and the web widget over the clinic core and Rasa.

Importing the package masks patients' details in every log line of the process first
(`clinic.redaction`), before uvicorn or any route logs anything.
"""

from clinic import redaction

redaction.install()
