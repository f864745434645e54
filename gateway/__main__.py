"""`python -m gateway`: serve the gateway with uvicorn on GATEWAY_HOST:GATEWAY_PORT."""

import uvicorn

from gateway.core.config import gateway_settings

settings = gateway_settings()
uvicorn.run(
    "gateway.main:app",
    host=settings.host,
    port=settings.port,
    proxy_headers=True,
    server_header=False,
    access_log=False,  # access lines would carry phone numbers and references in URLs
    ws="none",  # no websockets here; Rasa pins an older `websockets` than uvicorn's default wants
)
