"""The gateway: the only process that faces the internet. The clinic API (and, next, the
platform webhooks and the web widget) over the clinic core and Rasa."""
